"""The shared connector machinery: backoff, health, the session loop and its queue."""

from __future__ import annotations

import asyncio
import random

import pytest

from hazwatch.connectors.base import (
    AuthError,
    Backoff,
    ConnectError,
    ConnectorBase,
    Health,
    HealthState,
)
from hazwatch.connectors.conformance import RecordingLink
from hazwatch.domain.batch import Batch


def test_backoff_grows_is_capped_and_jittered() -> None:
    backoff = Backoff(initial=1, cap=8, rng=random.Random(1))
    delays = [backoff.next() for _ in range(8)]
    ceilings = [1, 2, 4, 8, 8, 8, 8, 8]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len({round(d, 6) for d in delays[3:]}) > 1, "capped delays must still be jittered"
    backoff.reset()
    assert backoff.next() <= 1


def test_backoff_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="initial"):
        Backoff(initial=5, cap=1)


async def test_health_waiters_see_every_change() -> None:
    health = HealthState()
    version = health.version
    waiter = asyncio.create_task(health.wait_for(Health.ONLINE))
    health.set(Health.OFFLINE, "refused")
    health.set(Health.ONLINE)
    assert await asyncio.wait_for(waiter, 1) is Health.ONLINE
    # a change made before the wait started is not missed
    assert await asyncio.wait_for(health.changed_since(version), 1) is Health.ONLINE
    health.set(Health.ONLINE, "same state, new detail")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(health.next_change(), 0.05)


class Flaky(ConnectorBase):
    """Fails its first sessions, then emits what it is given."""

    def __init__(self, failures: list[Exception], link: RecordingLink) -> None:
        super().__init__(
            "flaky", link.link(), backoff=Backoff(initial=0.01, cap=0.02), queue_size=2
        )
        self.failures = failures
        self.sessions = 0
        self.outbox: asyncio.Queue[Batch] = asyncio.Queue()

    async def session(self) -> None:
        self.sessions += 1
        if self.failures:
            raise self.failures.pop(0)
        self.online()
        while True:
            await self.emit(await self.outbox.get())


def batch(n: int) -> Batch:
    return Batch.of(tag=[0] * n, ts=list(range(n)), value=[1.0] * n, received=0)


async def test_sessions_are_retried_until_one_holds_and_errors_are_kept() -> None:
    link = RecordingLink(["a.b.c.d.e"])
    failures: list[Exception] = [ConnectError("refused", code="mqtt.3"), OSError("reset")]
    async with Flaky(failures, link) as connector:
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 2)
        assert connector.sessions == 3
        assert connector.errors == 2
        assert connector.last_error is not None and connector.last_error.code == "OSError"


async def test_a_library_exception_is_a_lost_link_not_a_crash() -> None:
    link = RecordingLink()
    async with Flaky([RuntimeError("boom")], link) as connector:
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 2)
        assert "RuntimeError: boom" in str(connector.last_error)


async def test_refused_credentials_wait_the_longest_backoff() -> None:
    link = RecordingLink()
    connector = Flaky([AuthError("bad password", code="mqtt.134")], link)
    async with connector:
        await asyncio.wait_for(connector.health.wait_for(Health.OFFLINE), 2)
        await asyncio.sleep(0.01)
        assert connector.sessions == 1
        assert "mqtt.134" in connector.health.detail


async def test_batches_queued_before_close_are_still_read_and_then_iteration_ends() -> None:
    link = RecordingLink()
    connector = Flaky([], link)
    async with connector:
        await connector.health.wait_for(Health.ONLINE)
        for n in (1, 2, 3):
            connector.outbox.put_nowait(batch(n))
        while not connector.outbox.empty() or connector._queue.qsize() < 2:
            await asyncio.sleep(0.01)
    sizes = [len(b) async for b in connector]
    assert sizes[:2] == [1, 2]
    assert connector.health.state is Health.OFFLINE
