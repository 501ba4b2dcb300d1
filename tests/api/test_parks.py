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
        },
        {"key": "hq", "name": "", "kind": "office", "lat": 32.1, "lon": 119.42, "sensitive": False},
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
