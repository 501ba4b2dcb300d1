"""Data-access KPIs for regulators: per enterprise and overall, over ``[start, end)`` (epoch
ms UTC). Pure: what was stored is an argument (``AccessInputs``).

Definitions (see docs/kpi.md):

* **expected readings** of a tag: ``⌊span ÷ period⌋``, where span is ``[max(start, since),
  end)`` (``since``: when the tag came into being, where known).
* **online rate**: Σ min(received, expected) ÷ Σ expected over the enterprise's tags. A
  tag reporting faster than declared cannot make up for a silent one. *Received* counts
  readings with a usable value (good or uncertain quality), as the one-minute rollups do.
* **completeness**: the share of expected time slots that hold at least one reading. A
  slot is the tag's period, at least one minute (rollups resolve minutes); expected slots
  ``⌊span ÷ slot⌋``, filled slots min(minutes with a reading, expected slots). A tag that
  sends in bursts has a high online rate and a low completeness.
* **timeliness**: the share of readings received no more than ``late_after_ms`` after
  their source timestamp, with the mean and largest latency (received − source time,
  clamped at 0; ``ahead`` counts readings stamped after they were received: a source
  clock running ahead).
* **rejected**: refused readings and payloads per reason.
* **devices**: links (connectors, and devices behind them); those offline at some time of
  the period, those offline at its end, the offline time, and availability = 1 − offline
  time ÷ (devices × period).
* **review**: an enterprise is flagged when its online rate is below ``threshold``
  (exactly at the threshold is not below) or when it has no data tags at all.
* **rank**: by online rate, highest first; equal rates share a rank (1, 1, 3); an
  enterprise without a rate is not ranked and comes last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

import numpy as np

from hazwatch.domain.batch import Stamps
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.reject import RejectReason
from hazwatch.evaluate.alarm_log import Span, check_period

DEFAULT_THRESHOLD = 0.90
DEFAULT_LATE_AFTER_MS: Millis = 60_000


class ReviewReason(StrEnum):
    BELOW_THRESHOLD = "below_threshold"
    NO_TAGS = "no_tags"


@dataclass(frozen=True, slots=True, kw_only=True)
class Latency:
    """Source-to-receipt latency of some readings; add two to merge them."""

    readings: int = 0
    total_ms: int = 0
    max_ms: int = 0
    late: int = 0
    ahead: int = 0

    def __add__(self, other: Latency) -> Latency:
        return Latency(
            readings=self.readings + other.readings,
            total_ms=self.total_ms + other.total_ms,
            max_ms=max(self.max_ms, other.max_ms),
            late=self.late + other.late,
            ahead=self.ahead + other.ahead,
        )

    @property
    def mean_ms(self) -> float | None:
        return self.total_ms / self.readings if self.readings else None

    @property
    def timeliness(self) -> float | None:
        """The share of readings on time (None without readings)."""
        return (self.readings - self.late) / self.readings if self.readings else None


def measure_latency(ts: Stamps, received: Stamps, late_after_ms: Millis) -> Latency:
    """The latency of readings with source times ``ts`` received at ``received`` (ms); a
    reading is late when received more than ``late_after_ms`` after its source time."""
    if len(ts) != len(received):
        raise ValueError("ts and received differ in length")
    if not len(ts):
        return Latency()
    delay = received.astype(np.int64) - ts.astype(np.int64)
    clamped = np.maximum(delay, 0)
    return Latency(
        readings=len(ts),
        total_ms=int(clamped.sum()),
        max_ms=int(clamped.max()),
        late=int((clamped > late_after_ms).sum()),
        ahead=int((delay < 0).sum()),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TagSupply:
    """What one data tag delivered in the period (see the module docstring)."""

    tag_key: str
    enterprise: str
    period_s: float
    received: int
    minutes: int
    since: Millis | None = None
    latency: Latency = field(default_factory=Latency)

    def __post_init__(self) -> None:
        if not self.period_s > 0:
            raise ValueError(f"{self.tag_key}: period_s must be positive")
        if self.received < 0 or self.minutes < 0:
            raise ValueError(f"{self.tag_key}: received and minutes must not be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class Rejection:
    """Readings or payloads refused in the period; ``enterprise`` "" when it is unknown."""

    enterprise: str
    reason: RejectReason
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceLink:
    """A link and its offline spans (any spans; they are clipped to the period)."""

    device: str
    enterprise: str
    offline: tuple[Span, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessInputs:
    """``enterprises``: every enterprise in scope (one without tags is listed too);
    ``latency_from``: the start of the window the tags' latency covers."""

    enterprises: tuple[str, ...]
    tags: tuple[TagSupply, ...]
    rejected: tuple[Rejection, ...] = ()
    devices: tuple[DeviceLink, ...] = ()
    latency_from: Millis | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedCount:
    reason: RejectReason
    count: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessKpi:
    """The KPIs of one enterprise ("" for the overall figures)."""

    enterprise: str
    tags: int
    expected: int
    received: int
    counted: int
    """received, at most the expected readings per tag"""
    online_rate: float | None
    slots: int
    filled: int
    completeness: float | None
    latency: Latency
    rejected: tuple[RejectedCount, ...]
    rejected_total: int
    devices: int
    devices_offline: int
    devices_offline_at_end: int
    offline_ms: int
    device_availability: float | None
    rank: int | None = None
    review: ReviewReason | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessKpiReport:
    start: Millis
    end: Millis
    threshold: float
    latency_from: Millis
    overall: AccessKpi
    enterprises: tuple[AccessKpi, ...]
    """ranked: best online rate first, unranked last"""
    flagged: tuple[str, ...]
    """enterprises for review, in ranking order"""


def access_kpis(
    inputs: AccessInputs, start: Millis, end: Millis, *, threshold: float = DEFAULT_THRESHOLD
) -> AccessKpiReport:
    """The KPIs per enterprise and overall, the ranking and the enterprises for review."""
    check_period(start, end)
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must lie in (0, 1], not {threshold}")
    names = sorted(
        {*inputs.enterprises}
        | {t.enterprise for t in inputs.tags}
        | {d.enterprise for d in inputs.devices}
        | {r.enterprise for r in inputs.rejected if r.enterprise}
    )
    period = _Period(start=start, end=end)
    plain = [
        period.kpi(
            name,
            [t for t in inputs.tags if t.enterprise == name],
            [r for r in inputs.rejected if r.enterprise == name],
            [d for d in inputs.devices if d.enterprise == name],
        )
        for name in names
    ]
    ranked = _rank(plain, threshold)
    return AccessKpiReport(
        start=start,
        end=end,
        threshold=threshold,
        latency_from=start if inputs.latency_from is None else inputs.latency_from,
        overall=period.kpi("", inputs.tags, inputs.rejected, inputs.devices),
        enterprises=ranked,
        flagged=tuple(k.enterprise for k in ranked if k.review is not None),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Period:
    start: Millis
    end: Millis

    def kpi(
        self,
        enterprise: str,
        tags: Sequence[TagSupply],
        rejected: Sequence[Rejection],
        devices: Sequence[DeviceLink],
    ) -> AccessKpi:
        expected = slots = counted = filled = 0
        latency = Latency()
        for tag in tags:
            span = self.end - max(self.start, tag.since if tag.since is not None else self.start)
            period_ms = max(1, round(tag.period_s * 1000))
            due = max(0, span) // period_ms
            expected += due
            counted += min(tag.received, due)
            due_slots = max(0, span) // max(period_ms, MINUTE_MS)
            slots += due_slots
            filled += min(tag.minutes, due_slots)
            latency += tag.latency
        offline = [self._offline(d) for d in devices]
        offline_ms = sum(ms for ms, _ in offline)
        return AccessKpi(
            enterprise=enterprise,
            tags=len(tags),
            expected=expected,
            received=sum(t.received for t in tags),
            counted=counted,
            online_rate=counted / expected if expected else None,
            slots=slots,
            filled=filled,
            completeness=filled / slots if slots else None,
            latency=latency,
            rejected=_by_reason(rejected),
            rejected_total=sum(r.count for r in rejected),
            devices=len(devices),
            devices_offline=sum(1 for ms, _ in offline if ms > 0),
            devices_offline_at_end=sum(1 for _, at_end in offline if at_end),
            offline_ms=offline_ms,
            device_availability=(
                1 - offline_ms / (len(devices) * (self.end - self.start)) if devices else None
            ),
        )

    def _offline(self, device: DeviceLink) -> tuple[int, bool]:
        """Offline time within the period (overlapping spans counted once) and whether the
        link is offline at the end."""
        clipped = sorted(
            (max(s.since, self.start), self.end if s.until is None else min(s.until, self.end))
            for s in device.offline
        )
        total, reach = 0, self.start
        for since, until in clipped:
            begin = max(since, reach)
            if until > begin:
                total += until - begin
                reach = until
        at_end = any(s.until is None and s.since < self.end for s in device.offline)
        return total, at_end


def _by_reason(rejected: Iterable[Rejection]) -> tuple[RejectedCount, ...]:
    counts: dict[RejectReason, int] = {}
    for r in rejected:
        counts[r.reason] = counts.get(r.reason, 0) + r.count
    return tuple(RejectedCount(reason=k, count=counts[k]) for k in RejectReason if k in counts)


def _rank(kpis: Sequence[AccessKpi], threshold: float) -> tuple[AccessKpi, ...]:
    rated = sorted(
        (k for k in kpis if k.online_rate is not None),
        key=lambda k: (-(k.online_rate or 0.0), k.enterprise),
    )
    unrated = [k for k in kpis if k.online_rate is None]
    ranked: list[AccessKpi] = []
    for i, k in enumerate(rated):
        same = ranked and ranked[-1].online_rate == k.online_rate
        rank = ranked[-1].rank if same else i + 1
        below = k.online_rate is not None and k.online_rate < threshold
        ranked.append(_with(k, rank, ReviewReason.BELOW_THRESHOLD if below else None))
    for k in unrated:
        ranked.append(_with(k, None, ReviewReason.NO_TAGS if k.tags == 0 else None))
    return tuple(ranked)


def _with(kpi: AccessKpi, rank: int | None, review: ReviewReason | None) -> AccessKpi:
    return replace(kpi, rank=rank, review=review)
