"""Report periods: calendar days, ISO weeks and months in the plant's zone; which of a
schedule's periods are due."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import pytest

from hazwatch.domain.clock import HOUR_MS, Millis, to_millis
from hazwatch.evaluate.report import ReportFormat
from hazwatch.evaluate.report_period import (
    Period,
    PeriodKind,
    UnknownZoneError,
    bins_of,
    next_period,
    period_from,
    period_of,
    previous_period,
)
from hazwatch.evaluate.report_schedule import (
    ReportSchedule,
    ScheduleError,
    due_periods,
    next_due,
    parse_schedule,
)

DAY, WEEK, MONTH = PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> Millis:
    return to_millis(datetime(year, month, day, hour, minute, tzinfo=UTC))


# Asia/Shanghai is UTC+08:00 all year (no daylight saving time): a local midnight is 16:00
# UTC of the day before.


def test_a_month_runs_from_local_midnight_to_local_midnight() -> None:
    # 2027-02-01 00:30 in Shanghai is 2027-01-31 16:30 UTC: February, not January
    feb = period_of(MONTH, utc(2027, 1, 31, 16, 30))
    assert (feb.start, feb.end) == (utc(2027, 1, 31, 16), utc(2027, 2, 28, 16))
    assert feb.label == "2027-02"
    assert (feb.end - feb.start) // (24 * HOUR_MS) == 28
    # 2028 is a leap year: February has 29 days
    leap = period_of(MONTH, utc(2028, 2, 15))
    assert (leap.end - leap.start) // (24 * HOUR_MS) == 29
    # the same instant is still January in UTC
    assert period_of(MONTH, utc(2027, 1, 31, 16, 30), "UTC").label == "2027-01"


def test_the_last_millisecond_of_a_month_and_the_first_of_the_next() -> None:
    new_year = utc(2026, 12, 31, 16)  # 2027-01-01 00:00 Shanghai
    assert period_of(MONTH, new_year - 1).label == "2026-12"
    assert period_of(MONTH, new_year).label == "2027-01"
    assert period_of(DAY, new_year - 1).label == "2026-12-31"
    assert period_of(DAY, new_year).label == "2027-01-01"


def test_months_follow_each_other_across_a_year_boundary() -> None:
    dec = period_of(MONTH, utc(2026, 12, 10))
    jan = next_period(dec)
    assert jan.label == "2027-01" and jan.start == dec.end == utc(2026, 12, 31, 16)
    assert jan.end == utc(2027, 1, 31, 16)  # 31 days
    assert previous_period(jan) == dec
    assert previous_period(dec).label == "2026-11"
    assert next_period(period_of(MONTH, utc(2027, 11, 5))).label == "2027-12"


def test_iso_weeks_cross_the_year_boundary() -> None:
    # 2026 begins on a Thursday, so it has 53 ISO weeks; 2027-01-01 is a Friday and lies
    # in 2026-W53 (Monday 2026-12-28 … Sunday 2027-01-03); 2027-W01 begins Monday 01-04.
    week = period_of(WEEK, utc(2027, 1, 1, 4))  # 12:00 Shanghai
    assert week.label == "2026-W53"
    assert (week.start, week.end) == (utc(2026, 12, 27, 16), utc(2027, 1, 3, 16))
    assert week.first_day == date(2026, 12, 28)
    following = next_period(week)
    assert following.label == "2027-W01" and following.first_day == date(2027, 1, 4)
    assert previous_period(following) == week
    # Sunday 23:59 local still belongs to the week; Monday 00:00 begins the next
    assert period_of(WEEK, utc(2027, 1, 3, 15, 59)).label == "2026-W53"
    assert period_of(WEEK, utc(2027, 1, 3, 16)).label == "2027-W01"


def test_a_period_begins_on_its_first_day_only() -> None:
    assert period_from(WEEK, date(2027, 1, 4)).label == "2027-W01"
    with pytest.raises(ValueError, match="Monday"):
        period_from(WEEK, date(2027, 1, 5))
    with pytest.raises(ValueError, match="first of a month"):
        period_from(MONTH, date(2027, 1, 2))
    with pytest.raises(UnknownZoneError, match="Mars/Olympus"):
        period_of(DAY, utc(2027, 1, 1), "Mars/Olympus")
    custom = Period(kind=PeriodKind.CUSTOM, zone="UTC", start=0, end=HOUR_MS)
    with pytest.raises(ValueError, match="neighbours"):
        next_period(custom)
    with pytest.raises(ValueError, match="after its start"):
        Period(kind=PeriodKind.CUSTOM, zone="UTC", start=5, end=5)


def test_days_with_a_daylight_saving_change_last_23_or_25_hours() -> None:
    # Europe/Berlin: clocks go forward on the last Sunday of March (2027-03-28) and back on
    # the last Sunday of October (2027-10-31)
    spring = period_of(DAY, utc(2027, 3, 28, 12), "Europe/Berlin")
    autumn = period_of(DAY, utc(2027, 10, 31, 12), "Europe/Berlin")
    assert spring.end - spring.start == 23 * HOUR_MS
    assert autumn.end - autumn.start == 25 * HOUR_MS
    assert len(bins_of(spring)) == 23 and len(bins_of(autumn)) == 25
    assert spring.start == utc(2027, 3, 27, 23)  # midnight CET (UTC+1)
    assert spring.end == utc(2027, 3, 28, 22)  # midnight CEST (UTC+2)


def test_a_skipped_midnight_begins_its_day_at_the_change() -> None:
    # Cuba moves from UTC−5 to UTC−4 at 00:00 on the second Sunday of March (2027-03-14):
    # that day has no midnight and begins at the change, 05:00 UTC
    day = period_of(DAY, utc(2027, 3, 14, 12), "America/Havana")
    assert day.label == "2027-03-14"
    assert (day.start, day.end) == (utc(2027, 3, 14, 5), utc(2027, 3, 15, 4))


def test_a_month_counts_by_day_and_a_day_by_hour() -> None:
    jan = period_of(MONTH, utc(2027, 1, 10))
    days = bins_of(jan)
    assert len(days) == 31
    assert days[0].start == jan.start and days[-1].end == jan.end
    assert all(d.kind is DAY for d in days)
    assert [d.label for d in days[:2]] == ["2027-01-01", "2027-01-02"]
    hours = bins_of(days[0])
    assert len(hours) == 24 and hours[1].start == jan.start + HOUR_MS
    # a custom period's first and last days are clipped to it
    custom = Period(
        kind=PeriodKind.CUSTOM, zone="Asia/Shanghai", start=utc(2027, 1, 1), end=utc(2027, 1, 3)
    )
    parts = bins_of(custom)
    assert [(p.start, p.end) for p in parts] == [
        (utc(2027, 1, 1), utc(2027, 1, 1, 16)),
        (utc(2027, 1, 1, 16), utc(2027, 1, 2, 16)),
        (utc(2027, 1, 2, 16), utc(2027, 1, 3)),
    ]
    assert [p.kind for p in parts] == [PeriodKind.CUSTOM, DAY, PeriodKind.CUSTOM]


def _monthly(since: Millis) -> ReportSchedule:
    return ReportSchedule(
        name="east-monthly",
        scope_id=2,
        kind=MONTH,
        zone="Asia/Shanghai",
        formats=(ReportFormat.PDF,),
        recipients=(),
        channel=None,
        enabled=True,
        since=since,
    )


def test_a_period_falls_due_when_it_is_over() -> None:
    schedule = _monthly(since=utc(2027, 1, 15))
    feb_first = utc(2027, 1, 31, 16)
    assert due_periods(schedule, feb_first - 1) == ()
    assert [p.label for p in due_periods(schedule, feb_first)] == ["2027-01"]
    assert next_due(schedule, utc(2027, 1, 20)).label == "2027-01"
    assert next_due(schedule, feb_first).label == "2027-02"
    assert next_due(schedule, feb_first - 1).end == feb_first
    # months missed while nothing ran are all due, oldest first, none twice
    late = due_periods(schedule, utc(2027, 5, 3))
    assert [p.label for p in late] == ["2027-01", "2027-02", "2027-03", "2027-04"]
    assert all(a.end == b.start for a, b in itertools.pairwise(late))


def test_a_schedule_document_names_each_bad_field() -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(
            {
                "name": "Bad Name",
                "scope": 1,
                "period": "custom",
                "zone": "Mars/Olympus",
                "formats": ["pdf", "docx", "pdf"],
                "recipients": ["ok@example.cn", "nobody"],
                "colour": "red",
            },
            now=0,
        )
    problems = caught.value.problems
    for field in ("name:", "period:", "zone:", "formats[1]:", "formats[2]:", "recipients[1]:"):
        assert any(p.startswith(field) for p in problems), (field, problems)
    assert any(p.startswith("colour:") for p in problems)
    with pytest.raises(ScheduleError, match="formats: name at least one"):
        parse_schedule({"name": "a", "scope": 1, "period": "day", "formats": []}, now=0)


def test_since_moves_only_when_the_period_or_zone_changes() -> None:
    first = parse_schedule({"name": "a", "scope": 1, "period": "month"}, now=100)
    assert first.since == 100 and first.formats == (ReportFormat.PDF,)
    assert first.zone == "Asia/Shanghai"
    more = parse_schedule(
        {"name": "a", "scope": 1, "period": "month", "recipients": ["x@example.cn"]},
        now=200,
        stored=first,
    )
    assert more.since == 100
    weekly = parse_schedule({"name": "a", "scope": 1, "period": "week"}, now=300, stored=first)
    assert weekly.since == 300
