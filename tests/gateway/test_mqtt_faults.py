"""The gateway forwarding over MQTT while the broker fails: nothing lost, order, quota, rate.

A counting connector emits numbered readings (reading n of each tag: value n, timestamp
start + n); a subscriber with a persistent QoS 1 session counts what reaches the broker.
"""

from __future__ import annotations

import asyncio
import statistics
from collections.abc import Callable
from typing import Any

import pytest

from hazwatch.gateway.gateway import Gateway

pytestmark = pytest.mark.slow

Until = Callable[..., Any]


def _mqtt(broker: Any, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "mqtt",
        "host": broker.host,
        "port": broker.port,
        "reconnect_max_s": 1,
        "session_expiry_s": 600,
        **extra,
    }


def _start(config: Any, counting_connector: Any, period_s: float) -> tuple[Gateway, Any]:
    made: list[Any] = []

    def build(link: Any) -> list[Any]:
        made.append(counting_connector(link, period_s=period_s))
        return made

    return Gateway(config, build), made[0] if made else None


def _produced(connector: Any) -> set[tuple[str, int]]:
    return {(k, connector.start_ms + n) for n in range(connector.rounds) for k in connector.keys}


async def test_a_broker_restart_loses_nothing_and_the_backlog_arrives_in_order(
    durable_broker: Any,
    subscriber: Any,
    make_config: Any,
    counting_connector: Any,
    wait_until: Until,
    first_arrivals: Any,
) -> None:
    config = make_config(_mqtt(durable_broker), replay_per_s=400)
    gateway, connector = _start(config, counting_connector, period_s=0.01)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        await wait_until(lambda: len(subscriber.distinct()) >= 40, "live readings arrive")
        await asyncio.to_thread(durable_broker.stop)
        stopped_at = connector.rounds
        await wait_until(lambda: not gateway.status().online, "the gateway sees the outage")
        await wait_until(lambda: connector.rounds >= stopped_at + 100, "produced while down")
        restarted_at = connector.rounds
        await asyncio.to_thread(durable_broker.start)
        await wait_until(lambda: gateway.status().online, "the gateway reconnects")
        online_at = connector.rounds
        await wait_until(lambda: connector.rounds >= online_at + 50, "produced after")
        connector.stop_producing()
        produced = _produced(connector)
        try:
            await wait_until(lambda: subscriber.distinct() >= produced, "everything arrives")
        except AssertionError:
            missing = sorted(produced - subscriber.distinct())
            raise AssertionError(
                f"{len(missing)} missing: {[ts - connector.start_ms for _, ts in missing][:50]}"
                f" stopped {stopped_at} restarted {restarted_at} online {online_at}; "
                f"{gateway.status()}"
            ) from None
    finally:
        stop.set()
        await task

    assert subscriber.distinct() == produced, "each reading produced, and nothing else"
    assert len(produced) == connector.produced
    for key in connector.keys:
        during = [
            v for v in first_arrivals(subscriber.snapshot(), key) if stopped_at <= v < restarted_at
        ]
        assert len(during) == restarted_at - stopped_at
        assert during == sorted(during), "the backlog arrives in order"
    assert gateway.forwarder is not None
    assert gateway.forwarder.counters.replayed_messages > 0
    assert gateway.status().queued_messages == 0


async def test_over_the_quota_the_oldest_are_dropped_and_the_count_reported(
    durable_broker: Any,
    subscriber: Any,
    make_config: Any,
    counting_connector: Any,
    wait_until: Until,
) -> None:
    await asyncio.to_thread(durable_broker.stop)
    # one message per round (two readings), about 130 bytes each: room for about 15
    config = make_config(
        _mqtt(durable_broker),
        quota_mb=2000 / 1024 / 1024,
        replay_per_s=1000,
        max_readings_per_message=2,
    )
    gateway, connector = _start(config, counting_connector, period_s=0.005)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        await wait_until(lambda: connector.rounds >= 100, "produced while the broker is down")
        connector.stop_producing()
        produced = connector.produced

        def settled() -> bool:
            status = gateway.status()
            return bool(status.queued_readings + status.dropped_readings == produced)

        await wait_until(settled, "everything produced stored or evicted")
        dropped = gateway.status().dropped_readings
        assert dropped > produced / 2
        assert gateway.status().unreported_dropped == dropped
        await asyncio.to_thread(durable_broker.start)
        kept = produced - dropped

        def report() -> list[float]:
            return [a.value for a in subscriber.snapshot() if a.tag == config.dropped_tag]

        await wait_until(
            lambda: len(subscriber.distinct()) >= kept and report(), "kept readings and report"
        )
    finally:
        stop.set()
        await task

    assert report() == [float(dropped)], "one report with the cumulative count"
    assert gateway.status().unreported_dropped == 0
    delivered = subscriber.distinct()
    assert len(delivered) == kept
    newest = {
        (k, connector.start_ms + n)
        for n in range(connector.rounds - kept // 2, connector.rounds)
        for k in connector.keys
    }
    assert delivered == newest, "the oldest were evicted, the newest kept"


async def test_the_backlog_replays_at_the_set_rate_while_live_data_flows(
    durable_broker: Any,
    subscriber: Any,
    make_config: Any,
    counting_connector: Any,
    wait_until: Until,
    first_arrivals: Any,
) -> None:
    rate = 20.0
    config = make_config(_mqtt(durable_broker), replay_per_s=rate, max_readings_per_message=2)
    gateway, connector = _start(config, counting_connector, period_s=0.04)
    key = connector.keys[0]
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        await wait_until(lambda: len(subscriber.distinct()) >= 10, "live readings arrive")
        await asyncio.to_thread(durable_broker.stop)
        stopped_at = connector.rounds
        await wait_until(lambda: connector.rounds >= stopped_at + 30, "produced while down")
        restarted_at = connector.rounds
        await asyncio.to_thread(durable_broker.start)
        await wait_until(lambda: gateway.status().online, "the gateway reconnects")
        online_at = connector.rounds
        await wait_until(lambda: not gateway.status().replaying, "the backlog replayed")
        connector.stop_producing()
        produced = _produced(connector)
        await wait_until(lambda: subscriber.distinct() >= produced, "everything arrives")
    finally:
        stop.set()
        await task

    assert subscriber.distinct() == produced
    arrived: dict[float, float] = {}
    for a in subscriber.snapshot():
        if a.tag == key:
            arrived.setdefault(a.value, a.at)
    backlog = [n for n in range(stopped_at, restarted_at)]
    times = [arrived[float(n)] for n in backlog]
    assert times == sorted(times), "the backlog in order"
    took = times[-1] - times[0]
    at_rate = (len(backlog) - 2) / rate  # two may go at once (the bucket's burst)
    assert took >= 0.85 * at_rate, f"{len(backlog)} backlog messages in {took:.2f} s"
    assert took <= (online_at - stopped_at) / rate + 1.5, f"replay too slow: {took:.2f} s"

    live = [n for n in range(online_at + 5, connector.rounds) if arrived[float(n)] < times[-1]]
    assert len(live) >= 5, "live data flowed during the replay"
    delays = [arrived[float(n)] - connector.emitted_at[n] for n in live]
    assert statistics.median(delays) < 0.5, f"live data waited: {sorted(delays)}"
    assert max(delays) < 2.0
    assert first_arrivals(subscriber.snapshot(), key).size == connector.rounds
