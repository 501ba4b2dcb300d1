"""Report schedules: which report to make for which scope node, every day, week or month,
in which formats, and whom to mail it to — and which of its periods are due.

A schedule as the API takes it::

    {"scope": 3, "period": "month", "zone": "Asia/Shanghai",
     "formats": ["pdf", "xlsx"], "recipients": ["anquan@park.example.cn"],
     "channel": null, "enabled": true}

``scope`` is a scope node id (an enterprise, a park, or a region — the regulator's level);
``channel`` names the e-mail channel to send through (``null``: the first enabled e-mail
channel by name). ``parse_schedule`` raises ``ScheduleError`` whose ``problems`` each name
the field (``formats[1]: 'docx' is not one of html, pdf, csv, xlsx``).

A schedule's periods begin with the one holding ``since`` (when the schedule was made, or
last changed its period or zone): a report for every period from there on that is over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from hazwatch.domain.clock import Millis
from hazwatch.domain.keys import SEGMENT_RE
from hazwatch.evaluate.report import ReportFormat
from hazwatch.evaluate.report_period import (
    CALENDAR_KINDS,
    DEFAULT_ZONE,
    Period,
    PeriodKind,
    next_period,
    period_of,
    zone_info,
)

MAX_RECIPIENTS = 50


class ScheduleError(ValueError):
    """A schedule that cannot be used; ``problems`` name the field each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSchedule:
    name: str
    scope_id: int
    kind: PeriodKind
    zone: str
    formats: tuple[ReportFormat, ...]
    recipients: tuple[str, ...]
    channel: str | None
    enabled: bool
    since: Millis
    """the first period is the one holding this instant"""

    def first_period(self) -> Period:
        return period_of(self.kind, self.since, self.zone)


def due_periods(schedule: ReportSchedule, now: Millis) -> tuple[Period, ...]:
    """Every period of ``schedule`` that is over at ``now`` (ends at or before it), oldest
    first."""
    found: list[Period] = []
    period = schedule.first_period()
    while period.end <= now:
        found.append(period)
        period = next_period(period)
    return tuple(found)


def next_due(schedule: ReportSchedule, after: Millis) -> Period:
    """The first period of ``schedule`` still running at ``after`` (ending after it): the
    next to fall due, at its ``end``."""
    period = schedule.first_period()
    while period.end <= after:
        period = next_period(period)
    return period


def check_formats(formats: Sequence[str], field: str = "formats") -> tuple[ReportFormat, ...]:
    """``formats`` as ``ReportFormat``s, each once, in the order given; ``ScheduleError``
    naming ``field[i]`` otherwise."""
    problems: list[str] = []
    found: list[ReportFormat] = []
    for i, value in enumerate(formats):
        try:
            fmt = ReportFormat(value)
        except ValueError:
            known = ", ".join(ReportFormat)
            problems.append(f"{field}[{i}]: {value!r} is not one of {known}")
            continue
        if fmt in found:
            problems.append(f"{field}[{i}]: {value!r} is listed twice")
        found.append(fmt)
    if not formats:
        problems.append(f"{field}: name at least one format")
    if problems:
        raise ScheduleError(problems)
    return tuple(found)


def check_recipients(recipients: Sequence[str], field: str = "recipients") -> tuple[str, ...]:
    """E-mail addresses (``name <address>`` allowed); ``ScheduleError`` naming each bad one."""
    problems = [
        f"{field}[{i}]: {value!r} is not an e-mail address"
        for i, value in enumerate(recipients)
        if "@" not in parseaddr(value)[1] or "\n" in value or "\r" in value
    ]
    if len(recipients) > MAX_RECIPIENTS:
        problems.append(f"{field}: at most {MAX_RECIPIENTS} recipients")
    if problems:
        raise ScheduleError(problems)
    return tuple(recipients)


class _Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    scope: int
    period: PeriodKind
    zone: str = DEFAULT_ZONE
    formats: list[str] = Field(default_factory=lambda: [ReportFormat.PDF.value])
    recipients: list[str] = Field(default_factory=list)
    channel: str | None = None
    enabled: bool = True

    @field_validator("name", "channel")
    @classmethod
    def _segment(cls, value: str | None) -> str | None:
        if value is not None and not SEGMENT_RE.fullmatch(value):
            raise ValueError(
                "expected a key segment: a-z, 0-9, '-' and '_', starting with a letter or "
                "digit, at most 64 characters"
            )
        return value

    @field_validator("period")
    @classmethod
    def _calendar(cls, value: PeriodKind) -> PeriodKind:
        if value not in CALENDAR_KINDS:
            raise ValueError("a schedule repeats by day, week or month")
        return value

    @field_validator("zone")
    @classmethod
    def _zone(cls, value: str) -> str:
        zone_info(value)  # UnknownZoneError is a ValueError: pydantic reports it
        return value


def parse_schedule(
    data: object, *, now: Millis, stored: ReportSchedule | None = None
) -> ReportSchedule:
    """Validate a schedule document; ``ScheduleError`` with every problem.

    ``since`` is ``now`` for a new schedule, and for one whose period or zone changes;
    otherwise the ``stored`` schedule's (so an edit of its recipients changes nothing that
    is due).
    """
    if not isinstance(data, dict):
        raise ScheduleError(["expected a mapping with name, scope, period and formats"])
    problems: list[str] = []
    try:
        model = _Schedule.model_validate(data)
    except ValidationError as exc:
        problems += _problems(exc)
        model = None
    formats: tuple[ReportFormat, ...] = ()
    recipients: tuple[str, ...] = ()
    for check in ("formats", "recipients"):
        given: Any = data.get(check, [] if check == "recipients" else ["pdf"])
        if not isinstance(given, list) or not all(isinstance(v, str) for v in given):
            continue  # the model has said so
        try:
            if check == "formats":
                formats = check_formats(given)
            else:
                recipients = check_recipients(given)
        except ScheduleError as exc:
            problems += exc.problems
    if problems or model is None:
        raise ScheduleError(problems)
    same = stored is not None and (stored.kind, stored.zone) == (model.period, model.zone)
    return ReportSchedule(
        name=model.name,
        scope_id=model.scope,
        kind=model.period,
        zone=model.zone,
        formats=formats,
        recipients=recipients,
        channel=model.channel,
        enabled=model.enabled,
        since=stored.since if same and stored is not None else now,
    )


def document_of(schedule: ReportSchedule) -> dict[str, Any]:
    """The schedule as plain data: what ``parse_schedule`` reads, with ``since``."""
    return {
        "name": schedule.name,
        "scope": schedule.scope_id,
        "period": schedule.kind.value,
        "zone": schedule.zone,
        "formats": [f.value for f in schedule.formats],
        "recipients": list(schedule.recipients),
        "channel": schedule.channel,
        "enabled": schedule.enabled,
        "since": schedule.since,
    }


def _problems(exc: ValidationError) -> list[str]:
    found: list[str] = []
    for error in exc.errors():
        where = ""
        for part in error["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
        message = str(error["msg"]).removeprefix("Value error, ")
        found.append(f"{where}: {message}" if where else message)
    return found
