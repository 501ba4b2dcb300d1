"""Alarm-system KPIs (EEMUA 191 / ISA-18.2) of a period, per operator position or
enterprise and overall. Pure: the alarm log and the period are arguments.

``alarm_kpis(log, start, end)`` replays the log (``alarm_log.replay``) and measures, per
group, over ``[start, end)`` (epoch ms UTC):

* average annunciation rates per 10 minutes, hour and day (count ÷ period length in that
  unit), each with a ``RateVerdict`` against the targets;
* fixed 10-minute and one-hour periods aligned to ``start`` (a last, shorter period counts
  as one): the peak 10-minute count, the periods in flood (more than ``flood_above``
  annunciations) and their share, the hours with more than ``busy_hour_above``;
* the ten alarms annunciated most often (bad actors), ranked by count, then tag key and
  condition, and their share of all annunciations;
* chattering alarms: ``chatter_activations`` activations within less than
  ``chatter_window_ms`` of each other (3 within one minute: 0 s, 20 s, 59.999 s chatter;
  0 s, 30 s, 60 s do not);
* stale alarms: standing for longer than ``stale_after_ms`` (24 h) at some instant of the
  period, its end included; ``at_end`` marks those still standing, and stale, at the end;
* the share of annunciations per priority (the priority an alarm has now);
* shelve, remove-from-service and suppress inputs in the period, the alarms they touched,
  and the alarms in that state at the end.

Targets apply to one operator position: the overall figures add every position up.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from hazwatch.domain.alarm import AlarmState
from hazwatch.domain.clock import DAY_MS, HOUR_MS, Millis
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.evaluate.alarm_log import AlarmHistory, AlarmLog, replay
from hazwatch.evaluate.alarm_targets import AlarmTargets, RateTarget, RateVerdict

TEN_MINUTES_MS: Millis = 600_000
TOP = 10


class AlarmGrouping(StrEnum):
    POSITION = "position"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True, slots=True, kw_only=True)
class Rate:
    """Average annunciations per interval, with the targets it is judged by."""

    value: float
    acceptable: float
    manageable: float
    verdict: RateVerdict


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """A fixed period of the report (10 minutes or an hour) and its annunciations."""

    start: Millis
    annunciations: int


@dataclass(frozen=True, slots=True, kw_only=True)
class BadActor:
    alarm: str
    tag_key: str
    condition: ConditionKind
    priority: Priority
    annunciations: int
    share: float
    """of the group's annunciations"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Chattering:
    alarm: str
    tag_key: str
    condition: ConditionKind
    activations: int
    """in the period"""
    most_in_window: int
    """most activations within one chatter window"""


@dataclass(frozen=True, slots=True, kw_only=True)
class StaleAlarm:
    alarm: str
    tag_key: str
    condition: ConditionKind
    priority: Priority
    standing_since: Millis
    standing_until: Millis | None
    """None: still standing at the end"""
    at_end: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PriorityShare:
    priority: Priority
    annunciations: int
    share: float | None
    """None when the group had no annunciation"""
    target: float


@dataclass(frozen=True, slots=True, kw_only=True)
class LifecycleCount:
    """Inputs of one kind (shelve, remove from service, suppress) in the period, the
    alarms they touched, and the alarms in the resulting state at the end."""

    actions: int
    alarms: int
    at_end: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmKpi:
    """The KPIs of one group: ``enterprise`` and ``position`` keys ("" where the grouping,
    or the overall figure, does not split by it)."""

    enterprise: str
    position: str
    alarms: int
    """alarms with a transition in the period, standing in it, or not normal at its end"""
    annunciations: int
    activations: int
    per_10min: Rate
    per_hour: Rate
    per_day: Rate
    peak_10min: Window
    flood_windows: tuple[Window, ...]
    flood_share: float
    busy_hours: tuple[Window, ...]
    busy_hour_share: float
    bad_actors: tuple[BadActor, ...]
    top10_share: float | None
    chattering: tuple[Chattering, ...]
    stale: tuple[StaleAlarm, ...]
    stale_at_end: int
    most_stale_in_a_day: int
    priorities: tuple[PriorityShare, ...]
    shelved: LifecycleCount
    out_of_service: LifecycleCount
    suppressed: LifecycleCount


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmKpiReport:
    start: Millis
    end: Millis
    grouping: AlarmGrouping
    targets: AlarmTargets
    overall: AlarmKpi
    groups: tuple[AlarmKpi, ...] = field(default_factory=tuple)
    """ordered by enterprise, then position"""


def alarm_kpis(
    log: AlarmLog,
    start: Millis,
    end: Millis,
    *,
    grouping: AlarmGrouping = AlarmGrouping.POSITION,
    targets: AlarmTargets | None = None,
) -> AlarmKpiReport:
    """The KPIs of ``log`` over ``[start, end)`` per group and overall (see the module
    docstring); ``ValueError`` for a reversed period or an inconsistent log."""
    goals = targets or AlarmTargets()
    histories = replay(log, start, end)
    groups: dict[tuple[str, str], list[AlarmHistory]] = {}
    for history in histories:
        subject = history.subject
        position = subject.position if grouping is AlarmGrouping.POSITION else ""
        groups.setdefault((subject.enterprise, position), []).append(history)
    measure = _Measure(start=start, end=end, targets=goals)
    return AlarmKpiReport(
        start=start,
        end=end,
        grouping=grouping,
        targets=goals,
        overall=measure.kpi("", "", histories),
        groups=tuple(measure.kpi(e, p, groups[(e, p)]) for e, p in sorted(groups)),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Measure:
    start: Millis
    end: Millis
    targets: AlarmTargets

    def kpi(self, enterprise: str, position: str, group: Sequence[AlarmHistory]) -> AlarmKpi:
        t = self.targets
        annunciations = sum(len(h.annunciations) for h in group)
        span = self.end - self.start
        tens = self._windows(group, TEN_MINUTES_MS)
        hours = self._windows(group, HOUR_MS)
        peak = max(tens, key=lambda w: w.annunciations)  # the first of equal counts
        floods = tuple(w for w in tens if w.annunciations > t.flood_above)
        busy = tuple(w for w in hours if w.annunciations > t.busy_hour_above)
        stale = self._stale(group)
        return AlarmKpi(
            enterprise=enterprise,
            position=position,
            alarms=sum(1 for h in group if _present(h)),
            annunciations=annunciations,
            activations=sum(len(h.activations) for h in group),
            per_10min=_rate(annunciations * TEN_MINUTES_MS / span, t.per_10min),
            per_hour=_rate(annunciations * HOUR_MS / span, t.per_hour),
            per_day=_rate(annunciations * DAY_MS / span, t.per_day),
            peak_10min=peak,
            flood_windows=floods,
            flood_share=len(floods) / len(tens),
            busy_hours=busy,
            busy_hour_share=len(busy) / len(hours),
            bad_actors=_bad_actors(group, annunciations),
            top10_share=_top_share(group, annunciations),
            chattering=self._chattering(group),
            stale=tuple(s for s, _ in stale),
            stale_at_end=sum(1 for s, _ in stale if s.at_end),
            most_stale_in_a_day=self._most_in_a_day([window for _, window in stale]),
            priorities=self._priorities(group, annunciations),
            shelved=_count(group, lambda h: h.shelves, AlarmState.SHELVED),
            out_of_service=_count(group, lambda h: h.removals, AlarmState.OUT_OF_SERVICE),
            suppressed=_count(group, lambda h: h.suppressions, AlarmState.SUPPRESSED),
        )

    def _windows(self, group: Sequence[AlarmHistory], width: Millis) -> tuple[Window, ...]:
        n = math.ceil((self.end - self.start) / width)
        stamps = np.fromiter((t for h in group for t in h.annunciations), dtype=np.int64, count=-1)
        counts = np.bincount((stamps - self.start) // width, minlength=n)
        return tuple(
            Window(start=self.start + i * width, annunciations=int(c))
            for i, c in enumerate(counts.tolist())
        )

    def _chattering(self, group: Sequence[AlarmHistory]) -> tuple[Chattering, ...]:
        found: list[Chattering] = []
        for h in group:
            stamps = np.asarray(h.activations, dtype=np.int64)
            if len(stamps) < self.targets.chatter_activations:
                continue
            # activations at or after stamps[i] and before stamps[i] + window, for each i
            ahead = np.searchsorted(stamps, stamps + self.targets.chatter_window_ms, "left")
            most = int((ahead - np.arange(len(stamps))).max())
            if most >= self.targets.chatter_activations:
                s = h.subject
                found.append(
                    Chattering(
                        alarm=s.alarm,
                        tag_key=s.tag_key,
                        condition=s.condition,
                        activations=len(stamps),
                        most_in_window=most,
                    )
                )
        return tuple(sorted(found, key=lambda c: (-c.most_in_window, c.tag_key, c.condition)))

    def _stale(self, group: Sequence[AlarmHistory]) -> list[tuple[StaleAlarm, tuple[int, int]]]:
        """Stale alarms and, for each, the instants ``[lo, hi)`` at which it was stale
        within the period (its end included)."""
        found: list[tuple[StaleAlarm, tuple[int, int]]] = []
        after = self.targets.stale_after_ms
        for h in group:
            for span in h.standing:
                lo = max(self.start, span.since + after + 1)
                hi = self.end + 1 if span.until is None else min(self.end + 1, span.until)
                if lo >= hi:
                    continue
                s = h.subject
                stale = StaleAlarm(
                    alarm=s.alarm,
                    tag_key=s.tag_key,
                    condition=s.condition,
                    priority=s.priority,
                    standing_since=span.since,
                    standing_until=span.until,
                    at_end=span.until is None,
                )
                found.append((stale, (lo, hi)))
        found.sort(key=lambda f: (f[0].standing_since, f[0].tag_key, f[0].condition))
        return found

    def _most_in_a_day(self, stale: Sequence[tuple[int, int]]) -> int:
        """Most alarms stale at some instant of one day (days aligned to the start)."""
        most = 0
        for day in range(self.start, self.end, DAY_MS):
            last = min(day + DAY_MS, self.end + 1)
            most = max(most, sum(1 for lo, hi in stale if lo < last and hi > day))
        return most

    def _priorities(
        self, group: Sequence[AlarmHistory], annunciations: int
    ) -> tuple[PriorityShare, ...]:
        counts = dict.fromkeys(Priority, 0)
        for h in group:
            counts[h.subject.priority] += len(h.annunciations)
        return tuple(
            PriorityShare(
                priority=p,
                annunciations=counts[p],
                share=counts[p] / annunciations if annunciations else None,
                target=self.targets.priority_shares.get(p, 0.0),
            )
            for p in Priority
        )


def _present(h: AlarmHistory) -> bool:
    return bool(h.transitions or h.standing or h.state_at_end is not AlarmState.NORMAL)


def _rate(value: float, target: RateTarget) -> Rate:
    return Rate(
        value=value,
        acceptable=target.acceptable,
        manageable=target.manageable,
        verdict=target.verdict(value),
    )


def _ranked(group: Sequence[AlarmHistory]) -> list[AlarmHistory]:
    noisy = [h for h in group if h.annunciations]
    noisy.sort(key=lambda h: (-len(h.annunciations), h.subject.tag_key, h.subject.condition))
    return noisy[:TOP]


def _bad_actors(group: Sequence[AlarmHistory], total: int) -> tuple[BadActor, ...]:
    return tuple(
        BadActor(
            alarm=h.subject.alarm,
            tag_key=h.subject.tag_key,
            condition=h.subject.condition,
            priority=h.subject.priority,
            annunciations=len(h.annunciations),
            share=len(h.annunciations) / total,
        )
        for h in _ranked(group)
    )


def _top_share(group: Sequence[AlarmHistory], total: int) -> float | None:
    if not total:
        return None
    return sum(len(h.annunciations) for h in _ranked(group)) / total


def _count(
    group: Sequence[AlarmHistory], actions: Callable[[AlarmHistory], int], state: AlarmState
) -> LifecycleCount:
    return LifecycleCount(
        actions=sum(actions(h) for h in group),
        alarms=sum(1 for h in group if actions(h)),
        at_end=sum(1 for h in group if h.state_at_end is state),
    )
