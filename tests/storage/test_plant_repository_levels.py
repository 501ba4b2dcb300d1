"""An inventory's level tag and tank shape survive import and export, change like any other
field of the inventory list, and are read back with the installation."""

from __future__ import annotations

from typing import Any

from sqlalchemy import inspect

from hazwatch.domain.plant import PlantSpec, TankShape
from hazwatch.domain.scope import Grant
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository

KEY = "acid.main.storage"


def _measured(plant_data: dict[str, Any], tag: str = "t101.level") -> PlantSpec:
    """The small plant with its tank t101 in per cent and two measured inventories."""
    storage = plant_data["parks"][0]["enterprises"][0]["sites"][0]["installations"][0]
    assert storage["key"] == "storage"
    level = storage["equipment"][0]["tags"][0]
    level.update(unit="%", range=[0, 100], limits={})
    storage["equipment"][0]["tags"].append({"key": "level2", "unit": "%", "range": [0, 100]})
    storage["inventories"] = [
        {"chemical": "chlorine", "cas": "7782-50-5", "tonnes": 60, "volume_m3": 48,
         "density_t_per_m3": 1.41, "level_tag": tag, "shape": "horizontal-cylinder"},
        {"chemical": "ammonia", "volume_m3": 100.0, "density_t_per_m3": 0.68,
         "level_tag": "t101.level2"},
        {"chemical": "diesel", "category": "W5.4", "tonnes": 300},
    ]  # fmt: skip
    return PlantSpec.model_validate(plant_data)


def test_level_tags_and_shapes_round_trip(db: Database, plant_data: dict[str, Any]) -> None:
    spec = _measured(plant_data)
    plants = PlantRepository(db)
    plants.save(spec)
    assert plants.export() == spec
    assert not plants.save(spec).changed


def _changed(spec: PlantSpec, index: int, **fields: object) -> PlantSpec:
    data = spec.model_dump(mode="json")
    inventories = data["parks"][0]["enterprises"][0]["sites"][0]["installations"][0]["inventories"]
    inventories[index].update(fields)
    return PlantSpec.model_validate(data)


def test_a_changed_shape_or_level_tag_rewrites_the_list_once(
    db: Database, plant_data: dict[str, Any]
) -> None:
    plants = PlantRepository(db)
    spec = _measured(plant_data)
    plants.save(spec)
    reshaped = _changed(spec, 0, shape="sphere")
    summary = plants.save(reshaped)
    assert (summary.inventories_changed, summary.nodes_updated, summary.tags_updated) == (1, 0, 0)
    unmeasured = _changed(reshaped, 1, level_tag=None)
    assert plants.save(unmeasured).inventories_changed == 1
    stored = plants.installation(KEY, Grant.everything())
    assert stored is not None
    assert [(i.level_tag, i.shape) for i in stored.inventories] == [
        ("t101.level", TankShape.SPHERE), (None, None), (None, None),
    ]  # fmt: skip
    assert plants.export() == unmeasured


def test_installation_and_inventories_read_the_level_tags(
    db: Database, plant_data: dict[str, Any]
) -> None:
    plants = PlantRepository(db)
    plants.save(_measured(plant_data))
    found = plants.installation(KEY, Grant.everything())
    assert found is not None
    chlorine = found.inventories[0]
    assert (chlorine.level_tag, chlorine.shape) == ("t101.level", TankShape.HORIZONTAL_CYLINDER)
    assert (chlorine.tonnes, chlorine.volume_m3, chlorine.density_t_per_m3) == (60, 48, 1.41)
    listed = [s.inventory for s in plants.inventories(Grant.everything())]
    assert [i.level_tag for i in listed[:3]] == ["t101.level", "t101.level2", None]


def test_migration_0017_adds_and_drops_the_columns(db: Database) -> None:
    def columns() -> set[str]:
        with db.engine.connect() as conn:
            return {c["name"] for c in inspect(conn).get_columns("inventories")}

    assert {"level_tag", "shape"} <= columns()
    db.downgrade("0016_reports")
    assert not {"level_tag", "shape"} & columns()
    db.upgrade()
    assert {"level_tag", "shape"} <= columns()
