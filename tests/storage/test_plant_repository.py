"""Storing a plant file: round trip, idempotent re-import, changes, moves, and reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.storage.database import Database
from hazwatch.storage.errors import ConflictError, NotFoundError
from hazwatch.storage.plant_repository import PlantRepository


def _node_count(spec: PlantSpec) -> int:
    count = 1
    for park in spec.parks:
        count += 1
        for ent in park.enterprises:
            count += 1
            for site in ent.sites:
                count += 1
                for inst in site.installations:
                    count += 1 + len(inst.equipment)
    return count


def _installations_with_inventory(spec: PlantSpec) -> int:
    return sum(
        1
        for p in spec.parks
        for e in p.enterprises
        for s in e.sites
        for i in s.installations
        if i.inventories
    )


def test_save_then_export_gives_the_file_back(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    summary = repo.save(spec)
    assert summary.nodes_created == _node_count(spec)
    assert summary.tags_created == len(spec.tag_keys())
    assert summary.inventories_changed == _installations_with_inventory(spec)
    assert (summary.nodes_updated, summary.tags_updated, summary.orphaned) == (0, 0, ())
    assert summary.changed
    assert repo.export() == spec
    assert repo.export(spec.region) == spec


def test_reimporting_the_same_file_or_its_export_changes_nothing(
    db: Database, spec: PlantSpec
) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    tags_before = repo.tags()
    nodes_before = repo.nodes(Grant.everything())
    again = repo.save(spec)
    assert not again.changed
    assert again.orphaned == ()
    assert not repo.save(repo.export()).changed
    assert repo.tags() == tags_before
    assert repo.nodes(Grant.everything()) == nodes_before


def test_tags_carry_the_declared_values_and_their_equipment_path(
    db: Database, spec: PlantSpec
) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    tags = {t.key: t for t in repo.tags()}
    assert list(tags) == spec.tag_keys()
    level = tags["acid.main.storage.t101.level"]
    declared = spec.parks[0].enterprises[0].sites[0].installations[0].equipment[0].tags[0]
    assert (level.unit, level.range_lo, level.range_hi) == (declared.unit, *declared.range)
    assert level.period_s == declared.period_s
    assert level.frozen_after_s == declared.frozen_after_s
    assert level.offline_after_s is None
    assert {lim.kind for lim in level.limits} == set(declared.limits)
    for lim in level.limits:
        spec_limit = declared.limits[lim.kind]
        assert (lim.value, lim.priority, lim.deadband, lim.on_delay_s) == (
            spec_limit.value,
            spec_limit.priority,
            spec_limit.deadband,
            spec_limit.on_delay_s,
        )
    equipment = repo.node(level.scope_id)
    assert equipment is not None
    assert equipment.kind is ScopeKind.EQUIPMENT
    assert equipment.key == "t101"
    assert level.scope_path == equipment.path
    assert repo.tag_by_key(level.key) == level
    assert repo.tag_by_key("acid.nope") is None


def test_a_changed_file_updates_creates_and_orphans(
    db: Database, plant_data: dict[str, Any]
) -> None:
    repo = PlantRepository(db)
    repo.save(PlantSpec.model_validate(plant_data))
    before = {t.key: t for t in repo.tags()}
    acid = plant_data["parks"][0]["enterprises"][0]
    tank, detector = acid["sites"][0]["installations"][0]["equipment"]
    tank["tags"][0]["limits"]["HH"]["value"] = 11.5
    tank["tags"][1]["name"] = "Temperature"
    tank["tags"].append({"key": "flow", "unit": "m3/h", "range": [0, 50]})
    detector["tags"].clear()
    acid["name"] = "Acid Works Ltd"
    acid["sites"][0]["installations"][0]["inventories"][0]["tonnes"] = 20
    changed = PlantSpec.model_validate(plant_data)

    summary = repo.save(changed)

    assert summary.tags_created == 1
    assert summary.tags_updated == 2
    assert summary.nodes_created == 0
    assert summary.nodes_updated == 1
    assert summary.inventories_changed == 1
    assert summary.orphaned == ("acid.main.storage.g1.cl2",)
    after = {t.key: t for t in repo.tags()}
    assert after["acid.main.storage.g1.cl2"] == before["acid.main.storage.g1.cl2"]
    level = after["acid.main.storage.t101.level"]
    assert level.id == before[level.key].id
    hh = level.limit(ConditionKind.HH)
    assert hh is not None
    assert hh.value == 11.5
    assert after["acid.main.storage.t101.temp"].name == "Temperature"
    assert after["acid.main.storage.t101.flow"].limits == ()
    stored = [i.inventory.quantity_t for i in repo.inventories(Grant.everything())]
    assert 20 in stored
    assert not repo.save(changed).changed


def test_an_enterprise_moved_to_another_park_keeps_its_ids(
    db: Database, plant_data: dict[str, Any]
) -> None:
    repo = PlantRepository(db)
    repo.save(PlantSpec.model_validate(plant_data))
    salt_before = repo.node_by_keys(["jiangsu", "east", "salt"])
    tag_before = repo.tag_by_key("salt.main.brine.p1.pressure")
    assert salt_before is not None and tag_before is not None
    east, west = plant_data["parks"]
    west["enterprises"].append(east["enterprises"].pop(1))
    moved = PlantSpec.model_validate(plant_data)

    summary = repo.save(moved)

    assert (summary.nodes_created, summary.tags_created, summary.orphaned) == (0, 0, ())
    assert (summary.nodes_updated, summary.tags_updated) == (1, 0)  # tags follow their node
    assert repo.node_by_keys(["jiangsu", "east", "salt"]) is None
    salt = repo.node_by_keys(["jiangsu", "west", "salt"])
    west_node = repo.node_by_keys(["jiangsu", "west"])
    assert salt is not None and west_node is not None
    assert salt.id == salt_before.id
    assert salt.parent_id == west_node.id
    assert salt.path == f"{west_node.path}{salt.id}/"
    tag = repo.tag_by_key("salt.main.brine.p1.pressure")
    assert tag is not None
    assert tag.id == tag_before.id
    assert tag.scope_path.startswith(salt.path)
    pump = repo.node(tag.scope_id)
    assert pump is not None and pump.path == tag.scope_path
    exported = repo.export()
    # children are exported in creation order: salt was stored before steel
    assert [e.key for e in exported.parks[1].enterprises] == ["salt", "steel"]
    assert [e.key for e in exported.parks[0].enterprises] == ["acid"]
    assert not repo.save(moved).changed
    assert not repo.save(exported).changed


def test_node_lookups(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    assert repo.node_by_keys() is None
    repo.save(spec)
    region = repo.node_by_keys()
    assert region is not None
    assert (region.kind, region.key, region.parent_id) == (ScopeKind.REGION, "jiangsu", None)
    assert repo.node_by_keys(["jiangsu"]) == region
    tank = repo.node_by_keys(["jiangsu", "east", "acid", "main", "storage", "t101"])
    assert tank is not None
    assert tank.name == "Tank 101"
    assert repo.node(tank.id) == tank
    assert repo.node(10_000) is None
    assert repo.node_by_keys(["jiangsu", "north"]) is None
    nodes = repo.nodes(Grant.everything())
    assert len(nodes) == _node_count(spec)
    by_id = {n.id: n for n in nodes}
    for node in nodes:
        if node.parent_id is not None:
            assert node.path == f"{by_id[node.parent_id].path}{node.id}/"


def test_locations_of_parks_and_enterprises(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    east = repo.node_by_keys(["jiangsu", "east"])
    acid = repo.node_by_keys(["jiangsu", "east", "acid"])
    assert east is not None and acid is not None
    places = repo.locations(Grant.everything())
    assert places == {
        east.id: spec.parks[0].location,
        acid.id: spec.parks[0].enterprises[0].location,
    }
    assert repo.locations(Grant((acid.path,))) == {acid.id: spec.parks[0].enterprises[0].location}


def test_search_tags_by_text_scope_and_page(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    everything = Grant.everything()
    assert [t.key for t in repo.search_tags(everything, q="LEVEL")] == [
        "acid.main.storage.t101.level"
    ]
    assert [t.key for t in repo.search_tags(everything, q="temp")] == [
        "acid.main.storage.t101.temp"
    ]
    assert repo.search_tags(everything, q="%") == []
    west = repo.node_by_keys(["jiangsu", "west"])
    assert west is not None
    assert [t.key for t in repo.search_tags(everything, scope_id=west.id)] == [
        "steel.mill.furnace.bf1.co"
    ]
    keys = spec.tag_keys()
    first = repo.search_tags(everything, limit=2)
    second = repo.search_tags(everything, limit=2, offset=2)
    assert [t.key for t in first + second] == keys[:4]
    assert first[0].limits == repo.tags()[0].limits


def test_tag_by_id_honours_the_grant(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    level = repo.tag_by_key("acid.main.storage.t101.level")
    assert level is not None
    assert repo.tag(level.id, Grant.everything()) == level
    steel = repo.node_by_keys(["jiangsu", "west", "steel"])
    assert steel is not None
    assert repo.tag(level.id, Grant((steel.path,))) is None
    assert repo.tag(10_000, Grant.everything()) is None


def test_export_names_its_region(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    with pytest.raises(NotFoundError):
        repo.export()
    repo.save(spec)
    other = PlantSpec(region="anhui")
    repo.save(other)
    with pytest.raises(ConflictError):
        repo.export()
    assert repo.export("anhui") == other
    assert repo.export("jiangsu") == spec
    with pytest.raises(NotFoundError):
        repo.export("hubei")


def test_orphans_are_counted_per_region(db: Database, spec: PlantSpec) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    assert repo.save(PlantSpec(region="anhui")).orphaned == ()
    assert repo.save(PlantSpec(region="jiangsu")).orphaned == tuple(spec.tag_keys())
    assert len(repo.tags()) == len(spec.tag_keys())


def test_a_large_plant_saves_and_loads_in_bulk(
    db: Database, make_plant: Callable[..., PlantSpec]
) -> None:
    spec = make_plant(enterprises=4, equipment=50, tags=100)
    repo = PlantRepository(db)
    summary = repo.save(spec)
    assert summary.tags_created == 20_000
    tags = repo.tags()
    assert [t.key for t in tags] == spec.tag_keys()
    assert all(len(t.limits) == 2 for t in tags)
    sample = tags[12_345]
    assert sample.range_hi == 100 + int(sample.key.rsplit("t", 1)[1])
    hh = sample.limit(ConditionKind.HH)
    assert hh is not None and hh.priority is Priority.MEDIUM
    assert hh.value == 90 + int(sample.key.rsplit("t", 1)[1]) % 10
    assert not repo.save(spec).changed
    one = repo.node_by_keys(["gen", "park", "e1"])
    assert one is not None
    assert len(repo.tags_in(Grant((one.path,)))) == 5_000
