"""The report's content: annunciations counted per hour or day in the plant's zone, and the
KPI results checked against the report's period."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.clock import HOUR_MS, MINUTE_MS, to_millis
from hazwatch.domain.scope import ScopeKind
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.evaluate.access_kpi import AccessInputs, access_kpis
from hazwatch.evaluate.alarm_kpi import AlarmGrouping, alarm_kpis
from hazwatch.evaluate.alarm_log import AlarmEvent, AlarmLog, AlarmSubject
from hazwatch.evaluate.report import (
    ReportScope,
    alarm_grouping,
    alarm_series,
    build_report,
)
from hazwatch.evaluate.report_period import PeriodKind, period_of

# 2027-01-15 00:00 in Shanghai is 2027-01-14 16:00 UTC
DAY15 = to_millis(datetime(2027, 1, 14, 16, tzinfo=UTC))


def _log(*stamps: int) -> AlarmLog:
    subject = AlarmSubject(
        alarm="1.H",
        tag_key="e.s.i.q.t",
        condition=ConditionKind.H,
        priority=Priority.LOW,
        enterprise="e",
        position="e.s.i",
    )
    events: list[AlarmEvent] = []
    for at in stamps:
        events.append(
            AlarmEvent(alarm="1.H", at=at, input=AlarmInput.ACTIVATE, to_state=AlarmState.UNACKED)
        )
        events.append(
            AlarmEvent(
                alarm="1.H", at=at + 1000, input=AlarmInput.CLEAR, to_state=AlarmState.RTN_UNACKED
            )
        )
    return AlarmLog(subjects=(subject,), events=tuple(events))


def test_a_day_counts_by_local_hour_and_a_week_by_local_day() -> None:
    day = period_of(PeriodKind.DAY, DAY15 + HOUR_MS)
    # 00:00:00, 00:59:59 and 13:30 local; one a millisecond before the day (not counted)
    log = _log(DAY15, DAY15 + HOUR_MS - 2000, DAY15 + 13 * HOUR_MS + 30 * MINUTE_MS, DAY15 - 5000)
    hours = alarm_series(log, day)
    assert len(hours) == 24 and hours[0].label == "00:00" and hours[13].label == "13:00"
    assert [(p.label, p.annunciations) for p in hours if p.annunciations] == [
        ("00:00", 2),
        ("13:00", 1),
    ]
    week = period_of(PeriodKind.WEEK, DAY15)  # 2027-W02: Monday 01-11 … Sunday 01-17
    days = alarm_series(log, week)
    assert [p.label for p in days] == [f"01-{d}" for d in range(11, 18)]
    assert [p.annunciations for p in days] == [0, 0, 0, 1, 3, 0, 0]  # 01-14 23:59:55 local


def test_the_kpis_must_cover_the_reports_period() -> None:
    day = period_of(PeriodKind.DAY, DAY15)
    scope = ReportScope(id=2, kind=ScopeKind.PARK, key="r.p", name="P", path="/1/2/")
    log = _log(DAY15 + HOUR_MS)
    access = access_kpis(AccessInputs(enterprises=("e",), tags=()), day.start, day.end)
    alarms = alarm_kpis(log, day.start, day.end, grouping=alarm_grouping(ScopeKind.PARK))
    assert alarms.grouping is AlarmGrouping.ENTERPRISE
    assert alarm_grouping(ScopeKind.ENTERPRISE) is AlarmGrouping.POSITION
    report = build_report(
        scope=scope,
        period=day,
        log=log,
        alarms=alarms,
        access=access,
        installations=(),
        risk=None,
        now=day.end,
    )
    assert report.title == "P · 2027-01-15"
    assert (
        sum(p.annunciations for p in report.alarm_series)
        == report.alarms.overall.annunciations
        == 1
    )
    shifted = alarm_kpis(log, day.start - HOUR_MS, day.end)
    with pytest.raises(ValueError, match="alarms: the KPIs cover another period"):
        build_report(
            scope=scope,
            period=day,
            log=log,
            alarms=shifted,
            access=access,
            installations=(),
            risk=None,
            now=day.end,
        )
