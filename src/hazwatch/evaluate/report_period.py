"""Report periods: calendar days, ISO weeks and months in a plant's time zone.

A period is ``[start, end)`` in epoch ms UTC, its boundaries local midnights in the IANA
``zone`` (default ``Asia/Shanghai``, the zone of Chinese plants, which keeps no daylight
saving time):

* ``day`` — one calendar day, ``2027-01-15``;
* ``week`` — an ISO 8601 week, Monday to Sunday, ``2027-W02`` (the ISO year: 2026-12-28 …
  2027-01-03 is ``2026-W53``);
* ``month`` — one calendar month, ``2027-01``;
* ``custom`` — any ``[start, end)`` given outright (on-demand reports); it has no
  neighbours.

Where a zone keeps daylight saving time a day lasts 23 or 25 hours across a change, and a
local midnight that a change skips begins its day at the instant of the change. Every
function is pure: instants are arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hazwatch.domain.clock import Millis, to_millis

DEFAULT_ZONE = "Asia/Shanghai"


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CUSTOM = "custom"


CALENDAR_KINDS = (PeriodKind.DAY, PeriodKind.WEEK, PeriodKind.MONTH)
"""The kinds a schedule repeats."""


class UnknownZoneError(ValueError):
    """Not an IANA time zone name."""


@cache
def zone_info(zone: str) -> ZoneInfo:
    """The ``ZoneInfo`` of ``zone``; ``UnknownZoneError`` when there is none."""
    try:
        return ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZoneError(f"{zone!r} is not an IANA time zone") from exc


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """``[start, end)`` (epoch ms UTC) of ``kind`` in ``zone``."""

    kind: PeriodKind
    zone: str
    start: Millis
    end: Millis

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError("a period's end must lie after its start")

    @property
    def first_day(self) -> date:
        """The local date of the start."""
        return local_date(self.start, self.zone)

    @property
    def label(self) -> str:
        """``2027-01-15``, ``2027-W02``, ``2027-01``, or ``2027-01-15 08:00 – 2027-01-16
        08:00`` (local) for a custom period."""
        day = self.first_day
        if self.kind is PeriodKind.DAY:
            return day.isoformat()
        if self.kind is PeriodKind.WEEK:
            year, week, _ = day.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{day.year}-{day.month:02d}"
        return f"{_local(self.start, self.zone)} – {_local(self.end, self.zone)}"


def local_date(at: Millis, zone: str) -> date:
    """The calendar date in ``zone`` at instant ``at``."""
    return datetime.fromtimestamp(at / 1000, tz=zone_info(zone)).date()


def midnight(day: date, zone: str) -> Millis:
    """The first instant of ``day`` in ``zone`` (a skipped midnight: the instant of the
    change that skips it)."""
    # fold=0 reads a skipped local time with the offset before the change, which lands on
    # the change itself for a skipped midnight, and takes the first of a repeated one.
    return to_millis(datetime(day.year, day.month, day.day, tzinfo=zone_info(zone)))


def period_of(kind: PeriodKind, at: Millis, zone: str = DEFAULT_ZONE) -> Period:
    """The period of ``kind`` in ``zone`` that holds instant ``at``."""
    return period_from(kind, _first_day(kind, local_date(at, zone)), zone)


def period_from(kind: PeriodKind, first_day: date, zone: str = DEFAULT_ZONE) -> Period:
    """The period of ``kind`` that begins on local date ``first_day``, which must be a
    period's first day (any day, a Monday, the first of a month)."""
    if kind is PeriodKind.CUSTOM:
        raise ValueError("a custom period is given by its start and end")
    if _first_day(kind, first_day) != first_day:
        what = "a Monday" if kind is PeriodKind.WEEK else "the first of a month"
        raise ValueError(f"a {kind} begins on {what}, not on {first_day.isoformat()}")
    return Period(
        kind=kind,
        zone=zone,
        start=midnight(first_day, zone),
        end=midnight(_following(kind, first_day), zone),
    )


def next_period(period: Period) -> Period:
    """The period of the same kind that follows ``period``."""
    return period_from(_calendar(period), _following(period.kind, period.first_day), period.zone)


def previous_period(period: Period) -> Period:
    """The period of the same kind that precedes ``period``."""
    kind = _calendar(period)
    return period_from(kind, _first_day(kind, period.first_day - timedelta(days=1)), period.zone)


def bins_of(period: Period) -> tuple[Period, ...]:
    """What a report's time series counts by: hours for a day or a custom period of a
    day or less, calendar days otherwise (each clipped to the period)."""
    if period.end - period.start <= 25 * 3_600_000:
        step = 3_600_000
        return tuple(
            Period(kind=PeriodKind.CUSTOM, zone=period.zone, start=t, end=min(t + step, period.end))
            for t in range(period.start, period.end, step)
        )
    found: list[Period] = []
    day = period_of(PeriodKind.DAY, period.start, period.zone)
    while day.start < period.end:
        found.append(
            Period(
                kind=PeriodKind.DAY
                if period.start <= day.start and day.end <= period.end
                else PeriodKind.CUSTOM,
                zone=period.zone,
                start=max(day.start, period.start),
                end=min(day.end, period.end),
            )
        )
        day = next_period(day)
    return tuple(found)


def _calendar(period: Period) -> PeriodKind:
    if period.kind is PeriodKind.CUSTOM:
        raise ValueError("a custom period has no neighbours")
    return period.kind


def _first_day(kind: PeriodKind, day: date) -> date:
    if kind is PeriodKind.WEEK:
        return day - timedelta(days=day.weekday())
    if kind is PeriodKind.MONTH:
        return day.replace(day=1)
    return day


def _following(kind: PeriodKind, first_day: date) -> date:
    if kind is PeriodKind.WEEK:
        return first_day + timedelta(days=7)
    if kind is PeriodKind.MONTH:
        return date(first_day.year + first_day.month // 12, first_day.month % 12 + 1, 1)
    return first_day + timedelta(days=1)


def _local(at: Millis, zone: str) -> str:
    return datetime.fromtimestamp(at / 1000, tz=zone_info(zone)).strftime("%Y-%m-%d %H:%M")
