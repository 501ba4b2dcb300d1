"""A stored installation graded from the highest levels measured: q is the tonnes the tank
held at that level through its shape, the item says so (``live``) with the reading and the
period; inventories without a measured level keep their declared quantity."""

from __future__ import annotations

import pytest

from hazwatch.domain.plant import InventorySpec, TankShape
from hazwatch.evaluate.gb18218 import Gb18218Error, MeasuredLevel, QuantityBasis
from hazwatch.evaluate.gb18218_document import identify_inventories

T0 = 1_800_000_000_000  # 2027-01-15T08:00:00Z
HOUR = 3_600_000

CHLORINE = InventorySpec(
    chemical="chlorine",
    cas="7782-50-5",
    tonnes=60,
    volume_m3=40,
    density_t_per_m3=1.5,
    level_tag="v-101.level",
)
LPG = InventorySpec(
    chemical="LPG",
    volume_m3=400,
    density_t_per_m3=0.5,
    level_tag="tk-201.level",
    shape=TankShape.SPHERE,
)


def _level(tag: str, pct: float, *, exact: bool = True) -> MeasuredLevel:
    return MeasuredLevel(
        tag=tag, level_pct=pct, at=T0 - HOUR, exact=exact, start=T0 - 24 * HOUR, end=T0
    )


def test_measured_levels_give_the_quantities() -> None:
    found = identify_inventories(
        id="e.s.farm",
        people_within_500m=0,
        inventories=[CHLORINE, LPG],
        levels={0: _level("e.s.farm.v-101.level", 80), 1: _level("e.s.farm.tk-201.level", 25)},
    )
    chlorine, lpg = found.items
    # vertical cylinder (the default shape): 40 m³ × 1.5 t/m³ × 0.80 = 48 t (Q 5, β 4)
    assert (chlorine.q_t, chlorine.quantity) == (48, QuantityBasis.LIVE)
    # sphere at h = 0.25: h²(3 − 2h) = 0.15625 of 400 m³ × 0.5 t/m³ = 31.25 t (Q 50, β 1.5)
    assert float(lpg.q_t) == pytest.approx(31.25)
    # S = 48/5 + 31.25/50 = 10.225; α 0.5 (nobody within 500 m);
    # R = 0.5 × (4 × 9.6 + 1.5 × 0.625) = 19.66875 → III
    assert float(found.s) == pytest.approx(10.225)
    assert float(found.r) == pytest.approx(19.66875)
    assert found.grade is not None and found.grade.value == "III"
    item = chlorine.as_json()
    assert item["quantity_basis"] == "live"
    assert item["quantity_detail"] == (
        "highest level 80 % of e.s.farm.v-101.level at 2027-01-15T07:00:00.000Z, over"
        " 2027-01-14T08:00:00.000Z – 2027-01-15T08:00:00.000Z:"
        " a 40 m³ vertical-cylinder × 1.5 t/m³"
    )
    assert item["level"] == {
        "tag": "e.s.farm.v-101.level",
        "highest_pct": 80,
        "at": "2027-01-15T07:00:00.000Z",
        "exact": True,
        "start": "2027-01-14T08:00:00.000Z",
        "end": "2027-01-15T08:00:00.000Z",
    }


def test_without_a_level_the_declared_quantity_stays() -> None:
    found = identify_inventories(
        id="e.s.farm",
        people_within_500m=0,
        inventories=[CHLORINE, LPG],
        levels={1: _level("e.s.farm.tk-201.level", 50)},
    )
    chlorine, lpg = found.items
    # the declared 60 t, not the tank's 40 × 1.5 = 60 t at full: the basis tells them apart
    assert (chlorine.q_t, chlorine.quantity, chlorine.quantity_detail) == (
        60, QuantityBasis.DECLARED, "60 t declared",
    )  # fmt: skip
    assert "level" not in chlorine.as_json()
    # a sphere half full holds half: 400 × 0.5 × 0.5 = 100 t
    assert (float(lpg.q_t), lpg.quantity) == (pytest.approx(100), QuantityBasis.LIVE)


def test_declared_quantities_ignore_the_tank_of_a_level_tag() -> None:
    found = identify_inventories(id="u", people_within_500m=0, inventories=[CHLORINE, LPG])
    chlorine, lpg = found.items
    assert (chlorine.q_t, chlorine.quantity) == (60, QuantityBasis.DECLARED)
    # without tonnes the declared quantity is the tank's: 400 × 0.5 × 1
    assert (lpg.q_t, lpg.quantity) == (200, QuantityBasis.TANK)


def test_a_level_past_the_span_counts_as_full_and_says_so() -> None:
    found = identify_inventories(
        id="u",
        people_within_500m=0,
        inventories=[CHLORINE],
        levels={0: _level("u.v-101.level", 100.4, exact=False)},
    )
    (chlorine,) = found.items
    assert chlorine.q_t == 60  # 40 × 1.5 × 1
    assert "100.4 %, counted 100 %" in chlorine.quantity_detail
    assert "in the minute from 2027-01-15T07:00:00.000Z" in chlorine.quantity_detail


def test_a_level_for_an_inventory_without_a_tank_is_refused() -> None:
    declared = InventorySpec(chemical="chlorine", tonnes=10)
    with pytest.raises(Gb18218Error) as caught:
        identify_inventories(
            id="u", people_within_500m=0, inventories=[declared], levels={0: _level("x", 50)}
        )
    (problem,) = caught.value.problems
    assert problem.startswith("u: inventories[0] (chlorine).level_tag: ")
