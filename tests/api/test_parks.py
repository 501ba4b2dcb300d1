"""Park places and emergency resources through the API: reads by scope, availability."""

from __future__ import annotations

from typing import Any

import pytest

from hazwatch.auth.password import hash_password
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.role import Role
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.user_repository import UserRepository

Api = Any


@pytest.fixture
def park(api: Api) -> Api:
    """The API's plant with two places and two resources in park ``p``, and an empty park
    ``q`` with a viewer ``viewer-q``."""
    db = Database.open(api.db_url)
    plants = PlantRepository(db)
    data = plants.export().model_dump(mode="json")
    data["parks"][0]["places"] = [
        {
            "key": "school",
            "name": "School 小学",
            "kind": "school",
            "location": {"lat": 32.09, "lon": 119.41},
        },
        {"key": "hq", "kind": "office", "location": {"lat": 32.1, "lon": 119.42}},
    ]
    data["parks"][0]["resources"] = [
        {
            "key": "fire-1",
            "kind": "fire-brigade",
            "location": {"lat": 32.11, "lon": 119.4},
            "capacity": 3,
            "unit": "vehicles",
            "contact": "119",
        },
        {"key": "medics", "kind": "medical-team", "location": {"lat": 32.1, "lon": 119.43}},
    ]
    data["parks"].append({"key": "q", "name": "another park"})
    try:
        plants.save(PlantSpec.model_validate(data))
        q = plants.node_by_keys(["r", "q"])
        assert q is not None
        UserRepository(db).add("viewer-q", hash_password(api.password), Role.VIEWER, q.id)
    finally:
        db.close()
    return api


def _patch(api: Api, user: str, path: str, body: object) -> Any:
    return api.client.patch(f"/api/v1{path}", headers=api.as_user(user), json=body)


def test_places_are_listed_for_a_viewer_inside_the_park(park: Api) -> None:
    response = park.get("viewer-a", "/parks/p/places")
    assert response.status_code == 200, response.text
    assert response.json() == [
        {
            "key": "school",
            "name": "School 小学",
            "kind": "school",
            "lat": 32.09,
            "lon": 119.41,
            "sensitive": True,
            "enterprise": None,
        },
        {
            "key": "hq",
            "name": "",
            "kind": "office",
            "lat": 32.1,
            "lon": 119.42,
            "sensitive": False,
            "enterprise": None,
        },
    ]


def test_resources_are_listed_with_unit_and_availability(park: Api) -> None:
    listed = park.get("op-b", "/parks/p/resources").json()
    assert [(r["key"], r["capacity"], r["unit"], r["available"]) for r in listed] == [
        ("fire-1", 3.0, "vehicles", True),
        ("medics", 1.0, "", True),
    ]


def test_an_admin_marks_a_resource_unavailable(park: Api) -> None:
    response = _patch(park, "admin", "/parks/p/resources/fire-1", {"available": False})
    assert response.status_code == 200, response.text
    assert response.json()["available"] is False
    listed = park.get("viewer-a", "/parks/p/resources").json()
    assert [r["available"] for r in listed] == [False, True]


def test_only_an_admin_sets_availability(park: Api) -> None:
    response = _patch(park, "op-a", "/parks/p/resources/fire-1", {"available": False})
    assert response.status_code == 403
    assert park.get("admin", "/parks/p/resources").json()[0]["available"] is True


def test_unknown_park_or_resource_is_404(park: Api) -> None:
    assert park.get("admin", "/parks/nowhere/places").status_code == 404
    assert park.get("admin", "/parks/nowhere/resources").status_code == 404
    missing = _patch(park, "admin", "/parks/p/resources/no-such", {"available": True})
    assert missing.status_code == 404
    assert "no-such" in missing.json()["detail"]


def test_a_bad_body_names_the_field(park: Api) -> None:
    for body in ({"available": "perhaps"}, {}, {"available": True, "capacity": 2}):
        response = _patch(park, "admin", "/parks/p/resources/fire-1", body)
        assert response.status_code == 422, body
        (problem,) = response.json()["detail"]
        assert problem["loc"][0] == "body" and problem["loc"][-1] in {"available", "capacity"}


def test_places_need_a_signed_in_user(park: Api) -> None:
    assert park.client.get("/api/v1/parks/p/places").status_code == 401


def test_a_park_outside_the_callers_scope_is_404(park: Api) -> None:
    assert park.get("viewer-q", "/parks/p/places").status_code == 404
    assert park.get("viewer-q", "/parks/p/resources").status_code == 404
    assert park.get("viewer-q", "/parks/q/places").json() == []
    assert park.get("admin", "/parks/q/resources").json() == []


# --- writing places and resources ------------------------------------------------------

CLINIC = {
    "key": "clinic",
    "name": "Clinic 卫生院",
    "kind": "hospital",
    "location": {"lat": 32.08, "lon": 119.44},
}
SAND = {
    "key": "sand",
    "kind": "materials",
    "location": {"lat": 32.12, "lon": 119.41},
    "capacity": 20,
    "unit": "tonnes",
    "contact": "0511-1234",
}


def _put(api: Api, user: str, path: str, body: object) -> Any:
    return api.client.put(f"/api/v1{path}", headers=api.as_user(user), json=body)


def _delete(api: Api, user: str, path: str) -> Any:
    return api.client.delete(f"/api/v1{path}", headers=api.as_user(user))


def test_an_admin_adds_a_place_once(park: Api) -> None:
    added = park.post("admin", "/parks/p/places", json=CLINIC)
    assert added.status_code == 201, added.text
    assert added.json() == {
        "key": "clinic",
        "name": "Clinic 卫生院",
        "kind": "hospital",
        "lat": 32.08,
        "lon": 119.44,
        "sensitive": True,
        "enterprise": None,
    }
    again = park.post("admin", "/parks/p/places", json=CLINIC | {"name": "other"})
    assert again.status_code == 409 and "clinic" in again.json()["detail"]
    listed = park.get("viewer-a", "/parks/p/places").json()
    assert [p["key"] for p in listed] == ["school", "hq", "clinic"]
    assert listed[2]["name"] == "Clinic 卫生院"


def test_put_replaces_a_place_in_position_or_creates_it(park: Api) -> None:
    moved = {"kind": "school", "name": "School 小学", "location": {"lat": 32.0, "lon": 119.5}}
    replaced = _put(park, "admin", "/parks/p/places/school", moved | {"sensitive": False})
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["lat"], replaced.json()["sensitive"]) == (32.0, False)
    created = _put(park, "admin", "/parks/p/places/clinic", CLINIC)
    assert created.status_code == 201, created.text
    listed = park.get("viewer-a", "/parks/p/places").json()
    assert [(p["key"], p["lat"]) for p in listed] == [
        ("school", 32.0),
        ("hq", 32.1),
        ("clinic", 32.08),
    ]


def test_delete_removes_a_place_or_answers_404(park: Api) -> None:
    assert _delete(park, "admin", "/parks/p/places/hq").status_code == 204
    assert _delete(park, "admin", "/parks/p/places/hq").status_code == 404
    assert [p["key"] for p in park.get("admin", "/parks/p/places").json()] == ["school"]


def test_a_bad_place_answers_422_naming_each_field(park: Api) -> None:
    bad = CLINIC | {"kind": "castle", "location": {"lat": 95, "lon": "east"}}
    refused = park.post("admin", "/parks/p/places", json=bad)
    assert refused.status_code == 422
    problems = refused.json()["problems"]
    assert [p.split(":")[0] for p in problems] == ["kind", "location.lat", "location.lon"]
    assert "location.lat: Input should be less than or equal to 90" in problems
    no_key = park.post(
        "admin", "/parks/p/places", json={k: v for k, v in CLINIC.items() if k != "key"}
    )
    assert no_key.json()["problems"] == ["key: Field required"]
    bad_key = _put(park, "admin", "/parks/p/places/Big%20School", CLINIC | {"key": "Big School"})
    assert bad_key.status_code == 422
    assert bad_key.json()["problems"][0].startswith("key: String should match pattern")
    other_key = _put(park, "admin", "/parks/p/places/clinic", CLINIC | {"key": "school"})
    assert other_key.json()["problems"] == [
        "key: 'school' differs from the key in the path 'clinic'"
    ]
    assert len(park.get("admin", "/parks/p/places").json()) == 2, "nothing refused was stored"


def test_resources_are_added_replaced_and_deleted(park: Api) -> None:
    added = park.post("admin", "/parks/p/resources", json=SAND | {"available": False})
    assert added.status_code == 201, added.text
    assert (added.json()["unit"], added.json()["available"]) == ("tonnes", False)
    assert park.post("admin", "/parks/p/resources", json=SAND).status_code == 409
    _patch(park, "admin", "/parks/p/resources/fire-1", {"available": False})
    bigger = {"kind": "fire-brigade", "location": {"lat": 32.11, "lon": 119.4}, "capacity": 5}
    replaced = _put(park, "admin", "/parks/p/resources/fire-1", bigger)
    assert replaced.status_code == 200, replaced.text
    assert (replaced.json()["capacity"], replaced.json()["available"]) == (5.0, False)
    assert replaced.json()["unit"] == "", "a replacement replaces every declared field"
    back = _put(park, "admin", "/parks/p/resources/fire-1", bigger | {"available": True})
    assert back.json()["available"] is True
    assert _delete(park, "admin", "/parks/p/resources/medics").status_code == 204
    assert _delete(park, "admin", "/parks/p/resources/medics").status_code == 404
    listed = park.get("op-a", "/parks/p/resources").json()
    assert [(r["key"], r["capacity"], r["available"]) for r in listed] == [
        ("fire-1", 5.0, True),
        ("sand", 20.0, False),
    ]


def test_a_bad_resource_answers_422_naming_each_field(park: Api) -> None:
    bad = SAND | {"capacity": -1, "available": "perhaps", "crew": 4}
    refused = park.post("admin", "/parks/p/resources", json=bad)
    assert refused.status_code == 422
    assert [p.split(":")[0] for p in refused.json()["problems"]] == [
        "available",
        "capacity",
        "crew",
    ]
    no_location = _put(park, "admin", "/parks/p/resources/sand", {"kind": "materials"})
    assert no_location.json()["problems"] == ["location: Field required"]


def test_writes_need_an_admin_covering_the_park(park: Api) -> None:
    assert park.post("op-a", "/parks/p/places", json=CLINIC).status_code == 403
    assert _put(park, "viewer-a", "/parks/p/resources/sand", SAND).status_code == 403
    assert _delete(park, "op-a", "/parks/p/places/hq").status_code == 403
    assert _delete(park, "op-a", "/parks/p/resources/fire-1").status_code == 403
    assert park.post("admin", "/parks/nowhere/places", json=CLINIC).status_code == 404
    assert [p["key"] for p in park.get("admin", "/parks/p/places").json()] == ["school", "hq"]


def test_an_admin_of_an_enterprise_may_not_write_the_park(park: Api) -> None:
    db = Database.open(park.db_url)
    try:
        ea = PlantRepository(db).node_by_keys(["r", "p", "ea"])
        assert ea is not None
        UserRepository(db).add("admin-ea", hash_password(park.password), Role.ADMIN, ea.id)
    finally:
        db.close()
    refused = park.post("admin-ea", "/parks/p/places", json=CLINIC)
    assert refused.status_code == 403 and "park" in refused.json()["detail"]
    assert park.get("admin-ea", "/parks/p/places").status_code == 200


def test_places_and_resources_written_here_are_in_the_plant_export(park: Api) -> None:
    park.post("admin", "/parks/p/places", json=CLINIC)
    _put(park, "admin", "/parks/p/resources/medics", {**SAND, "key": "medics"})
    db = Database.open(park.db_url)
    try:
        plants = PlantRepository(db)
        exported = plants.export()
        (p,) = [x for x in exported.parks if x.key == "p"]
        assert [x.key for x in p.places] == ["school", "hq", "clinic"]
        assert p.places[2].model_dump(mode="json") == CLINIC | {
            "sensitive": True,
            "enterprise": None,
        }
        assert [(r.key, r.kind, r.unit) for r in p.resources] == [
            ("fire-1", "fire-brigade", "vehicles"),
            ("medics", "materials", "tonnes"),
        ]
        assert not plants.save(exported).changed, "the export imports back unchanged"
    finally:
        db.close()


def test_a_place_belongs_to_an_enterprise_of_its_park(park: Api) -> None:
    stranger = CLINIC | {"kind": "enterprise", "enterprise": "elsewhere"}
    refused = park.post("admin", "/parks/p/places", json=stranger)
    assert refused.status_code == 422
    assert refused.json()["problems"] == [
        "enterprise: 'elsewhere' is not an enterprise of park 'p'"
    ]
    neighbour = CLINIC | {"kind": "enterprise", "enterprise": "eb"}
    added = park.post("admin", "/parks/p/places", json=neighbour)
    assert added.status_code == 201, added.text
    assert added.json()["enterprise"] == "eb"
