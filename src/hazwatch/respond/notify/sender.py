"""Delivers planned messages: retries with capped jittered backoff, then falls back to the
recipient's next channel, recording every outcome, and never sends an idempotency key twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from hazwatch.domain.backoff import jittered_delay
from hazwatch.domain.clock import Millis
from hazwatch.respond.notify.channel import Channel, ChannelError
from hazwatch.respond.notify.ledger import DeliveryLog
from hazwatch.respond.notify.message import Delivery, DeliveryStatus
from hazwatch.respond.notify.pipeline import LAST_RESORT, PlannedDelivery, idempotency_key

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], Millis]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    """Tries per channel and the waits between them (``domain.backoff``, as the connectors'
    reconnects), so many failed sends do not retry in lockstep."""

    attempts: int = 3
    initial: float = 1.0
    cap: float = 30.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or not 0 < self.initial <= self.cap or self.factor < 1:
            raise ValueError("retry needs attempts >= 1, 0 < initial <= cap, factor >= 1")

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait after failed try number ``attempt`` (0-based)."""
        return jittered_delay(
            attempt, initial=self.initial, cap=self.cap, factor=self.factor, rng=rng
        )


class Sender:
    """Sends planned deliveries over the named channels.

    For each planned delivery: skip it when any of its keys was already delivered (a
    replayed plan sends nothing twice); otherwise try the channels in order, each up to
    ``retry.attempts`` times while its errors are retryable. Success on the first channel
    records ``sent``; success on a later one records ``fell_back``; each channel given up
    records ``failed``. A channel missing from ``channels`` counts as failed.
    """

    def __init__(
        self,
        *,
        channels: Mapping[str, Channel],
        log: DeliveryLog,
        clock: Clock,
        retry: Retry | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self._channels = dict(channels)
        self._log = log
        self._clock = clock
        self._retry = retry or Retry()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._in_flight: set[str] = set()

    async def deliver(self, planned: PlannedDelivery) -> Delivery | None:
        """Send one planned delivery; the final record, or None when it was already sent
        (or is being sent right now)."""
        keys = set(planned.keys)
        if keys & self._in_flight:
            return None
        # every channel the recipient could have been told on, not only those planned now:
        # a replay after quiet hours began plans fewer channels than the original did
        ids = planned.message.notice_ids
        user = planned.recipient.user
        possible = [*planned.recipient.channels, LAST_RESORT]
        for key in keys | {idempotency_key(user, c, ids) for c in possible}:
            if await self._log.delivered(key):
                return None
        self._in_flight |= keys
        try:
            return await self._deliver(planned)
        finally:
            self._in_flight -= keys

    async def _deliver(self, planned: PlannedDelivery) -> Delivery:
        last: Delivery | None = None
        for position, (name, key) in enumerate(zip(planned.channels, planned.keys, strict=True)):
            last = await self._try(planned, name, key, fallback=position > 0)
            await self._log.record(last)
            if last.status is not DeliveryStatus.FAILED:
                return last
            log.warning("notification to %s over %s failed: %s", last.recipient, name, last.error)
        assert last is not None, "a planned delivery has at least one channel"
        return last

    async def _try(
        self, planned: PlannedDelivery, name: str, key: str, *, fallback: bool
    ) -> Delivery:
        user = planned.recipient.user
        channel = self._channels.get(name)
        if channel is None:
            return Delivery(
                channel=name,
                recipient=user,
                key=key,
                status=DeliveryStatus.FAILED,
                at=self._clock(),
                error="channel not configured",
            )
        error = ""
        attempts = 0
        for attempt in range(self._retry.attempts):
            attempts = attempt + 1
            try:
                await channel.send(planned.message, planned.recipient, key=key)
            except ChannelError as exc:
                error = exc.detail
                if not exc.retryable:
                    break
                if attempts < self._retry.attempts:
                    await self._sleep(self._retry.delay(attempt, self._rng))
                continue
            status = DeliveryStatus.FELL_BACK if fallback else DeliveryStatus.SENT
            return Delivery(
                channel=name,
                recipient=user,
                key=key,
                status=status,
                attempts=attempts,
                at=self._clock(),
            )
        return Delivery(
            channel=name,
            recipient=user,
            key=key,
            status=DeliveryStatus.FAILED,
            attempts=attempts,
            at=self._clock(),
            error=error,
        )
