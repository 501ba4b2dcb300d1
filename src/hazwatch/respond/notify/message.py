"""The values of the notification pipeline: what happened, to whom it goes, what was sent.

A ``Notice`` is one alarm or early warning worth telling someone about. Alarm priorities
(low … critical) and warning colours (blue … red) share one severity ``rank`` 1 … 4, so a
recipient's minimum priority and the quiet-hours exemption apply to both: rank 4 (critical
alarm, red warning) is the highest and is never held back by quiet hours.

A ``Message`` is what one recipient receives: one or more notices grouped together. A
``Delivery`` records the outcome of sending one message over one channel.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour

HIGHEST_RANK = 4
"""The rank of a critical alarm or a red warning."""

LISTED_NOTICES = 20
"""A message lists at most this many notices by name; the rest appear only in the counts,
so that a flood still fits a robot message (WeCom markdown allows 4,096 bytes)."""

_PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.CRITICAL: 4}


def rank_of(level: Priority | Colour) -> int:
    """Severity 1 (low priority, blue) … 4 (critical priority, red)."""
    return level.rank if isinstance(level, Colour) else _PRIORITY_RANK[level]


class SourceKind(StrEnum):
    ALARM = "alarm"
    WARNING = "warning"
    TEST = "test"
    """A message sent to check a channel: no alarm or warning behind it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """One thing worth telling: an alarm (``level`` a ``Priority``) or an early warning
    (``level`` a ``Colour``).

    ``id`` identifies this occurrence (e.g. ``"alarm:12:HH:7"`` — tag, condition, sequence)
    and takes part in idempotency keys; ``dedup_key`` identifies the condition, so the same
    condition raised again within the dedup window is told once. ``scope`` is the scope path
    of the installation or tag (``lpg.main.sphere-farm``), matched against recipients'
    scopes. ``at`` is epoch milliseconds, UTC.
    """

    source: SourceKind
    id: str
    scope: str
    level: Priority | Colour
    title: str
    at: Millis
    dedup_key: str
    text: str = ""

    @property
    def rank(self) -> int:
        return rank_of(self.level)


@dataclass(frozen=True, slots=True, kw_only=True)
class QuietHours:
    """A daily span of local wall-clock time in which only silent channels are used.

    ``start`` > ``end`` spans midnight (22:00 … 07:00). The span is half-open: it includes
    ``start`` and excludes ``end``. ``zone`` is an IANA name (``Asia/Shanghai``).
    """

    start: time
    end: time
    zone: str = "UTC"

    def __post_init__(self) -> None:
        ZoneInfo(self.zone)  # refuse an unknown zone when configured, not at 3 a.m.
        if self.start == self.end:
            raise ValueError("quiet hours need start != end")

    def covers(self, at: Millis) -> bool:
        """True when the instant ``at`` falls in the quiet span, in the local zone."""
        local = datetime.fromtimestamp(at / 1000, tz=UTC).astimezone(ZoneInfo(self.zone))
        clock = local.time().replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end


@dataclass(frozen=True, slots=True, kw_only=True)
class Recipient:
    """A person (or a system) that receives notices, with their preferences.

    ``channels``: channel names in order of preference; later ones are fallbacks.
    ``addresses``: channel name → address (e-mail address, phone number, robot URL); a
    channel without an address uses its configured default. ``scopes``: scope-path prefixes
    this recipient watches (empty: all). ``min_priority``: notices below this rank are not
    sent. ``quiet_hours``: when set, notices below the highest rank go only to silent
    channels (in-app) during the span.
    """

    user: str
    channels: tuple[str, ...]
    addresses: dict[str, str] = field(default_factory=dict)
    scopes: tuple[str, ...] = ()
    min_priority: Priority = Priority.LOW
    quiet_hours: QuietHours | None = None

    def wants(self, notice: Notice) -> bool:
        """True when the notice lies in one of the recipient's scopes and is severe enough."""
        if notice.rank < rank_of(self.min_priority):
            return False
        return not self.scopes or any(_within(notice.scope, s) for s in self.scopes)

    def address(self, channel: str) -> str | None:
        return self.addresses.get(channel)


def _within(scope: str, prefix: str) -> bool:
    return scope == prefix or scope.startswith(prefix + ".")


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """The notices grouped for one recipient, at ``at`` (epoch ms, when the group closed).

    ``notices`` are most severe first, then oldest first. All of them are accounted for in
    ``counts`` even when ``text`` lists only the first ``LISTED_NOTICES``.
    """

    recipient: str
    notices: tuple[Notice, ...]
    at: Millis

    def __post_init__(self) -> None:
        if not self.notices:
            raise ValueError("a message carries at least one notice")

    @property
    def rank(self) -> int:
        """The highest rank among the notices."""
        return max(n.rank for n in self.notices)

    @property
    def notice_ids(self) -> tuple[str, ...]:
        return tuple(n.id for n in self.notices)

    @property
    def counts(self) -> dict[str, int]:
        """Notices per level (``"critical"``, ``"red"`` …), most severe level first."""
        ordered = sorted(self.notices, key=lambda n: -n.rank)
        return dict(Counter(str(n.level) for n in ordered))

    @property
    def title(self) -> str:
        if len(self.notices) == 1:
            return self.notices[0].title
        summary = ", ".join(f"{count} {level}" for level, count in self.counts.items())
        return f"{len(self.notices)} notices ({summary})"

    @property
    def text(self) -> str:
        """Markdown: one line per listed notice, then how many more were not listed."""
        lines = [
            f"- **{n.level}** {n.title}" + (f" — {n.text}" if n.text else "") + f" ({n.scope})"
            for n in self.notices[:LISTED_NOTICES]
        ]
        rest = len(self.notices) - LISTED_NOTICES
        if rest > 0:
            lines.append(f"- … and {rest} more")
        return "\n".join(lines)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    FELL_BACK = "fell_back"
    """Sent, but over a fallback channel after the preferred ones failed."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """The outcome of sending one message to one recipient over one channel.

    ``key`` is the idempotency key of (recipient, channel, notice ids); ``attempts`` counts
    tries on this channel; ``error`` is the last failure, empty after success.
    """

    channel: str
    recipient: str
    key: str
    status: DeliveryStatus
    attempts: int = 0
    at: Millis = 0
    error: str = ""
