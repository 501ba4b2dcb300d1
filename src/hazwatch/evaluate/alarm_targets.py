"""Alarm-system performance targets (EEMUA 191 / ISA-18.2 §16, Table 5 as commonly quoted),
and how a rate compares with them.

Every target applies to **one operator position**. Values and their confidence, as the
project's reference notes record them (✅ seen verbatim in a public source quoting the
standards; ❓ placeholder to verify against the official text):

=====================================  ======================================  ==========
figure                                 target                                  confidence
=====================================  ======================================  ==========
annunciated alarms per 10 minutes      ≈1 very likely acceptable, ≈2 maximum   ✅
                                       manageable
per hour                               ≈6 / ≈12                                ✅
per day                                ≈150 / ≈300                             ✅
peak alarms in any 10 minutes          ≤ 10                                    ✅
flood: more than 10 alarms in 10 min   share of 10-minute periods in flood     ✅
                                       < 1 %
hours with more than 30 alarms         share < 1 %                             ✅
top-10 most frequent alarms' share     ≈1 %–5 % maximum                        ✅
chattering alarms (≥ 3 activations     0                                       ✅ (PAS
in one minute)                                                                 criterion)
stale alarms (standing > 24 h)         < 5 present on any day                  ❓
priority distribution (3 priorities)   ≈80 % low, ≈15 % medium, ≈5 % high      ✅
highest priority (4 priorities)        < 1 %                                   ❓
=====================================  ======================================  ==========

The defaults below are these values; pass another ``AlarmTargets`` to apply a site's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from hazwatch.domain.clock import DAY_MS, MINUTE_MS, Millis
from hazwatch.domain.tag import Priority


class RateVerdict(StrEnum):
    """How an average alarm rate compares with the targets (boundaries inclusive)."""

    ACCEPTABLE = "acceptable"
    """at or below the "very likely acceptable" rate"""
    MANAGEABLE = "manageable"
    """above it, at or below the "maximum manageable" rate"""
    OVERLOADED = "overloaded"
    """above the maximum manageable rate"""


def _priority_shares() -> Mapping[Priority, float]:
    return MappingProxyType(
        {Priority.LOW: 0.80, Priority.MEDIUM: 0.15, Priority.HIGH: 0.05, Priority.CRITICAL: 0.01}
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class RateTarget:
    """Annunciated alarms per operator position per interval."""

    acceptable: float
    manageable: float

    def __post_init__(self) -> None:
        if not 0 <= self.acceptable <= self.manageable:
            raise ValueError("rate targets need 0 ≤ acceptable ≤ manageable")

    def verdict(self, rate: float) -> RateVerdict:
        if rate <= self.acceptable:
            return RateVerdict.ACCEPTABLE
        if rate <= self.manageable:
            return RateVerdict.MANAGEABLE
        return RateVerdict.OVERLOADED


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmTargets:
    """The targets and the definitions' thresholds (see the module docstring).

    ``priority_shares``: the target share of annunciations per priority; for ``critical``
    (the fourth, highest priority) it is a maximum.
    """

    per_10min: RateTarget = field(default_factory=lambda: RateTarget(acceptable=1, manageable=2))
    per_hour: RateTarget = field(default_factory=lambda: RateTarget(acceptable=6, manageable=12))
    per_day: RateTarget = field(default_factory=lambda: RateTarget(acceptable=150, manageable=300))
    flood_above: int = 10
    """a 10-minute period with more annunciations than this is in flood"""
    peak_10min_max: int = 10
    flood_share_max: float = 0.01
    busy_hour_above: int = 30
    busy_hour_share_max: float = 0.01
    top10_share_max: float = 0.05
    chatter_activations: int = 3
    """this many activations of one alarm within ``chatter_window_ms`` make it chattering"""
    chatter_window_ms: Millis = MINUTE_MS
    stale_after_ms: Millis = DAY_MS
    """an alarm standing for longer than this is stale"""
    stale_per_day_max: int = 4
    """"fewer than 5 present on any day" """
    priority_shares: Mapping[Priority, float] = field(default_factory=_priority_shares)

    def __post_init__(self) -> None:
        if self.flood_above < 0 or self.busy_hour_above < 0:
            raise ValueError("flood_above and busy_hour_above must not be negative")
        if self.chatter_activations < 2:
            raise ValueError("chatter_activations must be at least 2")
        if self.chatter_window_ms <= 0 or self.stale_after_ms <= 0:
            raise ValueError("chatter_window_ms and stale_after_ms must be positive")
