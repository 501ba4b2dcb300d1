"""Connectors inside the platform: readings stored and evaluated, health as link alarms."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from hazwatch.connectors.base import ConnectError, Health

Api = Any
T0 = 1_800_000_000_000  # the API fixture's clock starts here


def eventually(
    check: Callable[[], Any], timeout: float = 10, tick: Callable[[], None] | None = None
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        if tick:
            tick()
        time.sleep(0.02)


def connectors(api: Api, user: str = "admin") -> dict[str, dict[str, Any]]:
    response = api.get(user, "/connectors")
    assert response.status_code == 200, response.text
    return {c["name"]: c for c in response.json()}


def fake(api: Api, fake_family: Any, name: str) -> Any:
    return next(c for c in fake_family.CONNECTOR.built if c.name == name)


def alarms(api: Api, condition: str) -> dict[str, dict[str, Any]]:
    return {
        a["tag_key"]: a for a in api.get("admin", "/alarms").json() if a["condition"] == condition
    }


def test_readings_of_a_connector_are_stored_and_evaluated(
    api_with_connectors: Api, fake_family: Any
) -> None:
    api = api_with_connectors
    eventually(lambda: connectors(api)["gw"]["health"] == "online")
    gw = fake(api, fake_family, "gw")
    api.client.portal.call(gw.send, {"ea.s.i.tank.level": 50.0}, T0 - 2000)
    api.client.portal.call(gw.send, {"ea.s.i.tank.level": 95.0}, T0 - 1000)
    hh = eventually(lambda: alarms(api, "HH").get("ea.s.i.tank.level"))
    assert hh["value"] == 95
    listed = eventually(lambda: connectors(api)["gw"]["readings"] == 2 and connectors(api)["gw"])
    assert listed["batches"] == 2
    assert listed["kind"] == "fake"
    assert listed["equipment"] == "ea.s.i.gw"


def test_a_lost_device_raises_device_offline_after_the_delay_and_clears_when_back(
    api_with_connectors: Api, fake_family: Any
) -> None:
    api = api_with_connectors
    eventually(lambda: connectors(api)["gw"]["devices"])
    gw = fake(api, fake_family, "gw")
    api.client.portal.call(gw.link.device, "ea.s.i.tank", Health.OFFLINE, "timeout [modbus.11]")
    eventually(lambda: connectors(api)["gw"]["devices"][0]["health"] == "offline")
    assert "ea.s.i.tank.link-status" not in alarms(api, "device_offline"), "raised before the delay"
    api.clock.advance(6_000)
    alarm = eventually(lambda: alarms(api, "device_offline").get("ea.s.i.tank.link-status"))
    assert alarm["priority"] == "high"
    assert alarm["state"] == "unacknowledged"
    journal = api.get("admin", f"/alarms/{alarm['id']}/journal").json()
    assert any("modbus.11" in entry.get("cause", "") for entry in journal), journal

    api.client.portal.call(gw.link.device, "ea.s.i.tank", Health.ONLINE, "")
    cleared = eventually(
        lambda: (
            not alarms(api, "device_offline")["ea.s.i.tank.link-status"]["active"]
            and alarms(api, "device_offline")["ea.s.i.tank.link-status"]
        )
    )
    assert cleared["state"] == "returned_unacknowledged"  # normal again, still to acknowledge
    status_tag = api.tag_id("ea.s.i.tank.link-status")
    end = datetime.fromtimestamp((T0 + 3_600_000) / 1000, UTC).isoformat()
    history = api.get("admin", f"/tags/{status_tag}/history", params={"mode": "raw", "end": end})
    assert history.status_code == 200, history.text
    values = [p["value"] for p in history.json()["points"]]
    assert values[-2:] == [Health.OFFLINE.code, Health.ONLINE.code], values


def test_a_connector_that_fails_reconnects_and_its_own_outage_is_an_alarm(
    api_with_connectors: Api, fake_family: Any
) -> None:
    api = api_with_connectors
    eventually(lambda: connectors(api)["gw"]["health"] == "online")
    gw = fake(api, fake_family, "gw")
    sessions = gw.sessions
    api.client.portal.call(gw.fail, ConnectError("broker gone", code="mqtt.136"))
    eventually(lambda: gw.sessions > sessions)
    eventually(lambda: connectors(api)["gw"]["health"] == "online")
    assert "mqtt.136" in str(gw.last_error)


def test_devices_outside_the_callers_scope_are_not_listed(api_with_connectors: Api) -> None:
    api = api_with_connectors
    eventually(lambda: all(c["devices"] for c in connectors(api).values()))
    eventually(lambda: api.get("admin", "/tags", params={"q": "eb.s.i.tank.link-status"}).json())
    seen = connectors(api, "viewer-a")
    assert [d["key"] for d in seen["gw"]["devices"]] == ["ea.s.i.tank"]
    assert seen["plain"]["devices"] == []
