"""Places and emergency resources of a park in the plant file: defaults, errors, round trip."""

from __future__ import annotations

import pytest

from hazwatch.domain.plant import PlaceKind, ResourceKind
from hazwatch.plant import PlantFileError, ProblemKind, dump_plant, parse_plant

SOURCE = "plants/places.yaml"

BASE = """\
version: 1
region: r
parks:
  - key: demo-park
    places:
      - key: school-1
        name: Riverside School 滨江小学
        kind: school
        location: {lat: 32.07, lon: 120.0}
      - key: office-1
        kind: office
        location: {lat: 32.08, lon: 120.01}
      - key: flats
        kind: residential
        location: {lat: 32.06, lon: 120.0}
        sensitive: false
      - key: admin
        kind: office
        location: {lat: 32.08, lon: 120.02}
        sensitive: true
    resources:
      - key: fire-1
        name: Park fire station
        kind: fire-brigade
        location: {lat: 32.08, lon: 120.01}
        capacity: 4
        unit: vehicles
        contact: "119"
      - key: store-1
        kind: materials
        location: {lat: 32.079, lon: 120.013}
"""


def _error(text: str) -> PlantFileError:
    with pytest.raises(PlantFileError) as caught:
        parse_plant(text, source=SOURCE)
    return caught.value


def test_sensitive_defaults_to_the_kind_unless_given() -> None:
    park = parse_plant(BASE, source=SOURCE).parks[0]
    assert [(p.key, p.kind, p.sensitive) for p in park.places] == [
        ("school-1", PlaceKind.SCHOOL, True),
        ("office-1", PlaceKind.OFFICE, False),
        ("flats", PlaceKind.RESIDENTIAL, False),
        ("admin", PlaceKind.OFFICE, True),
    ]


def test_resource_defaults() -> None:
    fire, store = parse_plant(BASE, source=SOURCE).parks[0].resources
    assert (fire.kind, fire.capacity, fire.unit, fire.contact) == (
        ResourceKind.FIRE_BRIGADE,
        4.0,
        "vehicles",
        "119",
    )
    assert (store.kind, store.capacity, store.unit, store.contact) == (
        ResourceKind.MATERIALS,
        1.0,
        "",
        "",
    )


def test_round_trip_writes_sensitive_only_against_the_kind() -> None:
    spec = parse_plant(BASE, source=SOURCE)
    text = dump_plant(spec)
    assert parse_plant(text, source="dumped") == spec
    assert text.count("sensitive:") == 2
    assert "sensitive: false" in text and "sensitive: true" in text


def test_a_bad_latitude_names_the_place() -> None:
    text = BASE.replace("{lat: 32.07, lon: 120.0}", "{lat: 95, lon: 120.0}")
    (problem,) = _error(text).problems
    assert problem.path == "parks[demo-park].places[school-1].location.lat"
    assert problem.line == 9


def test_location_is_required() -> None:
    text = BASE.replace("        location: {lat: 32.079, lon: 120.013}\n", "")
    (problem,) = _error(text).problems
    assert problem.path == "parks[demo-park].resources[store-1].location"
    assert problem.code == "missing"


def test_unknown_kind_and_negative_capacity_name_the_field() -> None:
    text = BASE.replace("kind: school", "kind: mall").replace("capacity: 4", "capacity: -1")
    paths = {p.path for p in _error(text).problems}
    assert paths == {
        "parks[demo-park].places[school-1].kind",
        "parks[demo-park].resources[fire-1].capacity",
    }


def test_keys_are_unique_within_their_list() -> None:
    text = BASE.replace("- key: office-1", "- key: school-1")
    (problem,) = _error(text).problems
    assert problem.kind == ProblemKind.DUPLICATE_KEY
    assert problem.path == "parks[demo-park].places[1].key"
    # a place and a resource may share a key: they are different lists
    shared = BASE.replace("- key: store-1", "- key: school-1")
    assert parse_plant(shared, source=SOURCE).parks[0].resources[1].key == "school-1"


def test_an_unknown_field_is_named() -> None:
    text = BASE.replace("        unit: vehicles\n", "        units: vehicles\n")
    (problem,) = _error(text).problems
    assert problem.path == "parks[demo-park].resources[fire-1].units"
