"""The GB 18218 inputs of a stored plant: an installation's people within 500 m and an
inventory's hazard category survive import and export, and are read back per installation."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository

KEY = "acid.main.storage"


def _with_gb18218(plant_data: dict[str, Any], people: int | None = 45) -> PlantSpec:
    storage = plant_data["parks"][0]["enterprises"][0]["sites"][0]["installations"][0]
    assert storage["key"] == "storage"
    storage["people_within_500m"] = people
    storage["inventories"].append({"chemical": "diesel", "category": "W5.4", "tonnes": 300})
    return PlantSpec.model_validate(plant_data)


def test_people_and_category_round_trip(db: Database, plant_data: dict[str, Any]) -> None:
    spec = _with_gb18218(plant_data)
    plants = PlantRepository(db)
    plants.save(spec)
    assert plants.export() == spec
    assert not plants.save(spec).changed


def test_a_changed_head_count_updates_the_node(db: Database, plant_data: dict[str, Any]) -> None:
    plants = PlantRepository(db)
    plants.save(_with_gb18218(deepcopy(plant_data)))
    summary = plants.save(_with_gb18218(deepcopy(plant_data), people=120))
    assert (summary.nodes_updated, summary.inventories_changed) == (1, 0)
    storage = plants.export().parks[0].enterprises[0].sites[0].installations[0]
    assert storage.people_within_500m == 120


def test_installation_reads_inventories_and_people(
    db: Database, plant_data: dict[str, Any]
) -> None:
    plants = PlantRepository(db)
    plants.save(_with_gb18218(plant_data))
    found = plants.installation(KEY, Grant.everything())
    assert found is not None
    assert (found.key, found.name, found.people_within_500m) == (KEY, "Tank farm", 45)
    assert [(i.chemical, i.category) for i in found.inventories] == [
        ("chlorine", None), ("ammonia", None), ("diesel", "W5.4"),
    ]  # fmt: skip
    assert [s.inventory.category for s in plants.inventories(Grant.everything())][:3] == [
        None, None, "W5.4",
    ]  # fmt: skip


def test_installation_is_hidden_outside_the_grant_and_absent_for_bad_keys(
    db: Database, plant_data: dict[str, Any]
) -> None:
    plants = PlantRepository(db)
    plants.save(_with_gb18218(plant_data))
    assert plants.installation(KEY, Grant(())) is None
    assert plants.installation("acid.main.nothing", Grant.everything()) is None
    assert plants.installation("acid.main", Grant.everything()) is None
    found = plants.installation(KEY, Grant.everything())
    assert found is not None
    assert plants.installation(KEY, Grant((found.path,))) == found
