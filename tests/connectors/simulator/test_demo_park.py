"""The demo plant file: what `hazwatch demo` shows must look like a real chemical park."""

from __future__ import annotations

import pytest

from hazwatch.connectors.simulator import DEMO_INCIDENTS
from hazwatch.connectors.simulator.model import Role, compile_plant
from hazwatch.connectors.simulator.substance import substance_of
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.tag import ConditionKind

# GB 18218-2018 Table 1 critical quantities (t), by CAS.
CRITICAL_T = {"7782-50-5": 5.0, "7664-41-7": 10.0, "68476-85-7": 50.0}


def test_region_park_and_enterprises(spec: PlantSpec) -> None:
    assert spec.region == "demo-region"
    assert [p.key for p in spec.parks] == ["demo-park"]
    park = spec.parks[0]
    assert park.location is not None
    assert len(park.enterprises) >= 3
    for enterprise in park.enterprises:
        assert enterprise.location is not None
        # Neighbours of one park: within about 3 km of its centre.
        assert abs(enterprise.location.lat - park.location.lat) < 0.03
        assert abs(enterprise.location.lon - park.location.lon) < 0.03
        assert any("\u4e00" <= ch <= "\u9fff" for ch in enterprise.name), enterprise.name
        assert any(ch.isascii() and ch.isalpha() for ch in enterprise.name), enterprise.name


def test_tag_count_and_periods(spec: PlantSpec) -> None:
    keys = spec.tag_keys()
    assert 40 <= len(keys) <= 80
    tags = [
        t
        for p in spec.parks
        for e in p.enterprises
        for s in e.sites
        for i in s.installations
        for q in i.equipment
        for t in q.tags
    ]
    assert all(1 <= t.period_s <= 10 for t in tags)
    assert all(t.offline_after_s is None for t in tags)


@pytest.mark.parametrize("cas", sorted(CRITICAL_T))
def test_inventories_exceed_their_critical_quantity(spec: PlantSpec, cas: str) -> None:
    held = sum(
        inv.quantity_t
        for p in spec.parks
        for e in p.enterprises
        for s in e.sites
        for i in s.installations
        for inv in i.inventories
        if inv.cas == cas
    )
    assert held > CRITICAL_T[cas]


def test_every_known_chemical_is_recognised(spec: PlantSpec) -> None:
    inventories = [
        inv
        for p in spec.parks
        for e in p.enterprises
        for s in e.sites
        for i in s.installations
        for inv in i.inventories
    ]
    assert all(substance_of(inv) is not None for inv in inventories)


def test_gas_detector_set_points(spec: PlantSpec) -> None:
    """GB/T 50493-2019: combustible 25/50 %LEL; toxic level 2 is twice level 1."""
    tags = [
        t
        for p in spec.parks
        for e in p.enterprises
        for s in e.sites
        for i in s.installations
        for q in i.equipment
        for t in q.tags
    ]
    lel = [t for t in tags if t.unit == "%LEL"]
    toxic = [t for t in tags if t.unit == "ppm"]
    assert lel and toxic
    for t in lel:
        assert (t.limits[ConditionKind.H].value, t.limits[ConditionKind.HH].value) == (25, 50)
    for t in toxic:
        h, hh = t.limits[ConditionKind.H].value, t.limits[ConditionKind.HH].value
        assert hh == pytest.approx(2 * h, rel=0.02)
        assert t.frozen_after_s is None  # detectors legitimately sit at zero


def test_vessels_compressors_and_detectors_are_recognised(spec: PlantSpec) -> None:
    model = compile_plant(spec)
    roles = {Role(int(r)) for r in model.role}
    assert roles >= {
        Role.LEVEL,
        Role.TEMPERATURE,
        Role.PRESSURE,
        Role.SUCTION_PRESSURE,
        Role.DISCHARGE_PRESSURE,
        Role.DISCHARGE_TEMPERATURE,
        Role.GAS,
        Role.GENERIC,
    }
    assert len(model.vessels) >= 5
    assert any(inst.refrigeration for inst in model.installations)


def test_demo_incidents_name_tags_of_the_demo_park(spec: PlantSpec) -> None:
    keys = set(spec.tag_keys())
    assert {i.tag for i in DEMO_INCIDENTS} <= keys
    assert {i.kind for i in DEMO_INCIDENTS} == {"overfill", "leak", "frozen", "offline"}
    assert all(i.end_s <= 60 * 60 for i in DEMO_INCIDENTS)
