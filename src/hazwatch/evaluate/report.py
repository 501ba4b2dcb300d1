"""The content of a periodic report (定期报告) for one scope node — an enterprise, a park, or
a region (the regulator's level) — and one period: the figures of system evaluation, put
together once so that every format (HTML, PDF, CSV, XLSX) shows the same numbers.

``build_report`` is pure: the alarm log, the KPI results, the graded installations and the
risk colours are arguments, and ``now`` is when the report is made. What it holds:

* ``alarms``: the alarm-system KPIs (``alarm_kpi``) of the period, grouped by operator
  position for an enterprise and by enterprise for a park or a region;
* ``alarm_series``: annunciations per hour (a day) or per calendar day (a week, a month)
  in the report's zone (``report_period.bins_of``), from the same log;
* ``access``: the data-access KPIs (``access_kpi``): per enterprise, ranked, and those
  flagged for review;
* ``installations``: each installation's GB 18218 identification and grade, or the
  problems that kept it from being graded;
* ``risk``: the dynamic risk colours now and their changes in the period — ``None`` where
  the platform keeps no risk colours (the report says so).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np

from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import ScopeKind
from hazwatch.domain.warning import Colour
from hazwatch.evaluate.access_kpi import AccessKpiReport
from hazwatch.evaluate.alarm_kpi import AlarmGrouping, AlarmKpiReport
from hazwatch.evaluate.alarm_log import AlarmLog, replay
from hazwatch.evaluate.gb18218 import Identification
from hazwatch.evaluate.report_period import Period, bins_of, zone_info


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"
    """a zip of one CSV file per table"""
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportFile:
    """A report rendered in one format: its media type, file name and bytes."""

    format: ReportFormat
    media_type: str
    filename: str
    data: bytes


REPORT_LEVELS = (ScopeKind.REGION, ScopeKind.PARK, ScopeKind.ENTERPRISE)
"""The scope levels a report is made for: regulator, park, enterprise."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportScope:
    """The node a report covers: its id, level, dotted key path from the region
    (``jiangsu.east``), name and materialised path."""

    id: int
    kind: ScopeKind
    key: str
    name: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class SeriesPoint:
    """Annunciations in ``[start, end)``, labelled in the report's zone."""

    start: Millis
    end: Millis
    label: str
    annunciations: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationGrade:
    """An installation and its GB 18218 result; ``identification`` is ``None`` when the
    declared inventories could not be graded, and ``problems`` say why."""

    key: str
    name: str
    enterprise: str
    identification: Identification | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskStanding:
    """The risk colour a scope node has at the report's end."""

    scope_key: str
    scope_name: str
    colour: Colour
    since: Millis | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskChange:
    """One change of a node's risk colour in the period (``before`` ``None``: its first)."""

    scope_key: str
    at: Millis
    before: Colour | None
    after: Colour
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskSection:
    standings: tuple[RiskStanding, ...]
    changes: tuple[RiskChange, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    scope: ReportScope
    period: Period
    generated_at: Millis
    alarms: AlarmKpiReport
    alarm_series: tuple[SeriesPoint, ...]
    access: AccessKpiReport
    installations: tuple[InstallationGrade, ...]
    risk: RiskSection | None

    @property
    def title(self) -> str:
        return f"{self.scope.name} · {self.period.label}"


def alarm_grouping(kind: ScopeKind) -> AlarmGrouping:
    """Per operator position inside an enterprise, per enterprise above it."""
    return AlarmGrouping.POSITION if kind is ScopeKind.ENTERPRISE else AlarmGrouping.ENTERPRISE


def alarm_series(log: AlarmLog, period: Period) -> tuple[SeriesPoint, ...]:
    """Annunciations of ``log`` per bin of ``period`` (``bins_of``): hours of a day, days
    of a week or a month; labelled ``08:00`` or ``01-15`` in the period's zone."""
    bins = bins_of(period)
    stamps = np.fromiter(
        (t for h in replay(log, period.start, period.end) for t in h.annunciations),
        dtype=np.int64,
        count=-1,
    )
    starts = np.asarray([b.start for b in bins], dtype=np.int64)
    counts = np.bincount(np.searchsorted(starts, stamps, side="right") - 1, minlength=len(bins))
    hourly = len(bins) > 1 and bins[0].end - bins[0].start <= 3_600_000
    return tuple(
        SeriesPoint(
            start=b.start,
            end=b.end,
            label=_hour_label(b) if hourly else b.first_day.strftime("%m-%d"),
            annunciations=int(n),
        )
        for b, n in zip(bins, counts.tolist(), strict=True)
    )


def build_report(
    *,
    scope: ReportScope,
    period: Period,
    log: AlarmLog,
    alarms: AlarmKpiReport,
    access: AccessKpiReport,
    installations: Sequence[InstallationGrade],
    risk: RiskSection | None,
    now: Millis,
) -> Report:
    """The report of ``scope`` over ``period``; the KPI results must cover that period
    (``ValueError`` otherwise, naming which)."""
    for name, result in (("alarms", alarms), ("access", access)):
        if (result.start, result.end) != (period.start, period.end):
            raise ValueError(f"{name}: the KPIs cover another period than the report")
    return Report(
        scope=scope,
        period=period,
        generated_at=now,
        alarms=alarms,
        alarm_series=alarm_series(log, period),
        access=access,
        installations=tuple(sorted(installations, key=lambda i: i.key)),
        risk=risk,
    )


def _hour_label(b: Period) -> str:
    return datetime.fromtimestamp(b.start / 1000, tz=zone_info(b.zone)).strftime("%H:%M")
