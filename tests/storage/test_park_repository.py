"""Park places and emergency resources: stored by the plant import or one at a time,
exported, read back."""

from __future__ import annotations

from typing import Any

import pytest

from hazwatch.domain.plant import PlaceSpec, PlantSpec, ResourceSpec
from hazwatch.respond.linkage import Place
from hazwatch.respond.resources import nearest
from hazwatch.storage.database import Database
from hazwatch.storage.errors import ConflictError
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.park_repository import ParkRepository
from hazwatch.storage.plant_repository import PlantRepository

PLACES: list[dict[str, Any]] = [
    {"key": "school", "name": "School", "kind": "school", "location": {"lat": 31.49, "lon": 120.2}},
    {"key": "hq", "kind": "office", "location": {"lat": 31.5, "lon": 120.21}},
    {"key": "flats", "kind": "residential", "location": {"lat": 31.48, "lon": 120.22}},
]
RESOURCES: list[dict[str, Any]] = [
    {
        "key": "fire-far",
        "kind": "fire-brigade",
        "location": {"lat": 31.6, "lon": 120.3},
        "capacity": 2,
        "unit": "vehicles",
        "contact": "119",
    },
    {"key": "fire-near", "kind": "fire-brigade", "location": {"lat": 31.501, "lon": 120.251}},
    {"key": "medics", "kind": "medical-team", "location": {"lat": 31.5, "lon": 120.24}},
]


def _plant(
    base: PlantSpec,
    places: list[dict[str, Any]] = PLACES,
    resources: list[dict[str, Any]] = RESOURCES,
) -> PlantSpec:
    data = base.model_dump(mode="json")
    data["parks"][0]["places"] = places
    data["parks"][0]["resources"] = resources
    return PlantSpec.model_validate(data)


def _east(db: Database) -> int:
    (park,) = ParkRepository(db).parks("east")
    return park.id


def test_export_gives_places_and_resources_back(db: Database, spec: PlantSpec) -> None:
    plants = PlantRepository(db)
    summary = plants.save(_plant(spec))
    assert summary.parks_changed == 1
    assert plants.export() == _plant(spec)
    assert not plants.save(_plant(spec)).changed
    assert not plants.save(plants.export()).changed


def test_places_and_resources_read_as_linkage_values(db: Database, spec: PlantSpec) -> None:
    PlantRepository(db).save(_plant(spec))
    parks = ParkRepository(db)
    east = _east(db)
    assert parks.places(east) == [
        Place(key="school", name="School", kind="school", lat=31.49, lon=120.2, sensitive=True),
        Place(key="hq", name="", kind="office", lat=31.5, lon=120.21, sensitive=False),
        Place(key="flats", name="", kind="residential", lat=31.48, lon=120.22, sensitive=True),
    ]
    far, near, medics = parks.resources(east)
    assert (far.key, far.capacity, far.contact, far.available) == ("fire-far", 2.0, "119", True)
    assert (near.capacity, near.contact) == (1.0, "")
    assert (medics.kind, medics.lat, medics.lon) == ("medical-team", 31.5, 120.24)
    assert parks.units(east) == {"fire-far": "vehicles", "fire-near": "", "medics": ""}
    (other_park,) = ParkRepository(db).parks("west")
    assert parks.places(other_park.id) == [] and parks.resources(other_park.id) == []


def test_an_unavailable_resource_is_skipped_and_stays_so_on_reimport(
    db: Database, spec: PlantSpec
) -> None:
    plants = PlantRepository(db)
    plants.save(_plant(spec))
    parks = ParkRepository(db)
    east = _east(db)
    ranked = nearest(parks.resources(east), kinds=["fire-brigade"], lat=31.5, lon=120.25)
    assert [s.resource.key for s in ranked] == ["fire-near", "fire-far"]

    changed = parks.set_available(east, "fire-near", False)
    assert changed is not None and not changed.available
    assert parks.set_available(east, "no-such", False) is None
    ranked = nearest(parks.resources(east), kinds=["fire-brigade"], lat=31.5, lon=120.25)
    assert [s.resource.key for s in ranked] == ["fire-far"]

    # A changed file rewrites the list; availability is operational state and is kept.
    moved = [*RESOURCES[:1], {**RESOURCES[1], "capacity": 3}, RESOURCES[2]]
    assert plants.save(_plant(spec, resources=moved)).parks_changed == 1
    by_key = {r.key: r for r in parks.resources(east)}
    assert by_key["fire-near"].capacity == 3.0 and not by_key["fire-near"].available
    assert not plants.save(_plant(spec, resources=moved)).changed


def test_a_place_removed_from_the_file_is_removed(db: Database, spec: PlantSpec) -> None:
    plants = PlantRepository(db)
    plants.save(_plant(spec))
    summary = plants.save(_plant(spec, places=PLACES[:1] + PLACES[2:], resources=[]))
    assert summary.parks_changed == 1
    east = _east(db)
    assert [p.key for p in ParkRepository(db).places(east)] == ["school", "flats"]
    assert ParkRepository(db).resources(east) == []
    assert plants.export() == _plant(spec, places=PLACES[:1] + PLACES[2:], resources=[])


def test_a_reordered_list_exports_in_the_new_order(db: Database, spec: PlantSpec) -> None:
    plants = PlantRepository(db)
    plants.save(_plant(spec))
    reordered = _plant(spec, places=PLACES[::-1])
    assert plants.save(reordered).parks_changed == 1
    assert plants.export() == reordered


# --- one at a time ----------------------------------------------------------------------


def test_places_are_added_replaced_in_position_and_removed(db: Database, spec: PlantSpec) -> None:
    plants = PlantRepository(db)
    plants.save(_plant(spec))
    parks, east = ParkRepository(db), _east(db)
    clinic = PlaceSpec.model_validate(
        {"key": "clinic", "kind": "hospital", "location": {"lat": 31.52, "lon": 120.23}}
    )
    added = parks.add_place(east, clinic)
    assert added == Place(
        key="clinic", name="", kind="hospital", lat=31.52, lon=120.23, sensitive=True
    )
    with pytest.raises(ConflictError):
        parks.add_place(east, clinic)
    renamed = PlaceSpec.model_validate({**PLACES[0], "name": "Primary School", "sensitive": False})
    place, outcome = parks.put_place(east, renamed)
    assert outcome is PutOutcome.REPLACED and place.name == "Primary School"
    assert not place.sensitive
    _, outcome = parks.put_place(east, clinic.model_copy(update={"key": "depot"}))
    assert outcome is PutOutcome.CREATED
    assert [p.key for p in parks.places(east)] == ["school", "hq", "flats", "clinic", "depot"]
    assert parks.remove_place(east, "hq") and not parks.remove_place(east, "hq")
    assert [p.key for p in parks.places(east)] == ["school", "flats", "clinic", "depot"]
    (west,) = parks.parks("west")
    assert parks.places(west.id) == [], "another park is untouched"


def test_a_replaced_resource_keeps_its_availability_unless_given(
    db: Database, spec: PlantSpec
) -> None:
    plants = PlantRepository(db)
    plants.save(_plant(spec))
    parks, east = ParkRepository(db), _east(db)
    parks.set_available(east, "fire-near", False)
    bigger = ResourceSpec.model_validate({**RESOURCES[1], "capacity": 4, "unit": "vehicles"})
    resource, outcome = parks.put_resource(east, bigger)
    assert outcome is PutOutcome.REPLACED
    assert (resource.capacity, resource.available) == (4.0, False)
    assert parks.units(east)["fire-near"] == "vehicles"
    resource, _ = parks.put_resource(east, bigger, available=True)
    assert resource.available
    depot = ResourceSpec.model_validate(
        {"key": "sand", "kind": "materials", "location": {"lat": 31.5, "lon": 120.2}}
    )
    assert not parks.add_resource(east, depot, available=False).available
    with pytest.raises(ConflictError):
        parks.add_resource(east, depot)
    assert parks.remove_resource(east, "fire-far") and not parks.remove_resource(east, "fire-far")
    assert [r.key for r in parks.resources(east)] == ["fire-near", "medics", "sand"]


def test_edits_one_at_a_time_are_exported_and_import_back_unchanged(
    db: Database, spec: PlantSpec
) -> None:
    plants = PlantRepository(db)
    plants.save(_plant(spec))
    parks, east = ParkRepository(db), _east(db)
    clinic = {"key": "clinic", "kind": "hospital", "location": {"lat": 31.52, "lon": 120.23}}
    parks.add_place(east, PlaceSpec.model_validate(clinic))
    parks.put_resource(east, ResourceSpec.model_validate({**RESOURCES[2], "contact": "120"}))
    parks.remove_resource(east, "fire-far")
    exported = plants.export()
    expected = _plant(
        spec,
        places=[*PLACES, clinic],
        resources=[RESOURCES[1], {**RESOURCES[2], "contact": "120"}],
    )
    assert exported == expected
    assert not plants.save(exported).changed
