"""Faults along the whole chain: device server → edge gateway → Mosquitto → platform → storage.

Each link is stopped and started again in the middle of a stream — the Modbus server, the
OPC UA server, the broker, the platform itself — and nothing is done to help the connectors
recover. Afterwards every reading the gateway's connectors produced is in the platform's
database, and nothing else is: the sets of (tag, ts, value, quality) are equal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from hazwatch.connectors.base import Health

pytestmark = pytest.mark.slow

Until = Callable[..., Any]
MODBUS_KEYS = ("chain.site.unit.plc-1.count", "chain.site.unit.plc-1.level")
OPCUA_KEYS = ("chain.site.unit.tk-1.count", "chain.site.unit.tk-1.level")
BEFORE = 20
"""readings stored before a fault: the stream is flowing"""
DURING = 20
"""readings produced during a fault (when the device itself is up)"""
AFTER = 20
"""readings produced after recovery"""
SETTLE_S = 10.0
"""once production ends, the chain delivers the rest within this (normally in under 1 s)"""


async def _everything_stored(
    gateway: Any, platform: Any, keys: Sequence[str], wait_until: Until
) -> None:
    """End production, wait until all of it is stored, and compare the sets exactly."""
    await gateway.close_sources()
    produced = gateway.produced()
    assert produced, "the connectors produced readings"

    def stored() -> set[Any]:
        return set(platform.stored(keys))

    try:
        await wait_until(
            lambda: stored() >= produced, "every reading produced is stored", SETTLE_S, 0.1
        )
    except AssertionError:
        missing = sorted(produced - stored())
        raise AssertionError(
            f"{len(missing)} of {len(produced)} readings produced are not stored, "
            f"e.g. {missing[:10]}; {gateway.gateway.status().line()}"
        ) from None
    found = stored()
    assert found == produced, f"stored but not produced: {sorted(found - produced)[:10]}"
    assert len(found) == len(produced)
    status = gateway.gateway.status()
    assert status.dropped_readings == 0
    assert status.refused_messages == 0
    assert status.rejected_readings == 0


async def _flowing(platform: Any, keys: Sequence[str], wait_until: Until) -> None:
    await wait_until(
        lambda: len(platform.stored(keys)) >= BEFORE, "readings stored before the fault", every=0.1
    )


async def _device_restart(device: Any, gateway: Any, wait_until: Until) -> None:
    """Stop the device's server mid-stream, restart it, and see the connector recover."""
    connector = gateway.connector
    errors = connector.inner.errors
    await device.stop()
    await wait_until(lambda: connector.health.state is not Health.ONLINE, "the connector sees it")
    await wait_until(lambda: connector.inner.errors > errors, "the session ended with an error")
    down = gateway.produced_count()
    await device.start()
    await wait_until(lambda: connector.health.state is Health.ONLINE, "the connector recovers")
    await wait_until(
        lambda: gateway.produced_count() >= down + AFTER, "readings produced after recovery"
    )


async def test_a_modbus_server_restart_mid_stream_loses_nothing(
    modbus_device: Any, gateway: Any, platform: Any, wait_until: Until
) -> None:
    await gateway.start(modbus_device.connector)
    await _flowing(platform, MODBUS_KEYS, wait_until)
    await _device_restart(modbus_device, gateway, wait_until)
    await _everything_stored(gateway, platform, MODBUS_KEYS, wait_until)


async def test_an_opcua_server_restart_mid_stream_loses_nothing(
    opcua_device: Any, gateway: Any, platform: Any, wait_until: Until
) -> None:
    await gateway.start(opcua_device.connector)
    await _flowing(platform, OPCUA_KEYS, wait_until)
    await _device_restart(opcua_device, gateway, wait_until)
    await _everything_stored(gateway, platform, OPCUA_KEYS, wait_until)


PLAIN = {"share_group": None}
"""a plain subscription: Mosquitto 2.0 keeps it across its own restart"""
SHARED = {"share_group": "hazwatch"}
"""a shared subscription, which Mosquitto 2.0 forgets when it restarts: until the platform
subscribes again the broker answers the gateway's PUBLISH with PUBACK 0x10 (no matching
subscribers), and the gateway keeps such messages to send them again"""


@pytest.mark.parametrize(
    "ingest_settings", [pytest.param(PLAIN, id="plain"), pytest.param(SHARED, id="shared")]
)
async def test_a_broker_restart_mid_stream_loses_nothing(
    modbus_device: Any, gateway: Any, platform: Any, broker: Any, wait_until: Until
) -> None:
    gw = await gateway.start(modbus_device.connector)
    await _flowing(platform, MODBUS_KEYS, wait_until)
    await asyncio.to_thread(broker.stop)
    await wait_until(lambda: not gw.status().online, "the gateway sees the broker go")
    await wait_until(lambda: platform.ingest is not Health.ONLINE, "the platform sees it too")
    down = gateway.produced_count()
    await wait_until(
        lambda: gateway.produced_count() >= down + DURING, "readings produced while it is down"
    )
    assert gw.status().queued_readings > 0, "the gateway queues them"
    await asyncio.to_thread(broker.start)
    await wait_until(lambda: gw.status().online, "the gateway reconnects")
    await wait_until(lambda: platform.ingest is Health.ONLINE, "the platform reconnects")
    up = gateway.produced_count()
    await wait_until(lambda: gateway.produced_count() >= up + AFTER, "readings produced after")
    await _everything_stored(gateway, platform, MODBUS_KEYS, wait_until)
    assert gw.forwarder.counters.replayed_messages > 0, "the queue was replayed"


@pytest.mark.parametrize(
    ("database_url", "ingest_settings"),
    [
        pytest.param("sqlite", PLAIN, id="sqlite-plain"),
        pytest.param("postgresql", PLAIN, id="postgresql-plain"),
        # a forgotten shared subscription is the broker's and the gateway's business,
        # whatever the database: one is enough
        pytest.param("sqlite", SHARED, id="sqlite-shared"),
    ],
    indirect=["database_url"],
)
async def test_a_broker_restart_while_the_platform_is_away_loses_nothing(
    modbus_device: Any, gateway: Any, platform: Any, broker: Any, wait_until: Until
) -> None:
    """The order that makes the gateway publish before the platform subscribes again."""
    gw = await gateway.start(modbus_device.connector)
    await _flowing(platform, MODBUS_KEYS, wait_until)
    await asyncio.to_thread(platform.stop)
    await asyncio.to_thread(broker.stop)
    await wait_until(lambda: not gw.status().online, "the gateway sees the broker go")
    down = gateway.produced_count()
    await wait_until(
        lambda: gateway.produced_count() >= down + DURING, "readings produced while it is down"
    )
    await asyncio.to_thread(broker.start)
    await wait_until(lambda: gw.status().online, "the gateway reconnects")
    up = gateway.produced_count()
    await wait_until(lambda: gateway.produced_count() >= up + AFTER, "readings produced after")
    # the gateway replays while the platform is away: a plain subscription's session takes
    # the messages; a forgotten shared one answers "no matching subscribers", and the
    # gateway keeps them and sends them again
    await wait_until(lambda: gw.forwarder.counters.replayed_messages > 0, "the backlog is replayed")
    await asyncio.to_thread(platform.start)
    await wait_until(lambda: platform.ingest is Health.ONLINE, "the platform reconnects")
    await _everything_stored(gateway, platform, MODBUS_KEYS, wait_until)
    assert gw.forwarder.counters.replayed_messages > 0, "the queue was replayed"


async def test_a_platform_restart_mid_stream_loses_nothing(
    modbus_device: Any, gateway: Any, platform: Any, wait_until: Until
) -> None:
    gw = await gateway.start(modbus_device.connector)
    await _flowing(platform, MODBUS_KEYS, wait_until)
    await asyncio.to_thread(platform.stop)
    away = gw.status().delivered_readings
    await wait_until(
        lambda: gw.status().delivered_readings >= away + DURING,
        "readings delivered to the broker while the platform is away",
    )
    await asyncio.to_thread(platform.start)
    await wait_until(lambda: platform.ingest is Health.ONLINE, "the platform reconnects")
    back = gateway.produced_count()
    await wait_until(lambda: gateway.produced_count() >= back + AFTER, "readings produced after")
    await _everything_stored(gateway, platform, MODBUS_KEYS, wait_until)
