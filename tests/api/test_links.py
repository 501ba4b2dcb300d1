"""POST /api/v1/links: an edge gateway over HTTP reports the health of its links, which the
platform turns into the same device-offline alarms as for its own connectors."""

from __future__ import annotations

from typing import Any

from waiting import eventually

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here
PLC = "ea.s.i.plc-1"  # not in the plant yet: made under installation ea.s.i


def _device_key(api: Api, node: str) -> str:
    nodes = {n["key"]: n["id"] for n in api.get("admin", "/scope").json()}
    created = api.post("admin", "/api-keys", json={"name": f"gw-{node}", "scope_id": nodes[node]})
    assert created.status_code == 201, created.text
    key: str = created.json()["key"]
    return key


def _links(*entries: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "ts": T0,
        "links": [{"equipment": e, "health": h, "detail": d} for e, h, d in entries],
    }


def _post(api: Api, key: str, body: object) -> Any:
    return api.client.post("/api/v1/links", json=body, headers={"X-API-Key": key})


def _offline_alarms(api: Api) -> dict[str, dict[str, Any]]:
    return {
        a["tag_key"]: a
        for a in api.get("admin", "/alarms").json()
        if a["condition"] == "device_offline"
    }


def test_a_device_reported_offline_raises_device_offline_after_the_delay(api: Api) -> None:
    key = _device_key(api, "ea")
    status = f"{PLC}.link-status"
    answer = _post(api, key, _links((PLC, "offline", "no answer [modbus.timeout]")))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"links": 1, "changed": 1, "unknown": []}
    eventually(lambda: api.get("admin", "/tags", params={"q": status}).json())
    assert status not in _offline_alarms(api), "raised before the delay"

    again = _post(api, key, _links((PLC, "offline", "still no answer")))
    assert again.json() == {"links": 1, "changed": 0, "unknown": []}  # only a change counts

    api.clock.advance(6_000)
    alarm = eventually(lambda: _offline_alarms(api).get(status))
    assert alarm["priority"] == "high"
    assert alarm["active"]
    journal = api.get("admin", f"/alarms/{alarm['id']}/journal").json()
    assert any("modbus.timeout" in entry.get("cause", "") for entry in journal), journal

    listed = {c["name"]: c for c in api.get("viewer-a", "/connectors").json()}["links"]
    assert listed["kind"] == "http"
    assert [(d["key"], d["health"]) for d in listed["devices"]] == [(PLC, "offline")]
    hidden = {c["name"]: c for c in api.get("op-b", "/connectors").json()}["links"]
    assert hidden["devices"] == [], "another enterprise's devices are not shown"

    back = _post(api, key, _links((PLC, "online", "")))
    assert back.json()["changed"] == 1
    eventually(lambda: not _offline_alarms(api)[status]["active"])


def test_a_link_outside_the_keys_scope_is_forbidden_and_nothing_is_recorded(api: Api) -> None:
    key = _device_key(api, "ea")
    for foreign in ("eb.s.i.plc-1", "eb.s.i.tank", "zz.s.i.plc-1"):
        answer = _post(api, key, _links((PLC, "offline", ""), (foreign, "offline", "")))
        assert answer.status_code == 403, answer.text
        assert foreign in answer.json()["detail"]
    assert not api.get("admin", "/tags", params={"q": f"{PLC}.link-status"}).json()

    # an admin's token reaches everything; the equipment exists already here
    answer = api.post("admin", "/links", json=_links(("eb.s.i.tank", "degraded", "one of two")))
    assert answer.status_code == 202, answer.text
    eventually(lambda: api.get("admin", "/tags", params={"q": "eb.s.i.tank.link-status"}).json())

    # within the scope, but below an installation that does not exist: kept as a dead letter
    # (shown to whoever sees the sender's scope); the other links count
    nowhere = "ea.s.nowhere.plc-1"
    answer = _post(api, key, _links((nowhere, "offline", ""), (PLC, "online", "")))
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"links": 2, "changed": 1, "unknown": [nowhere]}
    (letter,) = [d for d in api.get("op-a", "/dead-letters").json() if nowhere in d["detail"]]
    assert letter["reason"] == "unknown_tag"
    assert "no installation ea.s.nowhere in the plant" in letter["detail"]
    eventually(lambda: api.get("admin", "/tags", params={"q": f"{PLC}.link-status"}).json())


def test_who_may_report_links(api: Api) -> None:
    spec = api.client.get("/openapi.json").json()
    assert spec["paths"]["/api/v1/links"]["post"]["operationId"] == "report_links"
    body = _links((PLC, "online", ""))
    assert api.client.post("/api/v1/links", json=body).status_code == 401
    assert _post(api, "hzk_wrong", body).status_code == 401
    assert api.post("op-a", "/links", json=body).status_code == 403


def test_a_malformed_report_is_refused_with_the_reason(api: Api) -> None:
    key = _device_key(api, "ea")
    bad: list[object] = [
        {"links": []},
        {"ts": "2027-01-01T00:00:00Z", "links": []},
        {"ts": T0, "links": {}},
        _links(("ea.s.i", "offline", "")),
        _links(("ea.s.i.plc-1.level", "offline", "")),
        _links((PLC, "down", "")),
        _links((PLC, "online", ""), (PLC, "offline", "")),
        [],
    ]
    for body in bad:
        answer = _post(api, key, body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["detail"], body
    no_json = api.client.post(
        "/api/v1/links",
        content=b"{",
        headers={"X-API-Key": key, "content-type": "application/json"},
    )
    assert no_json.status_code == 422
    assert not api.get("admin", "/tags", params={"q": f"{PLC}.link-status"}).json()
