"""The conformance suite every connector passes, whatever its protocol.

A family supplies a ``Harness``: a live source it can start and stop (a broker and a
publisher, an OPC UA server, a Modbus server) and the connector that reads it. The checks
below drive any harness the same way; ``tests/connectors/<family>/test_conformance.py``
runs them all for each family.

What is checked:

* ``reads``: entered while the source runs, the connector goes online and yields the
  values the source produces, under the right tag ids.
* ``starts_without_source``: entered while the source is down, it does not fail; it goes
  online by itself once the source appears and then reads.
* ``recovers``: the source stops mid-stream and comes back; the connector reports
  offline (or degraded) meanwhile, then online again, and reads new values.
* ``refuses_malformed``: where a source can send something undecodable, it becomes a
  dead letter with a reason and the connector keeps reading.
* ``closes``: leaving the context ends iteration promptly, even with no data flowing.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Protocol

from hazwatch.connectors.base import Connector, Health, Link, TagDeclaration
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import Millis
from hazwatch.domain.reject import DeadLetter

TIMEOUT_S = 20.0


class Harness(Protocol):
    """A live source of one family and a connector reading it (see module docstring)."""

    keys: Sequence[str]
    """The tag keys the connector reads."""

    async def start_source(self) -> None: ...

    async def stop_source(self) -> None: ...

    def connector(self, link: Link) -> Connector: ...

    async def produce(self) -> Mapping[str, float]:
        """Make the source publish or show new values; return them by tag key. Values must
        differ from every earlier call's, so that a fresh read can be told apart."""
        ...

    async def produce_malformed(self) -> bool:
        """Make the source send something undecodable; False where the protocol cannot."""
        ...


class RecordingLink:
    """A ``Link`` that numbers tag keys and records all it is told. With ``open_world``
    every key resolves (numbered as met); otherwise only ``keys`` and declared tags do."""

    def __init__(self, keys: Sequence[str] = (), *, open_world: bool = False) -> None:
        self.keys = {k: i for i, k in enumerate(keys)}
        self.refused: list[DeadLetter] = []
        self.devices: list[tuple[str, Health, str]] = []
        self.declared: list[TagDeclaration] = []
        self.clock: Callable[[], Millis] = _wall_millis
        self._open_world = open_world

    def link(self) -> Link:
        return Link(
            resolve=self._resolve,
            refuse=self.refused.append,
            device=lambda key, health, detail: self.devices.append((key, health, detail)),
            now=self.clock,
            declare=self._declare,
        )

    def key_of(self, tag_id: int) -> str:
        return next(k for k, i in self.keys.items() if i == tag_id)

    def _resolve(self, key: str) -> int | None:
        if key not in self.keys and self._open_world:
            self.keys[key] = len(self.keys)
        return self.keys.get(key)

    async def _declare(self, tags: Sequence[TagDeclaration]) -> None:
        for tag in tags:
            self.declared.append(tag)
            self.keys.setdefault(tag.key, len(self.keys))


def _wall_millis() -> Millis:
    import time  # noqa: PLC0415 - a test link's clock; connectors themselves read none

    return int(time.time() * 1000)


class Reader:
    """Collects a connector's batches in the background; waits for expected values."""

    def __init__(self, connector: Connector, link: RecordingLink) -> None:
        self.connector = connector
        self.link = link
        self.batches: list[Batch] = []
        self._arrived = asyncio.Event()
        self._task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for batch in self.connector:
            self.batches.append(batch)
            self._arrived.set()

    def seen(self) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for batch in self.batches:
            for tag_id, value in zip(batch.tag.tolist(), batch.value.tolist(), strict=True):
                out.setdefault(self.link.key_of(tag_id), []).append(value)
        return out

    async def until(self, expected: Mapping[str, float], timeout: float = TIMEOUT_S) -> None:
        """Wait until every expected value has been read for its tag."""

        async def wait() -> None:
            while True:
                seen = self.seen()
                if all(_has(seen.get(k, []), v) for k, v in expected.items()):
                    return
                self._arrived.clear()
                await self._arrived.wait()

        try:
            await asyncio.wait_for(wait(), timeout)
        except TimeoutError:
            seen = self.seen()
            missing = {k: v for k, v in expected.items() if not _has(seen.get(k, []), v)}
            raise AssertionError(f"not read within {timeout} s: {missing}") from None

    async def ended(self, timeout: float = 5.0) -> None:
        await asyncio.wait_for(self._task, timeout)


def _has(values: list[float], expected: float) -> bool:
    return any(abs(v - expected) <= 1e-6 * max(1.0, abs(expected)) for v in values)


async def _health(connector: Connector, *states: Health, timeout: float = TIMEOUT_S) -> None:
    try:
        await asyncio.wait_for(connector.health.wait_for(*states), timeout)
    except TimeoutError:
        raise AssertionError(
            f"{connector.name}: health stayed {connector.health.state} "
            f"({connector.health.detail}); expected {', '.join(states)}"
        ) from None


async def _produce_until_read(harness: Harness, reader: Reader) -> None:
    """Produce until a whole round of values is read (a source may need a moment)."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT_S
    while True:
        expected = await harness.produce()
        try:
            await reader.until(expected, timeout=2.0)
            return
        except AssertionError:
            if asyncio.get_running_loop().time() > deadline:
                raise


@contextlib.asynccontextmanager
async def _online(harness: Harness) -> AsyncIterator[tuple[Connector, RecordingLink, Reader]]:
    """The source running and its connector online, with a reader; the source stops after."""
    await harness.start_source()
    link = RecordingLink(harness.keys)
    try:
        async with harness.connector(link.link()) as connector:
            reader = Reader(connector, link)
            await _health(connector, Health.ONLINE)
            yield connector, link, reader
    finally:
        await harness.stop_source()


async def check_reads(harness: Harness) -> None:
    async with _online(harness) as (_, _, reader):
        await _produce_until_read(harness, reader)
        expected = await harness.produce()
        await reader.until(expected)
    await reader.ended()


async def check_starts_without_source(harness: Harness) -> None:
    link = RecordingLink(harness.keys)
    async with harness.connector(link.link()) as connector:
        reader = Reader(connector, link)
        await asyncio.sleep(0.5)
        assert connector.health.state is not Health.ONLINE, "online with no source running"
        await harness.start_source()
        try:
            await _health(connector, Health.ONLINE)
            await _produce_until_read(harness, reader)
        finally:
            await harness.stop_source()
    await reader.ended()


async def check_recovers(harness: Harness) -> None:
    async with _online(harness) as (connector, _, reader):
        await _produce_until_read(harness, reader)
        await harness.stop_source()
        await _health(connector, Health.OFFLINE, Health.DEGRADED, Health.CONNECTING)
        await harness.start_source()
        await _health(connector, Health.ONLINE)
        await _produce_until_read(harness, reader)
    await reader.ended()


async def check_refuses_malformed(harness: Harness) -> None:
    async with _online(harness) as (connector, link, reader):
        before = len(link.refused)  # refusals of connecting (unknown tags…) do not count
        if not await harness.produce_malformed():
            return
        deadline = asyncio.get_running_loop().time() + TIMEOUT_S
        while len(link.refused) == before and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        fresh = link.refused[before:]
        assert fresh, "malformed input was not refused as a dead letter"
        assert all(letter.reason and letter.detail for letter in fresh)
        await _produce_until_read(harness, reader)
        assert connector.health.state is Health.ONLINE


async def check_closes(harness: Harness) -> None:
    async with _online(harness) as (connector, _, reader):
        pass
    await reader.ended(timeout=5.0)
    assert connector.health.state is Health.OFFLINE


CHECKS: tuple[Callable[[Harness], Awaitable[None]], ...] = (
    check_reads,
    check_starts_without_source,
    check_recovers,
    check_refuses_malformed,
    check_closes,
)
