from __future__ import annotations

from typing import Any

Api = Any


def test_sign_in_gives_a_token_and_wrong_passwords_do_not(api: Api) -> None:
    bad = api.client.post("/api/v1/auth/token", data={"username": "admin", "password": "nope"})
    assert bad.status_code == 401
    assert "wrong" in bad.json()["detail"]
    nobody = api.client.post(
        "/api/v1/auth/token", data={"username": "ghost", "password": api.password}
    )
    assert nobody.status_code == 401

    me = api.get("op-a", "/me").json()
    assert me["username"] == "op-a"
    assert [r["role"] for r in me["roles"]] == ["operator"]


def test_every_endpoint_but_health_needs_a_token(api: Api) -> None:
    for path in ("/api/v1/alarms", "/api/v1/tags", "/api/v1/scope", "/api/v1/dead-letters"):
        response = api.client.get(path)
        assert response.status_code == 401, path
    forged = api.client.get("/api/v1/tags", headers={"Authorization": "Bearer not-a-token"})
    assert forged.status_code == 401
    assert api.client.get("/healthz").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] is True


def test_the_scope_tree_is_limited_to_the_callers_subtree(api: Api) -> None:
    everything = {n["key"] for n in api.get("admin", "/scope").json()}
    assert {"r", "p", "ea", "eb"} <= everything
    mine = {n["key"] for n in api.get("viewer-a", "/scope").json()}
    assert "ea" in mine and "eb" not in mine and "p" not in mine

    located = {n["key"]: n["lat"] for n in api.get("viewer-a", "/scope").json()}
    assert located["ea"] == 32.1
    inventories = api.get("viewer-a", "/inventories").json()
    assert [(i["chemical"], i["quantity_t"]) for i in inventories] == [("chlorine", 12.0)]
    assert len(api.get("admin", "/inventories").json()) == 2

    keys_a = {t["key"] for t in api.get("viewer-a", "/tags").json()}
    assert keys_a == {"ea.s.i.tank.level", "ea.s.i.tank.temperature"}
    other = api.tag_id("eb.s.i.tank.level")
    assert api.get("viewer-a", f"/tags/{other}").status_code == 404


def test_openapi_operation_ids_are_stable(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    ids = {op["operationId"] for path in spec["paths"].values() for op in path.values()}
    assert {
        "login",
        "list_alarms",
        "acknowledge_alarm",
        "shelve_alarm",
        "ingest_readings",
        "tag_history",
        "latest_values",
        "stream_events",
        "list_dead_letters",
    } <= ids
