"""Tags: measured signals, with their instrument range, reporting period and limits.

Limit semantics follow ISA-18.2 / OPC UA Part 9 (see docs/alarms.md): a high limit becomes
active at ``value >= limit`` held for ``on_delay_s`` and clears at ``value < limit -
deadband`` held for ``off_delay_s``; low limits mirror this.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ConditionKind(StrEnum):
    """What can be abnormal about one tag. Each kind of each tag is one alarm."""

    HH = "HH"
    H = "H"
    L = "L"
    LL = "LL"
    OFFLINE = "offline"
    FROZEN = "frozen"
    BAD_QUALITY = "bad_quality"
    DEVICE_OFFLINE = "device_offline"
    DEGRADED = "degraded"

    @property
    def is_limit(self) -> bool:
        return self in LIMIT_KINDS

    @property
    def is_high(self) -> bool:
        return self in (ConditionKind.HH, ConditionKind.H)


LINK_KINDS: tuple[ConditionKind, ...] = (ConditionKind.DEVICE_OFFLINE, ConditionKind.DEGRADED)
"""Conditions of a communication link (a device or a connector), raised on its status tag
from the health its connector reports, not from readings."""

LIMIT_KINDS: tuple[ConditionKind, ...] = (
    ConditionKind.HH,
    ConditionKind.H,
    ConditionKind.L,
    ConditionKind.LL,
)


class Priority(StrEnum):
    """Alarm priority (ISA-18.2 recommends ~80 % low, ~15 % medium, ~5 % high)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """One alarm limit of a tag, in the tag's engineering unit."""

    kind: ConditionKind
    value: float
    priority: Priority
    deadband: float = 0.0
    on_delay_s: float = 0.0
    off_delay_s: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Tag:
    """A measured signal.

    ``offline_after_s``: no reading for this long raises the OFFLINE condition (default
    max(3 × period, 300 s)). ``frozen_after_s``: an unchanged value for this long raises
    FROZEN (``None`` = not checked, for signals that legitimately sit still).
    """

    id: int
    key: str
    name: str
    scope_id: int
    scope_path: str
    unit: str
    range_lo: float
    range_hi: float
    period_s: float
    limits: tuple[Limit, ...] = field(default_factory=tuple)
    offline_after_s: float | None = None
    frozen_after_s: float | None = None
    offline_priority: Priority = Priority.MEDIUM

    @property
    def effective_offline_after_s(self) -> float:
        if self.offline_after_s is not None:
            return self.offline_after_s
        return max(3 * self.period_s, 300.0)

    def limit(self, kind: ConditionKind) -> Limit | None:
        return next((lim for lim in self.limits if lim.kind == kind), None)


@dataclass(frozen=True, slots=True, kw_only=True)
class TagDeclaration:
    """A tag a source announces about itself (a Sparkplug birth, an OPC UA browse), or a
    status tag the platform makes for a link; created under its equipment if missing."""

    key: str
    name: str = ""
    unit: str = ""
    range_lo: float | None = None
    range_hi: float | None = None
    period_s: float = 1.0
    offline_after_s: float | None = None
