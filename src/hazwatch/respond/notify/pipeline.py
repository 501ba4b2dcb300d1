"""The pure stages of the notification pipeline: mute → dedup → group → rate-limit → plan.

After Alertmanager's notify pipeline. Every stage does no I/O and reads no clock: ``now``
(epoch milliseconds, UTC) is a parameter. Stages that must remember (dedup, group, rate
limit) are small objects holding only that memory; the rest are functions. Sending the
planned deliveries, with retries and fallback, is ``sender.Sender``'s job.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from hazwatch.domain.clock import Millis
from hazwatch.respond.notify.message import HIGHEST_RANK, Message, Notice, Recipient

SILENT_CHANNELS: frozenset[str] = frozenset({"inapp"})
"""Channels that disturb nobody, used during quiet hours."""

LAST_RESORT = "inapp"
"""Appended to every recipient's channels, so a message is never silently lost when every
preferred channel is down."""


def mute(notices: Iterable[Notice], muted: Callable[[Notice], bool]) -> list[Notice]:
    """The notices ``muted`` lets through. ``muted`` answers True for a notice whose alarm
    is shelved, suppressed by design or out of service (ISA-18.2 states), or whose warning
    the operator has silenced."""
    return [n for n in notices if not muted(n)]


class Dedup:
    """Tells each condition once per window: a notice whose ``dedup_key`` was let through
    less than ``window_ms`` ago is dropped.

    The window counts from the last notice let through, not the last one seen, so a
    condition that keeps chattering is told again every ``window_ms`` rather than never.
    """

    def __init__(self, *, window_ms: Millis) -> None:
        if window_ms <= 0:
            raise ValueError("dedup window must be positive")
        self.window_ms = window_ms
        self._told: dict[str, Millis] = {}

    def admit(self, notices: Iterable[Notice], now: Millis) -> list[Notice]:
        admitted: list[Notice] = []
        for notice in notices:
            told = self._told.get(notice.dedup_key)
            if told is not None and now - told < self.window_ms:
                continue
            self._told[notice.dedup_key] = now
            admitted.append(notice)
        self._forget(now)
        return admitted

    def _forget(self, now: Millis) -> None:
        stale = [k for k, at in self._told.items() if now - at >= self.window_ms]
        for key in stale:
            del self._told[key]


@dataclass(slots=True)
class _Group:
    opened_at: Millis
    notices: list[Notice] = field(default_factory=list)


class Grouper:
    """Collects the notices for each recipient into one message per interval, so a flood of
    alarms becomes a handful of messages.

    A recipient with nothing recently sent gets the first message ``wait_ms`` after the
    first notice (so the rest of a burst joins it); after that, at most one message every
    ``interval_ms`` while notices keep coming. Every notice routed to a recipient appears in
    exactly one of that recipient's messages.
    """

    def __init__(self, *, wait_ms: Millis, interval_ms: Millis) -> None:
        if wait_ms < 0 or interval_ms <= 0:
            raise ValueError("group wait must be >= 0 and interval > 0")
        self.wait_ms, self.interval_ms = wait_ms, interval_ms
        self._open: dict[str, _Group] = {}
        self._last_sent: dict[str, Millis] = {}

    def add(self, notices: Iterable[Notice], recipients: Sequence[Recipient], now: Millis) -> None:
        """Route each notice to every recipient that wants it."""
        for notice in notices:
            for recipient in recipients:
                if recipient.wants(notice):
                    group = self._open.setdefault(recipient.user, _Group(opened_at=now))
                    group.notices.append(notice)

    def due(self, user: str) -> Millis | None:
        """When the recipient's open group closes (None: nothing open)."""
        group = self._open.get(user)
        if group is None:
            return None
        closes = group.opened_at + self.wait_ms
        last = self._last_sent.get(user)
        return closes if last is None else max(closes, last + self.interval_ms)

    def flush(self, now: Millis) -> list[Message]:
        """The messages of every group due by ``now``."""
        messages: list[Message] = []
        for user in sorted(self._open):
            due = self.due(user)
            if due is None or due > now:
                continue
            group = self._open.pop(user)
            self._last_sent[user] = now
            ordered = sorted(group.notices, key=lambda n: (-n.rank, n.at, n.id))
            messages.append(Message(recipient=user, notices=tuple(ordered), at=now))
        idle = [
            u
            for u, at in self._last_sent.items()
            if u not in self._open and now - at >= self.interval_ms
        ]
        for user in idle:
            del self._last_sent[user]
        return messages


class RateLimit:
    """A token bucket per (recipient, channel): ``burst`` messages at once, refilled at one
    token per ``refill_ms``. A backstop behind grouping against a misconfigured rule."""

    def __init__(self, *, burst: int, refill_ms: Millis) -> None:
        if burst < 1 or refill_ms <= 0:
            raise ValueError("rate limit needs burst >= 1 and refill_ms > 0")
        self.burst, self.refill_ms = burst, refill_ms
        self._buckets: dict[tuple[str, str], tuple[float, Millis]] = {}

    def take(self, user: str, channel: str, now: Millis) -> bool:
        """Take a token if one is left; True when the message may go."""
        tokens, since = self._buckets.get((user, channel), (float(self.burst), now))
        tokens = min(float(self.burst), tokens + max(0, now - since) / self.refill_ms)
        if tokens < 1.0:
            self._buckets[(user, channel)] = (tokens, now)
            return False
        self._buckets[(user, channel)] = (tokens - 1.0, now)
        return True


def idempotency_key(user: str, channel: str, notice_ids: Iterable[str]) -> str:
    """A stable key of (recipient, channel, grouped notice ids): SHA-256 hex. The ids are
    sorted, so the same group replayed in another order has the same key."""
    material = "\x1f".join([user, channel, *sorted(notice_ids)])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedDelivery:
    """One message to send, over ``channels`` in order (the first is preferred, the rest
    are fallbacks), each with its idempotency key in ``keys``."""

    message: Message
    recipient: Recipient
    channels: tuple[str, ...]
    keys: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """``deliveries`` to send now; ``deferred`` messages that no channel may carry now (rate
    limited): plan them again later — they are never dropped."""

    deliveries: tuple[PlannedDelivery, ...]
    deferred: tuple[Message, ...]


def channels_for(recipient: Recipient, message: Message, now: Millis) -> tuple[str, ...]:
    """The channels a message may use now, in preference order, last resort included.
    During quiet hours only silent channels remain, unless the message holds a notice of
    the highest rank."""
    channels = [*recipient.channels]
    if LAST_RESORT not in channels:
        channels.append(LAST_RESORT)
    quiet = recipient.quiet_hours
    if quiet is not None and message.rank < HIGHEST_RANK and quiet.covers(now):
        channels = [c for c in channels if c in SILENT_CHANNELS]
    return tuple(channels)


def plan(
    messages: Iterable[Message],
    recipients: Sequence[Recipient],
    now: Millis,
    limit: RateLimit | None = None,
) -> Plan:
    """Choose channels for each message by its recipient's preferences, quiet hours and the
    rate limit. The first channel with a token is preferred; the channels after it stay as
    fallbacks. Messages for unknown recipients are dropped (the recipient was removed)."""
    by_user = {r.user: r for r in recipients}
    deliveries: list[PlannedDelivery] = []
    deferred: list[Message] = []
    for message in messages:
        recipient = by_user.get(message.recipient)
        if recipient is None:
            continue
        channels = channels_for(recipient, message, now)
        if limit is not None:
            start = next(
                (i for i, c in enumerate(channels) if limit.take(recipient.user, c, now)),
                None,
            )
            if start is None:
                deferred.append(message)
                continue
            channels = channels[start:]
        keys = tuple(idempotency_key(recipient.user, c, message.notice_ids) for c in channels)
        deliveries.append(
            PlannedDelivery(message=message, recipient=recipient, channels=channels, keys=keys)
        )
    return Plan(deliveries=tuple(deliveries), deferred=tuple(deferred))
