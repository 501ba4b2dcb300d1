"""The gateway forwarding to a real hazwatch server over HTTP while the server restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from hazwatch.gateway.gateway import Gateway

pytestmark = pytest.mark.slow

Until = Callable[..., Any]


async def test_a_platform_restart_loses_nothing(
    platform_server: Any, make_config: Any, counting_connector: Any, wait_until: Until
) -> None:
    server = platform_server
    config = make_config(
        {"kind": "http", "url": server.url, "api_key": server.api_key, "timeout_s": 5},
        replay_per_s=200,
    )
    made: list[Any] = []

    def build(link: Any) -> list[Any]:
        made.append(counting_connector(link, period_s=0.02))
        return made

    gateway = Gateway(config, build)
    (connector,) = made
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))

    def stored() -> set[tuple[str, int, float]]:
        found: set[tuple[str, int, float]] = server.stored(connector.keys)
        return found

    try:
        await wait_until(lambda: len(stored()) >= 20, "readings stored", every=0.1)
        await asyncio.to_thread(server.stop)
        await wait_until(lambda: not gateway.status().online, "the gateway sees the outage")
        down_at = connector.rounds
        await wait_until(lambda: connector.rounds >= down_at + 50, "produced while down")
        await asyncio.to_thread(server.start)
        await wait_until(lambda: gateway.status().online, "the gateway is back")
        back_at = connector.rounds
        await wait_until(lambda: connector.rounds >= back_at + 25, "produced after")
        connector.stop_producing()
        produced = {
            (k, connector.start_ms + n, float(n))
            for n in range(connector.rounds)
            for k in connector.keys
        }
        await wait_until(lambda: stored() >= produced, "everything stored", every=0.2)
    finally:
        stop.set()
        await task

    assert stored() == produced, "each reading produced stored once, and nothing else"
    status = gateway.status()
    assert status.refused_messages == 0
    assert status.queued_messages == 0
    assert gateway.forwarder is not None
    assert gateway.forwarder.counters.replayed_messages > 0


async def test_readings_the_platform_refuses_are_delivered_and_counted_not_retried(
    platform_server: Any, make_config: Any, counting_connector: Any, wait_until: Until
) -> None:
    """A tag the platform does not know (422 for those readings) does not hold the queue."""
    server = platform_server
    config = make_config(
        {"kind": "http", "url": server.url, "api_key": server.api_key}, replay_per_s=200
    )
    made: list[Any] = []
    keys = ("gw.site.unit.pump-1.count", "gw.site.unit.pump-9.count")

    def build(link: Any) -> list[Any]:
        made.append(counting_connector(link, keys, period_s=0.02))
        return made

    gateway = Gateway(config, build)
    (connector,) = made
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        await wait_until(lambda: connector.rounds >= 10, "produced")
        connector.stop_producing()
        await wait_until(
            lambda: gateway.status().delivered_readings == connector.produced, "delivered"
        )
    finally:
        stop.set()
        await task
    status = gateway.status()
    assert status.rejected_readings == connector.rounds, "the unknown tag's readings"
    assert status.refused_messages == 0
    assert len(server.stored(keys)) == connector.rounds
