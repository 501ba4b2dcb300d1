"""Grading a stored installation from live levels, on both backends: readings written
through the store, the highest level of each measured inventory over the period, and the
quantities and grade that follow, worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import HOUR_MS, MINUTE_MS
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.evaluate.gb18218 import Gb18218Error, MeasuredLevel, QuantityBasis
from hazwatch.runtime.evaluation import grade_installation, measured_levels
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository, StoredInstallation
from hazwatch.storage.readings.store import ReadingStore, open_reading_store

T0 = 1_800_000_000_000
KEY = "e.s.farm"


def _tank(key: str) -> dict[str, Any]:
    return {"key": key, "tags": [{"key": "level", "unit": "%", "range": [0, 100]}]}


INVENTORIES = [
    {"chemical": "chlorine", "cas": "7782-50-5", "volume_m3": 40, "density_t_per_m3": 1.5,
     "level_tag": "v-101.level"},
    {"chemical": "LPG", "volume_m3": 400, "density_t_per_m3": 0.5, "level_tag": "v-102.level",
     "shape": "sphere"},
    {"chemical": "diesel", "category": "W5.4", "tonnes": 300},
]  # fmt: skip
FARM = {
    "key": "farm",
    "people_within_500m": 0,
    "inventories": INVENTORIES,
    "equipment": [_tank("v-101"), _tank("v-102")],
}
PLANT = {
    "region": "r",
    "parks": [
        {
            "key": "p",
            "enterprises": [{"key": "e", "sites": [{"key": "s", "installations": [FARM]}]}],
        }
    ],
}


@pytest.fixture
def plants(db: Database) -> PlantRepository:
    repo = PlantRepository(db)
    repo.save(PlantSpec.model_validate(PLANT))
    return repo


@pytest.fixture
def store(db: Database) -> Iterator[ReadingStore]:
    opened = open_reading_store(db.engine)
    yield opened
    opened.close()


def _write(store: ReadingStore, plants: PlantRepository, tag: str, rows: list[Any]) -> None:
    found = plants.tag_by_key(f"{KEY}.{tag}")
    assert found is not None
    ts, value, quality = zip(*rows, strict=True)
    batch = Batch.of(tag=[found.id] * len(ts), ts=ts, value=value, quality=quality, received=T0)
    assert not store.write(batch).any()


@pytest.fixture
def installation(plants: PlantRepository, store: ReadingStore) -> StoredInstallation:
    good, bad = Quality.GOOD.value, Quality.BAD.value
    _write(store, plants, "v-101.level", [
        (T0 - 5 * HOUR_MS, 95.0, good),  # before the period
        (T0 - 2 * HOUR_MS, 60.0, good),
        (T0 - 90 * MINUTE_MS + 1_234, 80.0, good),  # the highest of the period
        (T0 - 30 * MINUTE_MS, 75.0, good),
        (T0 - 10 * MINUTE_MS, 99.0, bad),  # bad quality does not count
    ])  # fmt: skip
    _write(store, plants, "v-102.level", [
        (T0 - 2 * HOUR_MS, 20.0, good),
        (T0 - HOUR_MS - 7, 25.0, good),
        (T0 - 20 * MINUTE_MS, 10.0, good),
    ])  # fmt: skip
    found = plants.installation(KEY, Grant.everything())
    assert found is not None
    return found


def test_the_highest_levels_of_the_period_grade_the_installation(
    plants: PlantRepository, store: ReadingStore, installation: StoredInstallation
) -> None:
    start, end = T0 - 3 * HOUR_MS, T0
    levels = measured_levels(plants, store, installation, start, end)
    assert levels == {
        0: MeasuredLevel(tag=f"{KEY}.v-101.level", level_pct=80.0,
                         at=T0 - 90 * MINUTE_MS + 1_234, exact=True, start=start, end=end),
        1: MeasuredLevel(tag=f"{KEY}.v-102.level", level_pct=25.0,
                         at=T0 - HOUR_MS - 7, exact=True, start=start, end=end),
    }  # fmt: skip
    graded = grade_installation(installation, levels=levels)
    chlorine, lpg, diesel = graded.items
    assert [i.quantity for i in graded.items] == [
        QuantityBasis.LIVE, QuantityBasis.LIVE, QuantityBasis.DECLARED,
    ]  # fmt: skip
    # 40 m³ × 1.5 t/m³ × 0.80 = 48 t; a sphere at 25 %: 400 × 0.5 × 0.15625 = 31.25 t
    assert chlorine.q_t == 48
    assert float(lpg.q_t) == pytest.approx(31.25)
    assert diesel.q_t == 300
    # S = 48/5 + 31.25/50 + 300/5000 = 9.6 + 0.625 + 0.06 = 10.285; α 0.5 (nobody near)
    # R = 0.5 × (4 × 9.6 + 1.5 × 0.625 + 1 × 0.06) = 19.69875 → III
    assert float(graded.s) == pytest.approx(10.285)
    assert float(graded.r) == pytest.approx(19.69875)
    assert graded.grade is not None and graded.grade.value == "III"


def test_a_longer_period_takes_in_the_earlier_high(
    plants: PlantRepository, store: ReadingStore, installation: StoredInstallation
) -> None:
    levels = measured_levels(plants, store, installation, T0 - 6 * HOUR_MS, T0)
    assert (levels[0].level_pct, levels[0].at) == (95.0, T0 - 5 * HOUR_MS)
    # 40 × 1.5 × 0.95 = 57 t
    assert grade_installation(installation, levels=levels).items[0].q_t == 57


def test_inventories_without_readings_in_the_period_are_named(
    plants: PlantRepository, store: ReadingStore, installation: StoredInstallation
) -> None:
    # v-101 read only its bad 99 in the last quarter hour; v-102 nothing at all
    with pytest.raises(Gb18218Error) as caught:
        measured_levels(plants, store, installation, T0 - 15 * MINUTE_MS, T0)
    assert caught.value.problems == (
        "e.s.farm: inventories[0] (chlorine).level_tag: e.s.farm.v-101.level has no reading"
        " from 2027-01-15T07:45:00.000Z until 2027-01-15T08:00:00.000Z",
        "e.s.farm: inventories[1] (LPG).level_tag: e.s.farm.v-102.level has no reading"
        " from 2027-01-15T07:45:00.000Z until 2027-01-15T08:00:00.000Z",
    )
