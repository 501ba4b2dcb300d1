"""The forwarder against an in-memory upstream: order, outages, refusals, the dropped report.

And the gateway as a whole with fakes: what it stored before a restart goes out after it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from hazwatch.gateway.encode import Message, decode_columns
from hazwatch.gateway.forwarder import Forwarder
from hazwatch.gateway.gateway import Gateway
from hazwatch.gateway.queue import ROW_OVERHEAD, MessageQueue

NOW = 1_800_000_000_000
DROPPED = "gw.site.unit.gateway.dropped"
Until = Callable[..., Any]


def _msg(name: str, readings: int = 1) -> Message:
    return Message(body=name.encode(), readings=readings)


@contextlib.asynccontextmanager
async def _running(forwarder: Forwarder) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(forwarder.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _forwarder(queue: MessageQueue, upstream: Any, replay_per_s: float = 1000) -> Forwarder:
    return Forwarder(
        queue, upstream, replay_per_s=replay_per_s, now=lambda: NOW, dropped_key=DROPPED
    )


async def test_live_messages_go_in_queue_order_and_leave_the_queue(
    tmp_path: Path, fake_upstream: Any, wait_until: Until
) -> None:
    queue = MessageQueue.open(tmp_path / "q.db", quota_bytes=1 << 20)
    async with fake_upstream() as upstream:
        forwarder = _forwarder(queue, upstream)
        async with _running(forwarder):
            for i in range(0, 30, 3):
                queue.append([_msg(f"m{j}") for j in range(i, i + 3)])
                forwarder.stored()
            await wait_until(lambda: len(queue) == 0, "everything acknowledged")
    assert upstream.received == [f"m{i}".encode() for i in range(30)]
    assert forwarder.counters.delivered_messages == 30
    queue.close()


async def test_no_more_than_max_in_flight_messages_are_outstanding(
    tmp_path: Path, fake_upstream: Any, wait_until: Until
) -> None:
    queue = MessageQueue.open(tmp_path / "q.db", quota_bytes=1 << 20)
    async with fake_upstream(max_in_flight=3) as upstream:
        upstream.hold = True
        forwarder = _forwarder(queue, upstream)
        async with _running(forwarder):
            queue.append([_msg(f"m{i}") for i in range(10)])
            forwarder.stored()
            await wait_until(lambda: forwarder.counters.in_flight == 3, "three in flight")
            await asyncio.sleep(0.05)
            assert forwarder.counters.in_flight == 3
            upstream.release()
            await wait_until(lambda: len(upstream.received) >= 3, "the first three delivered")
            upstream.release()
            await wait_until(lambda: len(queue) == 0 or upstream.hold, "more sent")
            while len(queue):
                upstream.release()
                await asyncio.sleep(0.01)
    assert upstream.received == [f"m{i}".encode() for i in range(10)]
    queue.close()


async def test_after_an_outage_the_backlog_replays_in_order_while_live_data_overtakes_it(
    tmp_path: Path, fake_upstream: Any, wait_until: Until
) -> None:
    queue = MessageQueue.open(tmp_path / "q.db", quota_bytes=1 << 20)
    async with fake_upstream() as upstream:
        forwarder = _forwarder(queue, upstream, replay_per_s=40)
        async with _running(forwarder):
            queue.append([_msg("first")])
            forwarder.stored()
            await wait_until(lambda: len(upstream.received) == 1, "the first message")
            upstream.go_offline()
            for i in range(20):
                queue.append([_msg(f"b{i:02}")])
                forwarder.stored()
            upstream.go_online()
            await wait_until(lambda: forwarder.replaying, "replaying")
            for i in range(5):
                await asyncio.sleep(0.03)
                queue.append([_msg(f"l{i}")])
                forwarder.stored()
            await wait_until(lambda: len(queue) == 0, "all delivered", timeout=10)
    got = [b.decode() for b in upstream.received]
    backlog = [g for g in got if g.startswith("b")]
    live = [g for g in got if g.startswith("l")]
    assert backlog == [f"b{i:02}" for i in range(20)], "the backlog in order, once each"
    assert live == [f"l{i}" for i in range(5)]
    assert got.index("l4") < got.index("b19"), "live data did not wait for the backlog"
    assert not forwarder.replaying
    # "first" may have been stored before the upstream first came up: backlog too
    assert forwarder.counters.replayed_messages in (20, 21)
    queue.close()


async def test_a_refused_message_becomes_a_dead_letter_and_the_rest_go_on(
    tmp_path: Path, fake_upstream: Any, wait_until: Until
) -> None:
    queue = MessageQueue.open(tmp_path / "q.db", quota_bytes=1 << 20)
    async with fake_upstream() as upstream:
        upstream.refuse = lambda body: body == b"m1"
        forwarder = _forwarder(queue, upstream)
        async with _running(forwarder):
            queue.append([_msg("m0"), _msg("m1", readings=7), _msg("m2")])
            forwarder.stored()
            await wait_until(lambda: len(queue) == 0, "nothing left")
    assert upstream.received == [b"m0", b"m2"]
    assert forwarder.counters.refused_messages == 1
    (letter,) = queue.dead_letters()
    assert letter[2:5] == ("fake.400", "refused", 7)
    assert letter[5] == b"m1"
    queue.close()


async def test_evicted_readings_are_reported_on_the_dropped_tag_first_and_once(
    tmp_path: Path, fake_upstream: Any, wait_until: Until
) -> None:
    path = tmp_path / "q.db"
    queue = MessageQueue.open(path, quota_bytes=5 * (3 + ROW_OVERHEAD))
    async with fake_upstream(online=False) as upstream:
        forwarder = _forwarder(queue, upstream)
        async with _running(forwarder):
            for i in range(8):
                queue.append([_msg(f"m{i:02}"[:3], readings=10)])
            assert queue.dropped_readings == 30
            upstream.go_online()
            await wait_until(lambda: len(queue) == 0, "the queue emptied")
    report = decode_columns(upstream.received[0])
    assert report.tag == [DROPPED]
    assert report.value.tolist() == [30.0]
    assert [b.decode() for b in upstream.received[1:]] == ["m03", "m04", "m05", "m06", "m07"]
    assert queue.reported_dropped == 30
    queue.close()

    again = MessageQueue.open(path, quota_bytes=1 << 20)
    async with fake_upstream() as upstream:
        forwarder = _forwarder(again, upstream)
        async with _running(forwarder):
            again.append([_msg("m08")])
            forwarder.stored()
            await wait_until(lambda: len(again) == 0, "delivered")
    assert upstream.received == [b"m08"], "the count was reported before the restart"
    again.close()


@pytest.mark.parametrize("limit", [1, 1000])
async def test_what_was_stored_before_a_restart_is_sent_after_it(
    make_config: Any, counting_connector: Any, fake_upstream: Any, wait_until: Until, limit: int
) -> None:
    config = make_config(max_readings_per_message=limit, replay_per_s=1000)
    connectors: list[Any] = []

    def build(link: Any) -> list[Any]:
        connectors.append(counting_connector(link, period_s=0.002))
        return connectors[-1:]

    stop = asyncio.Event()
    offline = fake_upstream(online=False)
    gateway = Gateway(config, build, upstream=offline)
    task = asyncio.create_task(gateway.run(stop))
    await wait_until(lambda: connectors[0].produced >= 100, "readings produced")
    stop.set()
    await task
    produced = connectors[0].produced
    status = gateway.status()
    assert status.queued_readings == produced, "everything read was stored on the way out"
    assert status.delivered_readings == 0
    assert not status.online

    online = fake_upstream()
    gateway = Gateway(config, build, upstream=online)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    first = connectors[0]
    expected = sorted((k, first.start_ms + n) for n in range(first.rounds) for k in first.keys)

    def from_first() -> list[tuple[str, int]]:
        return sorted((t, ts) for t, ts, _ in online.readings() if ts <= expected[-1][1])

    await wait_until(lambda: len(from_first()) >= produced, "the backlog delivered")
    stop.set()
    await task
    assert connectors[1].start_ms > expected[-1][1]
    assert from_first() == expected, "every reading of the first run, once"
    assert orjson.loads(online.received[0])["tag"][0] in first.keys
