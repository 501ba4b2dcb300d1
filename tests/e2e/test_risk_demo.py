"""The demo's dynamic risk colour: the LPG terminal turns more severe while its overfill HH
alarm stands, says so in its explanation, and returns to its resting colour once the alarm
has cleared; the history keeps both changes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from hazwatch.connectors.simulator.demo import OVERFILL_TAG

pytestmark = pytest.mark.slow

RANK = {"blue": 1, "yellow": 2, "orange": 3, "red": 4}
HH = f"{OVERFILL_TAG} HH"
ENTERPRISE = "lpg"


def _until(found: Callable[[], dict[str, Any] | None], timeout: float, what: str) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value is not None:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} within {timeout} s")


def _raising(node: dict[str, Any]) -> list[dict[str, Any]]:
    """The contributions of ``node`` that raise it because of the overfill HH alarm."""
    return [c for c in node["contributions"] if HH in c["subjects"] and (c["steps"] or c["floor"])]


def test_the_lpg_colour_follows_the_overfill_alarm(demo_server: Any) -> None:
    def lpg() -> dict[str, Any]:
        response = demo_server.api("GET", f"/risk/{ENTERPRISE}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    first = demo_server.api("GET", f"/risk/{ENTERPRISE}/history").json()[0]
    assert first["previous"] is None
    at_rest = first["colour"]
    assert at_rest in {"blue", "yellow"}  # grade III sphere farm, assessment score 91
    assert lpg()["baseline"] == at_rest

    demo_server.wait_for_alarm("HH", timeout=120, state=None, tag_key=OVERFILL_TAG)
    raised = _until(
        lambda: node if _raising(node := lpg()) else None, 30, "the HH alarm in the explanation"
    )
    assert RANK[raised["colour"]] > RANK[at_rest]
    (high,) = [c for c in _raising(raised) if c["factor"] == "alarms"]
    assert high["level"] == "high" and HH in high["text"]

    def cleared() -> dict[str, Any] | None:
        alarms = demo_server.api("GET", "/alarms", params={"include_normal": "true"}).json()
        hh = [a for a in alarms if a["tag_key"] == OVERFILL_TAG and a["condition"] == "HH"]
        return hh[0] if hh and not hh[0]["active"] else None

    _until(cleared, 120, "the overfill HH alarm cleared")
    back = _until(
        lambda: node if (node := lpg())["colour"] == at_rest else None,
        150,
        f"the LPG terminal back to {at_rest}",
    )
    assert not _raising(back)
    assert all(HH not in c["subjects"] for c in back["contributions"])

    history = demo_server.api("GET", f"/risk/{ENTERPRISE}/history").json()
    up = [i for i, c in enumerate(history) if _raising(c["explanation"])]
    assert up, "a change explained by the HH alarm"
    assert RANK[history[up[0]]["colour"]] > RANK[at_rest]
    assert any(c["colour"] == at_rest for c in history[up[0] + 1 :])
