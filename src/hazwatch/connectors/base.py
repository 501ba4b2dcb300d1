"""The connector contract: what every source of readings is, whatever its protocol.

A connector is an async context manager and an async iterator of ``Batch``es::

    async with build(config, link) as connector:   # starts connecting, returns at once
        async for batch in connector:              # ends after the context exits
            ...

Entering never waits for the source: a PLC that is down at start-up is reconnected in the
background with capped, jittered exponential backoff, and ``connector.health`` says where
it stands (``connecting`` → ``online``; ``degraded`` while part of it fails, such as one
device of several; ``offline`` between attempts, or while connected but no device behind
it answers). Health can be awaited.

A connector does no storage and no validation beyond decoding. It is given a ``Link``
by whoever runs it (the platform, the edge gateway, ``hazwatch connector test``): tag keys
resolve to ids there, undecodable input is handed back as a ``DeadLetter`` with a reason,
and device health changes are reported by device key. Nothing a source sends may end the
connector: a bad payload is refused and the stream goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from hazwatch.domain.backoff import jittered_delay
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import Millis
from hazwatch.domain.link import Health
from hazwatch.domain.reject import DeadLetter
from hazwatch.domain.tag import TagDeclaration

__all__ = [
    "AuthError",
    "Backoff",
    "ConnectError",
    "Connector",
    "ConnectorBase",
    "ConnectorError",
    "DeviceError",
    "Health",
    "HealthState",
    "Link",
    "ProtocolError",
    "TagDeclaration",
]

log = logging.getLogger(__name__)


class HealthState:
    """The current health of a connector or device, with a reason; changes can be awaited.

    Set it from the event loop's thread (a library callback thread hands over first)."""

    def __init__(self, state: Health = Health.CONNECTING, detail: str = "") -> None:
        self.state = state
        self.detail = detail
        self._version = 0
        self._changed = asyncio.Event()

    def set(self, state: Health, detail: str = "") -> None:
        """Record a state; waiters wake only when the state (not just the detail) changes."""
        changed = state is not self.state
        self.state, self.detail = state, detail
        if changed:
            self._version += 1
            self._changed.set()
            self._changed = asyncio.Event()

    @property
    def version(self) -> int:
        """Counts changes of state; pass it to ``changed_since`` to miss none."""
        return self._version

    async def wait_for(self, *states: Health) -> Health:
        """Return as soon as the state is one of ``states`` (at once if it already is)."""
        while self.state not in states:
            await self._changed.wait()
        return self.state

    async def changed_since(self, version: int) -> Health:
        """Wait until the state changed after ``version`` was read; return the state."""
        while self._version == version:
            await self._changed.wait()
        return self.state

    async def next_change(self) -> Health:
        """Wait for the next change of state and return the new state."""
        return await self.changed_since(self._version)


class ConnectorError(Exception):
    """A connector failed. ``code`` is the protocol's own code where it has one
    (``mqtt.5``, ``opcua.BadTimeout``, ``modbus.exception.2``); ``retryable`` says whether
    trying again can help (a refused password cannot)."""

    def __init__(self, message: str, *, code: str, retryable: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.retryable = retryable

    def __str__(self) -> str:
        return f"{super().__str__()} [{self.code}]"


class ConnectError(ConnectorError):
    """The source cannot be reached, or the link to it was lost."""


class AuthError(ConnectorError):
    """The source refused our credentials or our right to a resource."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message, code=code, retryable=False)


class ProtocolError(ConnectorError):
    """The source answered, but not in a way we can use (wrong type, unknown node…)."""


class DeviceError(ConnectorError):
    """One device behind the connection failed (a Modbus exception, a dead Sparkplug node)."""


class Backoff:
    """Capped exponential backoff with jitter (``domain.backoff``), counting attempts, so a
    plant's worth of connectors does not reconnect in lockstep."""

    def __init__(
        self,
        *,
        initial: float = 0.5,
        cap: float = 30.0,
        factor: float = 2.0,
        rng: random.Random | None = None,
    ) -> None:
        if not 0 < initial <= cap or factor < 1:
            raise ValueError("backoff needs 0 < initial <= cap and factor >= 1")
        self.initial, self.cap, self.factor = initial, cap, factor
        self._rng = rng or random.Random()
        self.attempt = 0

    def next(self) -> float:
        delay = jittered_delay(
            self.attempt, initial=self.initial, cap=self.cap, factor=self.factor, rng=self._rng
        )
        self.attempt += 1
        return delay

    def reset(self) -> None:
        self.attempt = 0


Resolve = Callable[[str], int | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Link:
    """What a connector gets from the process that runs it.

    ``resolve``: tag key → tag id, or None for a tag the platform does not know.
    ``refuse``: keep undecodable input (never raises; any thread).
    ``device``: a device (its scope key, e.g. ``lpg.main.sphere-farm.plc-1``) changed health.
    ``declare``: make tags known (``resolve`` finds them once it returns); None where the
    runner cannot create tags, in which case announced tags that are unknown are refused.
    ``now``: the runner's clock, for ``Batch.received`` and dead letters.
    """

    resolve: Resolve
    refuse: Callable[[DeadLetter], None]
    device: Callable[[str, Health, str], None]
    now: Callable[[], Millis]
    declare: Callable[[Sequence[TagDeclaration]], Awaitable[None]] | None = None


class Connector(Protocol):
    name: str
    health: HealthState

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def __aiter__(self) -> AsyncIterator[Batch]: ...


_END = object()


class ConnectorBase(ABC):
    """The shared machinery: a background session loop with backoff, health, and a bounded
    queue of batches read by ``async for``.

    A family implements ``session()``: connect, then read and ``await self.emit(batch)``
    until the link fails (raise ``ConnectorError``, or let the library's own exception
    out) or the connector is cancelled. When the queue is full, ``emit`` waits: a slow
    consumer slows the reading instead of losing data.
    """

    def __init__(
        self, name: str, link: Link, *, backoff: Backoff | None = None, queue_size: int = 64
    ) -> None:
        self.name = name
        self.link = link
        self.health = HealthState()
        self.errors = 0
        self.last_error: ConnectorError | None = None
        self._backoff = backoff or Backoff()
        self._queue: asyncio.Queue[object] = asyncio.Queue(maxsize=queue_size)
        self._task: asyncio.Task[None] | None = None
        self._closer: asyncio.Task[None] | None = None

    @abstractmethod
    async def session(self) -> None:
        """One connection's life: connect, read, emit; return or raise when it ends."""

    async def emit(self, batch: Batch) -> None:
        if len(batch):
            await self._queue.put(batch)

    def online(self, detail: str = "") -> None:
        """Mark the connection usable; resets the backoff."""
        self._backoff.reset()
        self.health.set(Health.ONLINE, detail)

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._run(), name=f"connector {self.name}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.health.set(Health.OFFLINE, "closed")
        try:
            self._queue.put_nowait(_END)
        except asyncio.QueueFull:  # the reader ends after the batches still queued
            self._closer = asyncio.create_task(self._queue.put(_END))

    async def __aiter__(self) -> AsyncIterator[Batch]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            assert isinstance(item, Batch)
            yield item

    async def _run(self) -> None:
        while True:
            self.health.set(Health.CONNECTING)
            try:
                await self.session()
                error: ConnectorError = ConnectError("session ended", code="closed")
            except asyncio.CancelledError:
                raise
            except ConnectorError as exc:
                error = exc
            except Exception as exc:  # a library's own failure: treat as a lost link
                error = ConnectError(f"{type(exc).__name__}: {exc}", code=type(exc).__name__)
            self.errors += 1
            self.last_error = error
            delay = self._backoff.next()
            if not error.retryable:
                delay = max(delay, self._backoff.cap)
            log.warning("connector %s: %s; retrying in %.1f s", self.name, error, delay)
            self.health.set(Health.OFFLINE, str(error))
            await asyncio.sleep(delay)
