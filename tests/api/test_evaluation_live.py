"""GB 18218 of a stored installation from live levels through the API, on both backends:
``quantities=live`` takes the highest level the inventory's level tag read over the period,
written here through the platform's reading store; a bad period or a tag without readings
answers 422 saying which."""

from __future__ import annotations

from typing import Any

import pytest

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS, iso
from hazwatch.domain.plant import PlantSpec
from hazwatch.runtime.platform import Platform
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository

Api = Any
T0 = 1_800_000_000_000  # the API's clock: a whole minute
PATH = "/installations/ea.s.i/gb18218"
TANK = {
    "chemical": "chlorine",
    "cas": "7782-50-5",
    "tonnes": 12,
    "volume_m3": 50,
    "density_t_per_m3": 1.5,
    "level_tag": "tank.level",
}


def _restore(api: Api, inventories: list[dict[str, Any]]) -> None:
    """Store the API's plant again with these inventories and 40 people (α 1.2) at ea.s.i."""
    db = Database.open(api.db_url)
    try:
        plants = PlantRepository(db)
        data = plants.export().model_dump(mode="json")
        inst = data["parks"][0]["enterprises"][0]["sites"][0]["installations"][0]
        assert inst["key"] == "i"
        inst.update(people_within_500m=40, inventories=inventories)
        plants.save(PlantSpec.model_validate(data))
    finally:
        db.close()


@pytest.fixture
def measured(api: Api) -> Api:
    """ea.s.i holds 12 t of chlorine declared, in a 50 m³ tank read by ea.s.i.tank.level."""
    _restore(api, [TANK, {"chemical": "diesel", "category": "W5.4", "tonnes": 300}])
    platform: Platform = api.client.app.state.platform
    good, bad = Quality.GOOD.value, Quality.BAD.value
    rows = [
        (T0 - 5 * HOUR_MS, 95.0, good),
        (T0 - 2 * HOUR_MS, 50.0, good),
        (T0 - 90 * MINUTE_MS, 80.0, good),
        (T0 - 30 * MINUTE_MS, 65.0, good),
        (T0 - 10 * MINUTE_MS, 99.0, bad),
    ]
    ts, value, quality = zip(*rows, strict=True)
    tag = api.tag_id("ea.s.i.tank.level")
    batch = Batch.of(tag=[tag] * len(ts), ts=ts, value=value, quality=quality, received=T0)
    assert not platform.readings.write(batch).any()
    return api


def _graded(api: Api, **params: Any) -> dict[str, Any]:
    response = api.get("op-a", PATH, params=params)
    assert response.status_code == 200, response.text
    (inst,) = response.json()["installations"]
    out: dict[str, Any] = inst
    return out


def test_live_takes_the_highest_level_of_the_period(measured: Api) -> None:
    start, end = T0 - 3 * HOUR_MS, T0
    inst = _graded(measured, quantities="live", start=iso(start), end=iso(end))
    chlorine, diesel = inst["items"]
    # the highest good reading in [T0 − 3 h, T0) is 80 %: 50 m³ × 1.5 t/m³ × 0.8 = 60 t
    assert (chlorine["q"], chlorine["quantity_basis"]) == (60, "live")
    assert chlorine["level"] == {
        "tag": "ea.s.i.tank.level",
        "highest_pct": 80,
        "at": iso(T0 - 90 * MINUTE_MS),
        "exact": True,
        "start": iso(start),
        "end": iso(end),
    }
    assert (
        f"highest level 80 % of ea.s.i.tank.level at {iso(T0 - 90 * MINUTE_MS)}"
        in (chlorine["quantity_detail"])
    )
    assert (diesel["q"], diesel["quantity_basis"]) == (300, "declared")
    # S = 60/5 + 300/5000 = 12.06; R = 1.2 × (4 × 12 + 1 × 0.06) = 57.672 → II
    assert inst["S"] == pytest.approx(12.06)
    assert inst["R"] == pytest.approx(57.672)
    assert (inst["major_hazard"], inst["grade"]) == (True, "II")


def test_declared_by_default_and_live_over_the_last_day(measured: Api) -> None:
    declared = _graded(measured)
    # 12 t declared: S = 2.4 + 0.06; R = 1.2 × (9.6 + 0.06) = 11.592 → III
    assert [i["quantity_basis"] for i in declared["items"]] == ["declared", "declared"]
    assert declared["items"][0]["q"] == 12
    assert declared["R"] == pytest.approx(11.592)
    assert declared["grade"] == "III"
    # by default the 24 hours up to the current minute: the 95 % of five hours ago counts,
    # 50 × 1.5 × 0.95 = 71.25 t; epoch milliseconds read as well as ISO 8601
    live = _graded(measured, quantities="live")
    assert live["items"][0]["q"] == pytest.approx(71.25)
    assert live["items"][0]["level"]["start"] == iso(T0 - DAY_MS)
    by_ms = _graded(measured, quantities="live", start=str(T0 - DAY_MS), end=str(T0))
    assert by_ms == live


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": iso(T0), "end": iso(T0 - HOUR_MS)}, "must lie after start"),
        ({"start": iso(T0 - 400 * DAY_MS), "end": iso(T0)}, "period too long"),
        ({"start": iso(T0 - HOUR_MS), "end": iso(T0 + MINUTE_MS)}, "lies in the future"),
        ({"start": "yesterday"}, "start: expected ISO 8601"),
        ({"end": "2027-01-15T08:00:00"}, "end: expected ISO 8601"),
    ],
)
def test_a_bad_period_answers_422_naming_it(
    measured: Api, params: dict[str, str], message: str
) -> None:
    response = measured.get("op-a", PATH, params={"quantities": "live", **params})
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_a_period_without_usable_readings_answers_422_naming_the_inventory(
    measured: Api,
) -> None:
    # only the bad-quality 99 % was read in the last quarter hour
    start, end = iso(T0 - 15 * MINUTE_MS), iso(T0)
    response = measured.get("op-a", PATH, params={"quantities": "live", "start": start, "end": end})
    assert response.status_code == 422
    assert response.json()["problems"] == [
        f"ea.s.i: inventories[0] (chlorine).level_tag: ea.s.i.tank.level has no reading"
        f" from {start} until {end}"
    ]


def test_a_period_only_with_live_and_a_known_source(measured: Api) -> None:
    alone = measured.get("op-a", PATH, params={"start": iso(T0 - HOUR_MS)})
    assert alone.status_code == 422
    assert alone.json()["detail"] == "start, end: only with quantities=live"
    unknown = measured.get("op-a", PATH, params={"quantities": "measured"})
    assert unknown.status_code == 422


def test_live_grading_keeps_the_callers_scope(measured: Api) -> None:
    response = measured.get("op-b", PATH, params={"quantities": "live"})
    assert response.status_code == 404
