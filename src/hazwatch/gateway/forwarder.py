"""The forwarder: sends queued messages upstream, live data first and backlog at a set rate.

Ordering guarantee. The queue is split at a moving boundary into *backlog* (messages
stored before the upstream last came up: at start, or back from an outage) and *live*
(everything after). Each part is sent oldest first, in queue order; the backlog is paced
at ``replay_per_s`` messages per second, live messages go as soon as the upstream takes
them, so live data may overtake the backlog but never starves behind it, and the backlog
is never starved either (when both wait, a backlog message whose turn has come goes
first). Whenever the upstream comes up, everything not yet sent joins the backlog.

A message is deleted from the queue only once delivered; one that was delivered but not
yet deleted when the gateway stopped is sent again after a restart (the platform refuses
the duplicate (tag, ts) readings, so a resend changes nothing).

The "data dropped" report: when the queue had to evict readings and a ``dropped_key`` is
set, a reading of that tag with the cumulative evicted count goes out before anything else
as soon as the upstream takes messages (then at most every ``REPORT_EVERY_S`` while
evictions go on); the count reported is recorded in the queue file, so a restart neither
forgets nor repeats a report.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from hazwatch.connectors.base import Health
from hazwatch.domain.clock import Millis
from hazwatch.gateway.encode import Message, report_message
from hazwatch.gateway.queue import MessageQueue, Queued
from hazwatch.gateway.upstream import Delivery, Upstream

log = logging.getLogger(__name__)

REPORT_EVERY_S = 5.0
"""the dropped count is reported at most this often while readings keep being evicted"""


@dataclass(slots=True)
class Counters:
    """What the forwarder has done since it started."""

    delivered_messages: int = 0
    delivered_readings: int = 0
    rejected_readings: int = 0
    refused_messages: int = 0
    replayed_messages: int = 0
    live_messages: int = 0
    in_flight: int = 0
    reports: int = 0


class Forwarder:
    """Moves messages from a ``MessageQueue`` to an ``Upstream`` (see module docstring)."""

    def __init__(
        self,
        queue: MessageQueue,
        upstream: Upstream,
        *,
        replay_per_s: float,
        now: Callable[[], Millis],
        dropped_key: str | None = None,
    ) -> None:
        if replay_per_s <= 0:
            raise ValueError("replay_per_s must be positive")
        self.queue = queue
        self.upstream = upstream
        self.replay_per_s = replay_per_s
        self.counters = Counters()
        self._now = now
        self._dropped_key = dropped_key
        self._stored = asyncio.Event()
        self._changed = asyncio.Event()
        self._acks: list[int] = []
        self._ack_wanted = asyncio.Event()
        self._live_after = queue.last_seq
        self._backlog_after = 0
        self._backlog_through = queue.last_seq
        self._rewinds = 0  # times a message was sent back to the backlog
        self._seen_outages = -1  # the first connection ends an outage too
        self._tokens = 1.0
        self._burst = max(1.0, replay_per_s / 10)
        self._refilled = 0.0
        self._report_ts: Millis = 0
        self._reporting = False
        self._next_report = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._paused = False

    async def settle(self, timeout: float) -> bool:
        """Send nothing more; wait up to ``timeout`` seconds for the messages in flight to
        be settled (so that fewer are sent twice after a restart). True if all were."""
        self._paused = True
        self._changed.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.counters.in_flight > 0:
            remaining = deadline - loop.time()
            if remaining <= 0 or self.upstream.health.state is not Health.ONLINE:
                return False
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True

    def stored(self) -> None:
        """Tell the forwarder that messages were appended to the queue."""
        self._stored.set()

    @property
    def replaying(self) -> bool:
        """Whether a backlog is still being replayed."""
        return self._backlog_after < self._backlog_through

    async def run(self) -> None:
        """Forward until cancelled; on the way out, record what was delivered."""
        acker = asyncio.create_task(self._ack_loop(), name="gateway acks")
        try:
            await self._forward()
        finally:
            for task in list(self._tasks):
                task.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)
            acker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await acker
            self._flush_acks()

    async def _forward(self) -> None:
        loop = asyncio.get_running_loop()
        self._refilled = loop.time()
        while True:
            if self._paused:
                await asyncio.Event().wait()  # until cancelled
            await self.upstream.ready()
            if self.upstream.outages != self._seen_outages:
                self._seen_outages = self.upstream.outages
                self._demote()
            self._stored.clear()
            self._changed.clear()
            free = self.upstream.max_in_flight - self.counters.in_flight
            if free <= 0 or self._paused:
                await self._changed.wait()
                continue
            sent = self._report()
            free -= sent
            wait: float | None = None
            if free > 0 and self.replaying:
                replayed = await self._replay(free, loop.time())
                sent += replayed
                free -= replayed
                if self.replaying:
                    wait = max(0.001, (1 - self._tokens) / self.replay_per_s)
            if free > 0:
                live = await asyncio.to_thread(self.queue.peek, free, after=self._live_after)
                if live:
                    self._live_after = live[-1].seq
                    self._send(live, replay=False)
                    sent += len(live)
            if sent:
                await asyncio.sleep(0)
                continue
            await self._idle(wait)

    async def _replay(self, free: int, now: float) -> int:
        """Send the backlog messages whose turn has come (at most ``free``); how many."""
        self._refill(now)
        due = min(free, int(self._tokens))
        if not due:
            return 0
        rewinds = self._rewinds
        backlog = await asyncio.to_thread(
            self.queue.peek, due, after=self._backlog_after, through=self._backlog_through
        )
        # a message sent back meanwhile moved the bounds: keep them (the pins keep what was
        # just taken from being taken twice)
        if self._rewinds == rewinds:
            if len(backlog) < due:
                self._backlog_after = self._backlog_through  # caught up
                log.info("gateway: backlog replayed")
            if backlog:
                self._backlog_after = max(self._backlog_after, backlog[-1].seq)
        self._tokens -= len(backlog)
        self._send(backlog, replay=True)
        return len(backlog)

    async def _idle(self, timeout: float | None) -> None:
        """Wait for new messages, a freed slot, or the backlog's next turn."""
        waiters = [
            asyncio.ensure_future(self._stored.wait()),
            asyncio.ensure_future(self._changed.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _refill(self, now: float) -> None:
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self.replay_per_s)
        self._refilled = now

    def _demote(self) -> None:
        """After an outage, all not yet sent becomes backlog."""
        last = self.queue.last_seq
        self._backlog_through = max(self._backlog_through, last)
        self._live_after = max(self._live_after, last)

    def _send(self, items: list[Queued], *, replay: bool) -> None:
        for item in items:
            future = self.upstream.submit(item.body)
            self.counters.in_flight += 1
            if replay:
                self.counters.replayed_messages += 1
            else:
                self.counters.live_messages += 1
            self._track(self._settle(item, future))

    def _track(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _settle(self, item: Queued, future: asyncio.Future[Delivery]) -> None:
        try:
            delivery = await future
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # not taken at all: send it again with the backlog
            log.warning("gateway: message %d not sent (%s); will resend it", item.seq, exc)
            self.queue.unpin([item.seq])
            self._rewinds += 1
            self._backlog_after = min(self._backlog_after, item.seq - 1)
            self._backlog_through = max(self._backlog_through, item.seq)
            self._release()
            return
        if delivery.ok:
            self.counters.delivered_messages += 1
            self.counters.delivered_readings += item.readings
            self.counters.rejected_readings += delivery.rejected
            self._acks.append(item.seq)
            self._ack_wanted.set()
        else:
            self.counters.refused_messages += 1
            log.error(
                "gateway: upstream refused message %d of %d readings for good [%s] %s; "
                "kept as a dead letter",
                item.seq,
                item.readings,
                delivery.code,
                delivery.detail,
            )
            await asyncio.to_thread(
                self.queue.dead_letter,
                item.seq,
                at=self._now(),
                reason=delivery.code,
                detail=delivery.detail,
            )
        self._release()

    def _release(self) -> None:
        self.counters.in_flight -= 1
        self._changed.set()

    # the "data dropped" report ---------------------------------------------------------

    def _report(self) -> int:
        if self._dropped_key is None or self._reporting:
            return 0
        dropped = self.queue.dropped_readings
        if dropped <= self.queue.reported_dropped:
            return 0
        now = asyncio.get_running_loop().time()
        if now < self._next_report:
            return 0
        self._next_report = now + REPORT_EVERY_S
        self._report_ts = max(self._now(), self._report_ts + 1)
        message = report_message(self._dropped_key, self._report_ts, float(dropped))
        self._reporting = True
        self.counters.in_flight += 1
        self._track(self._settle_report(message, dropped, self.upstream.submit(message.body)))
        return 1

    async def _settle_report(
        self, message: Message, dropped: int, future: asyncio.Future[Delivery]
    ) -> None:
        try:
            delivery = await future
            if delivery.ok:
                self.counters.reports += 1
                log.warning(
                    "gateway: reported %d dropped readings on %s", dropped, self._dropped_key
                )
            else:
                log.error(
                    "gateway: upstream refused the dropped-count report [%s] %s; "
                    "kept as a dead letter",
                    delivery.code,
                    delivery.detail,
                )
                await asyncio.to_thread(
                    self.queue.keep,
                    message,
                    at=self._now(),
                    reason=delivery.code,
                    detail=delivery.detail,
                )
            await asyncio.to_thread(self.queue.mark_reported, dropped)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("gateway: dropped-count report not sent (%s); will retry", exc)
        finally:
            self._reporting = False
            self._release()

    # acknowledgements ------------------------------------------------------------------

    async def _ack_loop(self) -> None:
        while True:
            await self._ack_wanted.wait()
            self._ack_wanted.clear()
            seqs, self._acks = self._acks, []
            if seqs:
                try:
                    await asyncio.to_thread(self.queue.ack, seqs)
                except BaseException:
                    self._acks = seqs + self._acks
                    raise

    def _flush_acks(self) -> None:
        seqs, self._acks = self._acks, []
        if seqs:
            try:
                self.queue.ack(seqs)
            except Exception:  # the messages will be sent again after a restart
                log.exception("gateway: could not record %d delivered messages", len(seqs))
