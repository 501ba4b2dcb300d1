"""Linkage disposal through the running platform: a playbook uploaded through the API
starts on an HH alarm, tells the shift operator in-app, and escalates to the park when
nobody acknowledges."""

from __future__ import annotations

from typing import Any

from waiting import eventually

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here

PLAYBOOK = """
name: tank-overfill
version: 1
trigger: {event: alarm, conditions: [HH], scope: ea}
steps:
  - {id: shift, kind: notify, to: [position:shift-operator@installation]}
  - {id: wait, kind: wait_ack, timeout_s: 120}
  - {id: park, kind: notify, to: [position:emergency-office@park]}
  - {id: close, kind: close}
"""


def _contact(api: Api, user: str, position: str, scope: str) -> None:
    body = {"posts": [{"position": position, "scope": scope}], "channels": ["inapp"]}
    response = api.client.put(f"/api/v1/contacts/{user}", json=body, headers=api.as_user("admin"))
    assert response.status_code == 200, response.text


def test_an_hh_alarm_runs_the_playbook_and_silence_reaches_the_park(api: Api) -> None:
    uploaded = api.client.post(
        "/api/v1/playbooks",
        content=PLAYBOOK.encode(),
        headers={**api.as_user("admin"), "content-type": "application/yaml"},
    )
    assert uploaded.status_code == 201, uploaded.text
    _contact(api, "op-a", "shift-operator", "ea.s.i")
    _contact(api, "admin", "emergency-office", "p")
    api.clock.advance(31_000)  # the platform takes new playbooks within 30 s
    eventually(lambda: api.client.app.state.platform.pipeline.respond._in_force, "reloaded")
    readings = [{"tag": "ea.s.i.tank.level", "ts": api.clock.now() - 1000, "value": 95}]
    assert api.post("admin", "/ingest", json={"readings": readings}).status_code == 200
    told = eventually(lambda: api.get("op-a", "/inbox").json(), "the shift operator told")
    assert "tank-overfill" in told[0]["text"]
    assert api.get("admin", "/inbox").json() == []
    api.clock.advance(121_000)
    escalated = eventually(lambda: api.get("admin", "/inbox").json(), "the park told")
    assert "step park" in escalated[0]["text"]
