"""Notifications of playbook runs, delivered off the engine thread.

A run's ``notify`` step posts a ``NotifyRequest`` (one notice, the people to tell, the
step's channels — each of them used — or else each person's own, in order of preference)
from the engine thread; the ``Dispatcher`` takes it on the event loop
through the notification pipeline — deduplicate (the same step for the same alarm within
``Grouping.dedup_ms`` is told once), group (a flood becomes a few messages per person),
rate-limit, plan (preferences, quiet hours, idempotency keys) — and sends with the
``Sender`` (retries, backoff, fallback, in-app last, every attempt in the delivery log).
When every person of a request has been told, or given up on, the outcome goes back to
the run through ``report`` (``done`` if anyone was told, ``failed`` otherwise).

Durability: a request's notice id is the order's idempotency key, so a request posted
again after a restart plans the same keys, and the ``Sender`` skips those already sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Priority
from hazwatch.respond.notify.channel import Channel
from hazwatch.respond.notify.ledger import DeliveryLog
from hazwatch.respond.notify.message import (
    Delivery,
    DeliveryStatus,
    Message,
    Notice,
    Recipient,
    rank_of,
)
from hazwatch.respond.notify.pipeline import (
    SILENT_CHANNELS,
    Dedup,
    Grouper,
    PlannedDelivery,
    RateLimit,
    plan,
)
from hazwatch.respond.notify.sender import Retry, Sender
from hazwatch.respond.playbook import StepOutcome
from hazwatch.runtime.clock import Clock

log = logging.getLogger(__name__)

POLL_S = 0.2
"""How often due groups are flushed while nothing new arrives (wall seconds)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyRequest:
    """Tell ``recipients`` about ``notice``; ``notice.id`` is the order's key.

    ``channels``: the step's channels, in order (empty: each person's own preferences).
    """

    notice: Notice
    recipients: tuple[Recipient, ...]
    channels: tuple[str, ...] = ()


Report = Callable[[str, StepOutcome, str], None]
"""``report(order_key, outcome, detail)``: a request is settled."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Grouping:
    """Flood control: the first message to a person goes after ``wait_ms``; after that
    at most one every ``interval_ms`` while notices keep coming."""

    wait_ms: Millis = 0
    interval_ms: Millis = 60_000
    dedup_ms: Millis = 10 * 60_000
    burst: int = 5
    refill_ms: Millis = 60_000


@dataclass(slots=True)
class _Tally:
    """Who of a request is still waiting, by (person, lane)."""

    waiting: set[tuple[str, tuple[str, ...]]]
    told: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    def settle(self, user: str, lane: tuple[str, ...], delivery: Delivery | None) -> None:
        if (user, lane) not in self.waiting:
            return
        self.waiting.discard((user, lane))
        if delivery is None:
            self.told.append((user, "already told"))
        elif delivery.status is DeliveryStatus.FAILED:
            self.failed.append((user, f"{delivery.channel}: {delivery.error}"))
        else:
            self.told.append((user, delivery.channel))

    def outcome(self) -> tuple[StepOutcome, str]:
        parts = []
        if self.told:
            parts.append("told " + ", ".join(f"{u} ({c})" for u, c in self.told))
        if self.failed:
            parts.append("not told " + ", ".join(f"{u} ({e})" for u, e in self.failed))
        return (StepOutcome.DONE if self.told else StepOutcome.FAILED), "; ".join(parts)


class Dispatcher:
    """Takes notify requests from any thread and delivers them on the event loop that runs
    ``run()``. ``channels()`` gives the channels by name as configured now (read again
    before every flush, so a changed configuration applies to the next message)."""

    def __init__(
        self,
        *,
        channels: Callable[[], Mapping[str, Channel]],
        log: DeliveryLog,
        clock: Clock,
        grouping: Grouping | None = None,
        retry: Retry | None = None,
    ) -> None:
        self._channels = channels
        self._log = log
        self._clock = clock
        self._grouping = grouping or Grouping()
        self._retry = retry or Retry()
        self._limit = RateLimit(burst=self._grouping.burst, refill_ms=self._grouping.refill_ms)
        self._dedup = Dedup(window_ms=self._grouping.dedup_ms)
        self.report: Report = lambda key, outcome, detail: None
        self._lock = threading.Lock()
        self._inbound: list[NotifyRequest] = []
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # one grouper per channel list, so a message never mixes steps' channel choices
        self._groupers: dict[tuple[str, ...], Grouper] = {}
        self._recipients: dict[tuple[str, ...], dict[str, Recipient]] = {}
        self._deferred: list[tuple[tuple[str, ...], Message]] = []
        self._tallies: dict[str, _Tally] = {}
        self._sending: set[asyncio.Task[None]] = set()

    def post(self, request: NotifyRequest) -> None:
        """Hand a request over (any thread). Kept until ``run`` takes it."""
        with self._lock:
            self._inbound.append(request)
            loop, wake = self._loop, self._wake
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    async def run(self) -> None:
        """Deliver until cancelled."""
        wake = asyncio.Event()
        with self._lock:
            self._loop, self._wake = asyncio.get_running_loop(), wake
        try:
            while True:
                self._take(self._clock.now())
                await self._flush(self._clock.now())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), POLL_S)
                wake.clear()
        finally:
            with self._lock:
                self._loop = self._wake = None
            for task in list(self._sending):
                task.cancel()

    def _take(self, now: Millis) -> None:
        with self._lock:
            inbound, self._inbound = self._inbound, []
        for request in inbound:
            notice = request.notice
            if notice.id in self._tallies or not request.recipients:
                continue
            if not self._dedup.admit([notice], now):
                told = ", ".join(p.user for p in request.recipients)
                self._settle(notice.id, StepOutcome.DONE, f"{told} told of it already (dedup)")
                continue
            tally = self._tallies[notice.id] = _Tally(waiting=set())
            for person in request.recipients:
                # the step's channels are each used; a person's own are preferences, the
                # later ones fallbacks
                lanes: list[tuple[str, ...]] = [(c,) for c in request.channels]
                lanes = lanes or [person.channels]
                for lane in lanes:
                    channels = lane
                    if notice.rank < rank_of(person.min_priority):
                        # below the person's minimum: told, but only where it disturbs nobody
                        channels = tuple(c for c in lane if c in SILENT_CHANNELS)
                    # the playbook chose these people for this event: their scopes and
                    # minimum priority do not filter it out
                    chosen = replace(
                        person, channels=channels, scopes=(), min_priority=Priority.LOW
                    )
                    grouper = self._groupers.setdefault(
                        channels,
                        Grouper(
                            wait_ms=self._grouping.wait_ms, interval_ms=self._grouping.interval_ms
                        ),
                    )
                    self._recipients.setdefault(channels, {})[person.user] = chosen
                    grouper.add([notice], [chosen], now)
                    tally.waiting.add((person.user, channels))

    async def _flush(self, now: Millis) -> None:
        due: list[tuple[tuple[str, ...], Message]] = self._deferred
        self._deferred = []
        for channels, grouper in self._groupers.items():
            due.extend((channels, m) for m in grouper.flush(now))
        if not due:
            return
        sender = Sender(
            channels=self._channels(), log=self._log, clock=self._clock.now, retry=self._retry
        )
        for channels, message in due:
            people = list(self._recipients.get(channels, {}).values())
            planned = plan([message], people, now, self._limit)
            self._deferred.extend((channels, m) for m in planned.deferred)
            for delivery in planned.deliveries:
                task = asyncio.create_task(self._send(sender, delivery, channels))
                self._sending.add(task)
                task.add_done_callback(self._sending.discard)

    async def _send(self, sender: Sender, planned: PlannedDelivery, lane: tuple[str, ...]) -> None:
        message = planned.message
        try:
            result = await sender.deliver(planned)
        except Exception as exc:  # a broken channel must not stop the others
            log.exception("delivery to %s failed", message.recipient)
            result = Delivery(
                channel=planned.channels[0],
                recipient=message.recipient,
                key=planned.keys[0],
                status=DeliveryStatus.FAILED,
                at=self._clock.now(),
                error=str(exc),
            )
        for notice_id in message.notice_ids:
            tally = self._tallies.get(notice_id)
            if tally is None:
                continue
            tally.settle(message.recipient, lane, result)
            if not tally.waiting:
                del self._tallies[notice_id]
                self._settle(notice_id, *tally.outcome())

    def _settle(self, notice_id: str, outcome: StepOutcome, detail: str) -> None:
        """Report off the loop: the engine's queue may be full for a moment."""
        task = asyncio.create_task(asyncio.to_thread(self.report, notice_id, outcome, detail))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)
