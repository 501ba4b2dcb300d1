"""The demo as a user meets it: scripted incidents raise alarms an operator can handle."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import pytest

from hazwatch.connectors.simulator.demo import (
    CHLORINE_LEAK_TAG,
    FROZEN_TAG,
    LEAK_TAG,
    OFFLINE_TAG,
    OVERFILL_TAG,
)

pytestmark = pytest.mark.slow


def test_overfill_raises_hh_and_acknowledging_it_is_journaled(demo_server: Any) -> None:
    alarm = demo_server.wait_for_alarm("HH", timeout=120, tag_key=OVERFILL_TAG)
    assert alarm["active"] is True
    assert alarm["priority"] in {"high", "critical"}

    response = demo_server.api(
        "POST", f"/alarms/{alarm['id']}/acknowledge", json={"comment": "inflow stopped"}
    )
    assert response.status_code == 200, response.text
    acked = response.json()
    assert acked["state"] in {"acknowledged", "normal"}
    assert acked["seq"] > alarm["seq"]

    journal = demo_server.api("GET", f"/alarms/{alarm['id']}/journal").json()
    ack = [t for t in journal if t["input"] == "acknowledge"]
    assert ack and ack[0]["actor"] == "admin" and ack[0]["comment"] == "inflow stopped"
    assert ack[0]["from_state"] == "unacknowledged"

    again = demo_server.api("POST", f"/alarms/{alarm['id']}/acknowledge", json={})
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("condition", "tag_key"), [("frozen", FROZEN_TAG), ("offline", OFFLINE_TAG)]
)
def test_frozen_sensor_and_offline_detector_raise_their_alarms(
    demo_server: Any, condition: str, tag_key: str
) -> None:
    alarm = demo_server.wait_for_alarm(condition, timeout=120, state=None, tag_key=tag_key)
    journal = demo_server.api("GET", f"/alarms/{alarm['id']}/journal").json()
    raised = [t for t in journal if t["input"] == "activate"]
    assert raised and raised[-1]["from_state"] == "normal"
    assert raised[-1]["to_state"] == "unacknowledged"


def test_the_trend_of_the_overfilled_tag_has_history(demo_server: Any) -> None:
    hh = demo_server.wait_for_alarm("HH", timeout=120, state=None, tag_key=OVERFILL_TAG)
    history = demo_server.api("GET", f"/tags/{hh['tag_id']}/history", params={"points": 100})
    assert history.status_code == 200, history.text
    points = history.json()["points"]
    assert 0 < len(points) <= 100
    tag = demo_server.api("GET", f"/tags/{hh['tag_id']}").json()
    hh_limit = next(lim["value"] for lim in tag["limits"] if lim["kind"] == "HH")
    assert max((p["max"] if p["max"] is not None else p["value"]) for p in points) >= hh_limit


def test_the_slow_leak_is_warned_before_any_limit_alarm(demo_server: Any) -> None:
    demo_server.wait_for_alarm("H", timeout=120, state=None, tag_key=LEAK_TAG)
    warnings = demo_server.api(
        "GET", "/warnings", params={"include_closed": "true", "detector": "ttl"}
    ).json()
    (leak,) = [w for w in warnings if w["subject"] == LEAK_TAG]
    # Once past H the same warning looks ahead to HH.
    assert re.match(
        f"{re.escape(LEAK_TAG)} is heading for its H{{1,2}} limit", leak["explanation"]["text"]
    )
    journal = demo_server.api("GET", "/alarms/journal", params={"limit": 5000}).json()
    limit_alarms = [
        t["at"]
        for t in journal
        if t["input"] == "activate" and t["condition"] in {"HH", "H", "L", "LL"}
    ]
    assert limit_alarms, "the demo raises limit alarms"
    assert datetime.fromisoformat(leak["raised_at"]) < min(
        datetime.fromisoformat(at) for at in limit_alarms
    )


def test_the_chlorine_leak_runs_the_demo_playbook(demo_server: Any) -> None:
    demo_server.wait_for_alarm("HH", timeout=180, state=None, tag_key=CHLORINE_LEAK_TAG)
    deadline = time.monotonic() + 60
    incidents: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not incidents:
        incidents = demo_server.api("GET", "/incidents").json()
        time.sleep(0.5)
    [incident] = incidents
    assert incident["plan"] == "chlorine-release"
    assert incident["scope"] == "chlor.main.cl2-storage"
    inbox = demo_server.api("GET", "/inbox").json()
    assert any("chlorine" in entry["title"] for entry in inbox), inbox
