"""Tags declared at run time: created under their equipment, never inventing the plant."""

from __future__ import annotations

from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import TagDeclaration
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository


def test_new_equipment_and_tags_are_created_below_an_existing_installation(
    db: Database, spec: PlantSpec
) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    storage = repo.node_by_keys(["jiangsu", "east", "acid", "main", "storage"])
    assert storage is not None
    declared = repo.declare(
        [
            TagDeclaration(
                key="acid.main.storage.edge-1.flow",
                name="Flow",
                unit="m3/h",
                range_lo=50,
                range_hi=0,
                period_s=2,
            ),
            TagDeclaration(key="acid.main.storage.edge-1.pump-on"),
        ]
    )
    assert declared.created == ["acid.main.storage.edge-1.flow", "acid.main.storage.edge-1.pump-on"]
    assert declared.refused == {}
    flow = repo.tag_by_key("acid.main.storage.edge-1.flow")
    assert flow is not None
    assert (flow.name, flow.unit, flow.range_lo, flow.range_hi, flow.period_s) == (
        "Flow",
        "m3/h",
        0,
        50,
        2,
    )
    assert flow.scope_path.startswith(storage.path)
    edge = repo.node(flow.scope_id)
    assert edge is not None and edge.key == "edge-1" and edge.kind.value == "equipment"
    assert flow in repo.tags_in(Grant((storage.path,)))
    pump = repo.tag_by_key("acid.main.storage.edge-1.pump-on")
    assert pump is not None and pump.scope_id == flow.scope_id, "one equipment node, not two"


def test_declaring_again_changes_nothing_and_the_plant_file_stays_the_authority(
    db: Database, spec: PlantSpec
) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    existing = repo.tags()[0]
    again = repo.declare([TagDeclaration(key=existing.key, name="renamed by a device", unit="x")])
    assert again.created == [] and again.refused == {}
    assert repo.tag_by_key(existing.key) == existing


def test_a_source_cannot_invent_enterprises_sites_or_installations(
    db: Database, spec: PlantSpec
) -> None:
    repo = PlantRepository(db)
    repo.save(spec)
    before = len(repo.tags())
    declared = repo.declare(
        [
            TagDeclaration(key="rogue.main.storage.e.t"),
            TagDeclaration(key="acid.nowhere.storage.e.t"),
            TagDeclaration(key="acid.main.storage.too-short"),
        ]
    )
    assert declared.created == []
    assert "no enterprise rogue" in declared.refused["rogue.main.storage.e.t"]
    assert "no site acid.nowhere" in declared.refused["acid.nowhere.storage.e.t"]
    assert "five parts" in declared.refused["acid.main.storage.too-short"]
    assert len(repo.tags()) == before
