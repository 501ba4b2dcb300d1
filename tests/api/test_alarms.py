from __future__ import annotations

from typing import Any

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here


def _send(api: Api, key: str, values: list[float], start: int = T0 - 10_000) -> None:
    readings = [{"tag": key, "ts": start + i * 1000, "value": v} for i, v in enumerate(values)]
    response = api.post("admin", "/ingest", json={"readings": readings})
    assert response.status_code == 200, response.text


def test_an_hh_crossing_raises_an_alarm_that_an_operator_acknowledges(api: Api) -> None:
    _send(api, "ea.s.i.tank.level", [50, 70, 85, 92])
    tag = api.tag_id("ea.s.i.tank.level")
    alarms = {a["condition"]: a for a in api.get("op-a", "/alarms").json()}
    assert alarms["HH"]["state"] == "unacknowledged"
    assert alarms["HH"]["priority"] == "high"
    assert alarms["HH"]["value"] == 92
    assert alarms["H"]["state"] == "unacknowledged"
    assert alarms["HH"]["id"] == f"{tag}.HH"

    acked = api.post(
        "op-a", f"/alarms/{tag}.HH/acknowledge", json={"comment": "seen, valve closed"}
    )
    assert acked.status_code == 200, acked.text
    assert acked.json()["state"] == "acknowledged"

    journal = api.get("viewer-a", f"/alarms/{tag}.HH/journal").json()
    assert [t["to_state"] for t in journal] == ["acknowledged", "unacknowledged"]
    assert journal[0]["actor"] == "op-a"
    assert journal[0]["comment"] == "seen, valve closed"
    assert journal[1]["actor"] == "system"
    assert "90" in journal[1]["cause"]

    twice = api.post("op-a", f"/alarms/{tag}.HH/acknowledge", json={})
    assert twice.status_code == 409


def test_roles_and_scopes_decide_who_may_act_on_an_alarm(api: Api) -> None:
    _send(api, "ea.s.i.tank.level", [95])
    tag = api.tag_id("ea.s.i.tank.level")
    assert api.post("viewer-a", f"/alarms/{tag}.HH/acknowledge").status_code == 403
    assert api.post("op-b", f"/alarms/{tag}.HH/acknowledge").status_code == 404
    assert api.get("op-b", "/alarms").json() == []
    assert api.get("op-a", "/alarms/999999.HH").status_code == 404
    assert api.get("op-a", f"/alarms/{tag}.XX").status_code == 404


def test_shelving_needs_a_reason_and_ends_by_itself(api: Api) -> None:
    _send(api, "ea.s.i.tank.level", [95])
    tag = api.tag_id("ea.s.i.tank.level")
    no_reason = api.post("op-a", f"/alarms/{tag}.HH/shelve", json={"duration_s": 60})
    assert no_reason.status_code == 422
    shelved = api.post(
        "op-a", f"/alarms/{tag}.HH/shelve", json={"duration_s": 60, "comment": "calibration"}
    )
    assert shelved.status_code == 200, shelved.text
    assert shelved.json()["state"] == "shelved"
    assert shelved.json()["shelved_until"] is not None

    api.clock.advance(61_000)
    _send(api, "ea.s.i.tank.level", [96], start=api.clock.now())
    after = api.get("op-a", f"/alarms/{tag}.HH").json()
    assert after["state"] == "unacknowledged"


def test_out_of_service_and_back(api: Api) -> None:
    _send(api, "ea.s.i.tank.level", [95])
    tag = api.tag_id("ea.s.i.tank.level")
    out = api.post(
        "op-a", f"/alarms/{tag}.HH/remove-from-service", json={"comment": "transmitter swap"}
    )
    assert out.json()["state"] == "out_of_service"
    assert api.post("op-a", f"/alarms/{tag}.HH/acknowledge").status_code == 409
    back = api.post("op-a", f"/alarms/{tag}.HH/return-to-service")
    assert back.json()["state"] == "unacknowledged"


def test_a_silent_tag_goes_offline_on_the_engine_tick(api: Api) -> None:
    _send(api, "ea.s.i.tank.temperature", [20.0])
    api.clock.advance(301_000)
    deadline = 200
    found = []
    for _ in range(deadline):
        found = [a for a in api.get("viewer-a", "/alarms").json() if a["condition"] == "offline"]
        if found:
            break
        api.clock.advance(1000)
    assert {a["tag_key"] for a in found} >= {"ea.s.i.tank.temperature"}
