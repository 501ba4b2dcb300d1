"""The gateway around its connectors: the link it gives them, its status, ``run_gateway``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from hazwatch.connectors.base import Health
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.gateway import Gateway, run_gateway
from hazwatch.gateway.encode import report_message
from hazwatch.gateway.queue import MessageQueue

Until = Callable[..., Any]
NOW = 1_800_000_000_000


async def test_the_link_numbers_keys_keeps_refusals_and_follows_devices(
    make_config: Any, fake_upstream: Any, wait_until: Until
) -> None:
    config = make_config()
    gateway = Gateway(config, lambda link: [], upstream=fake_upstream(), now=lambda: NOW)
    link = gateway.link
    assert link.resolve("gw.site.unit.pump-1.count") == 0
    assert link.resolve("other.site.unit.pump-1.count") is None
    assert link.now() == NOW

    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    await wait_until(gateway.running.is_set, "running")
    link.refuse(
        DeadLetter(received=NOW, source="modbus", reason=RejectReason.MALFORMED, detail="junk")
    )
    link.device("gw.site.unit.plc-1", Health.DEGRADED, "one of two devices answers")
    status = gateway.status()
    assert status.refused_input == 1
    assert status.devices == {"gw.site.unit.plc-1": Health.DEGRADED}
    assert status.online
    line = status.line()
    assert "upstream online" in line
    assert "refused 0 messages, 1 inputs" in line
    stop.set()
    await task

    queue = MessageQueue.open(config.queue.path, quota_bytes=1 << 20)
    (letter,) = queue.dead_letters()
    assert letter[1:4] == ("input", "malformed", "junk")
    queue.close()


async def test_run_gateway_sends_what_a_previous_run_left_in_the_queue(
    durable_broker: Any, subscriber: Any, make_config: Any, wait_until: Until
) -> None:
    broker = durable_broker
    config = make_config({"kind": "mqtt", "host": broker.host, "port": broker.port})
    queue = MessageQueue.open(config.queue.path, quota_bytes=config.queue.quota_bytes)
    queue.append([report_message("gw.site.unit.pump-1.count", NOW + i, i) for i in range(5)])
    queue.close()

    stop = asyncio.Event()
    task = asyncio.create_task(run_gateway(config, stop=stop))
    await wait_until(lambda: len(subscriber.snapshot()) >= 5, "the queued readings arrive")
    stop.set()
    await task
    assert [a.value for a in subscriber.snapshot()] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert {a.ts for a in subscriber.snapshot()} == {NOW + i for i in range(5)}
    left = MessageQueue.open(config.queue.path, quota_bytes=1 << 20)
    assert len(left) == 0
    left.close()
