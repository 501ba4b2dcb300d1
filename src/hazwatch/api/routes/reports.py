"""Reports (报告): made on demand or by schedule for an enterprise, a park or a region, in
HTML, PDF, CSV (a zip of tables) and XLSX, downloaded here and mailed to recipients.

* ``POST /reports`` makes a report now and answers it with its download links: ``scope`` (a
  node id), ``period`` (``day``, ``week``, ``month``) with ``start`` (a local date
  ``2027-01-01`` or an instant; the period holding it; default the last complete one), or
  ``start`` and ``end`` (instants on whole minutes: a custom period), ``zone`` (default
  ``Asia/Shanghai``), ``formats`` (default ``["pdf"]``), ``recipients`` and ``channel``.
  The period must be over.
* ``GET /reports``, ``GET /reports/{id}``, ``GET /reports/{id}.{html|pdf|csv|xlsx}``: the
  reports of nodes the caller sees, and their files.
* ``/report-schedules[/{name}]``: read (viewers, scoped), create, replace and delete
  (admins whose role covers the node).

A refused body answers 422 with ``problems``, each naming the field. A node the caller
does not see answers like an unknown one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Response, status
from fastapi.responses import JSONResponse

from hazwatch.api.deps import AdminGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.domain.clock import DAY_MS, MINUTE_MS, Millis, iso, parse_millis
from hazwatch.domain.scope import Grant, ScopeNode
from hazwatch.evaluate.report import REPORT_LEVELS, ReportFormat
from hazwatch.evaluate.report_period import (
    DEFAULT_ZONE,
    Period,
    PeriodKind,
    UnknownZoneError,
    period_from,
    period_of,
    previous_period,
    zone_info,
)
from hazwatch.evaluate.report_schedule import (
    ScheduleError,
    check_formats,
    check_recipients,
    document_of,
    next_due,
    parse_schedule,
)
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.report_scheduler import ReportScheduler
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.report_repository import ReportRepository, ReportStatus, StoredReport

router = APIRouter(tags=["reports"])

MAX_CUSTOM_MS: Millis = 366 * DAY_MS
_FIELDS = {"scope", "period", "start", "end", "zone", "formats", "recipients", "channel"}

ReportBody = Annotated[
    dict[str, Any],
    Body(
        examples=[
            {"scope": 2, "period": "month", "start": "2027-01-01", "formats": ["pdf", "xlsx"]},
            {"scope": 2, "start": "2027-01-01T00:00:00+08:00", "end": "2027-01-15T00:00:00+08:00"},
        ]
    ),
]
ScheduleBody = Annotated[
    dict[str, Any],
    Body(
        examples=[
            {
                "name": "east-monthly",
                "scope": 2,
                "period": "month",
                "zone": "Asia/Shanghai",
                "formats": ["pdf", "xlsx"],
                "recipients": ["anquan@park.example.cn"],
                "enabled": True,
            }
        ]
    ),
]


class _RequestError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems


def _refusal(what: str, problems: list[str]) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": f"the {what} is not valid", "problems": problems},
    )


def _node(platform: Platform, grant: Grant, scope: object) -> ScopeNode:
    """The report node ``scope`` names, seen whole by ``grant``; ``_RequestError`` otherwise."""
    if type(scope) is not int:
        raise _RequestError(["scope: expected a scope node id (an integer)"])
    node = platform.plants.node(scope)
    if node is None or not grant.allows(node.path):
        raise _RequestError([f"scope: unknown scope node {scope}"])
    if node.kind not in REPORT_LEVELS:
        levels = ", ".join(k.value for k in REPORT_LEVELS)
        raise _RequestError([f"scope: a report is made for a {levels}, not for a {node.kind}"])
    return node


def _instant(field: str, value: object) -> Millis:
    found = parse_millis(value)
    if found is None:
        raise _RequestError([f"{field}: expected ISO 8601 with a zone, or epoch milliseconds"])
    return found


def _period(body: dict[str, Any], now: Millis) -> Period:
    """The period a request names (see the module docstring); it must be over at ``now``."""
    zone = body.get("zone", DEFAULT_ZONE)
    if not isinstance(zone, str):
        raise _RequestError(["zone: expected an IANA time zone name"])
    try:
        zone_info(zone)
    except UnknownZoneError as exc:
        raise _RequestError([f"zone: {exc}"]) from None
    try:
        kind = PeriodKind(str(body.get("period", "custom" if "end" in body else "")))
    except ValueError:
        raise _RequestError(["period: expected day, week, month, or start and end"]) from None
    if kind is PeriodKind.CUSTOM:
        period = _custom(body.get("start"), body.get("end"), zone)
    elif "end" in body:
        raise _RequestError([f"end: a {kind} ends by itself; give start only"])
    else:
        period = _calendar(kind, body.get("start"), zone, now)
    if period.end > now:
        raise _RequestError(
            [f"end: the period {period.label} is not over (it ends {iso(period.end)})"]
        )
    return period


def _custom(start: object, end: object, zone: str) -> Period:
    if start is None or end is None:
        raise _RequestError(["end: a custom period needs start and end"])
    since, until = _instant("start", start), _instant("end", end)
    problems = [
        f"{name}: must be a whole minute"
        for name, value in (("start", since), ("end", until))
        if value % MINUTE_MS
    ]
    if until <= since:
        problems.append(f"end ({iso(until)}) must lie after start ({iso(since)})")
    elif until - since > MAX_CUSTOM_MS:
        problems.append(f"end: a custom period is at most {MAX_CUSTOM_MS // DAY_MS} days")
    if problems:
        raise _RequestError(problems)
    return Period(kind=PeriodKind.CUSTOM, zone=zone, start=since, end=until)


def _calendar(kind: PeriodKind, start: object, zone: str, now: Millis) -> Period:
    """The period of ``kind`` holding ``start`` (a local date or an instant); without one,
    the last that is over."""
    if start is None:
        return previous_period(period_of(kind, now, zone))
    if isinstance(start, str) and len(start) == 10:
        try:
            day = date.fromisoformat(start)
        except ValueError:
            raise _RequestError(["start: expected a date (2027-01-01) or an instant"]) from None
        return period_of(kind, period_from(PeriodKind.DAY, day, zone).start, zone)
    return period_of(kind, _instant("start", start), zone)


def _out(report: StoredReport) -> dict[str, Any]:
    base = f"/api/v1/reports/{report.id}"
    return {
        "id": report.id,
        "url": base,
        "schedule": report.schedule,
        "scope": {
            "id": report.scope.id,
            "kind": report.scope.kind.value,
            "key": report.scope.key,
            "name": report.scope.name,
        },
        "period": {
            "kind": report.period.kind.value,
            "label": report.period.label,
            "zone": report.period.zone,
            "start": iso(report.period.start),
            "end": iso(report.period.end),
        },
        "formats": [f.value for f in report.formats],
        "status": report.status.value,
        "error": report.error or None,
        "created_at": iso(report.created_at),
        "created_by": report.created_by,
        "finished_at": None if report.finished_at is None else iso(report.finished_at),
        "files": [
            {
                "format": f.format.value,
                "media_type": f.media_type,
                "filename": f.filename,
                "size": f.size,
                "url": f"{base}.{f.format.value}",
            }
            for f in report.files
        ],
        "delivery": {
            "status": report.delivery.value,
            "recipients": list(report.recipients),
            "channel": report.channel,
            "attempts": report.delivery_attempts,
            "delivered_at": None if report.delivered_at is None else iso(report.delivered_at),
            "error": report.delivery_error or None,
        },
    }


@router.post("/reports", operation_id="make_report", status_code=status.HTTP_201_CREATED)
async def make_report(
    body: ReportBody, platform: PlatformDep, principal: PrincipalDep, grant: ViewerGrant
) -> JSONResponse:
    """Make a report now (and mail it to ``recipients``); 201 with its download links, 500
    with the report and its error when it could not be made."""
    problems = [f"{k}: not a field of a report request" for k in sorted(set(body) - _FIELDS)]
    node: ScopeNode | None = None
    period: Period | None = None
    formats: tuple[ReportFormat, ...] = ()
    recipients: tuple[str, ...] = ()
    for step in ("scope", "period", "formats", "recipients"):
        try:
            if step == "scope":
                node = _node(platform, grant, body.get("scope"))
            elif step == "period":
                period = _period(body, platform.clock.now())
            elif step == "formats":
                formats = check_formats(_strings(body, "formats", ["pdf"]))
            else:
                recipients = check_recipients(_strings(body, "recipients", []))
        except _RequestError as exc:
            problems += exc.problems
        except ScheduleError as exc:
            problems += exc.problems
    channel = body.get("channel")
    if channel is not None and not isinstance(channel, str):
        problems.append("channel: expected the name of an e-mail channel")
    if problems or node is None or period is None:
        return _refusal("report request", problems)
    stored = await ReportScheduler.for_platform(platform).request(
        node=node,
        period=period,
        formats=formats,
        recipients=recipients,
        channel=channel,
        actor=principal.name,
    )
    if stored.status is not ReportStatus.READY:
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": f"the report could not be made: {stored.error}"} | _out(stored),
        )
    return JSONResponse(status_code=status.HTTP_201_CREATED, content=_out(stored))


def _strings(body: dict[str, Any], field: str, default: list[str]) -> list[str]:
    value = body.get(field, default)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _RequestError([f"{field}: expected a list of strings"])
    return value


@router.get("/reports", operation_id="list_reports")
def list_reports(
    platform: PlatformDep,
    grant: ViewerGrant,
    scope: Annotated[int | None, Query(description="reports of this node only")] = None,
    schedule: Annotated[str | None, Query(description="reports of this schedule only")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    """The reports of nodes the caller sees, newest first."""
    found = ReportRepository(platform.db).list(
        grant, schedule=schedule, scope_id=scope, limit=limit, offset=offset
    )
    return [_out(r) for r in found]


@router.get("/reports/{report_id}.{fmt}", operation_id="download_report")
def download_report(
    report_id: int, fmt: ReportFormat, platform: PlatformDep, grant: ViewerGrant
) -> Response:
    """One file of a report (``csv`` is a zip of one CSV file per table)."""
    found = ReportRepository(platform.db).file(report_id, fmt, grant)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {fmt} of report {report_id}")
    return Response(
        content=found.data,
        media_type=found.media_type,
        headers={"Content-Disposition": f'attachment; filename="{found.filename}"'},
    )


@router.get("/reports/{report_id}", operation_id="get_report")
def get_report(report_id: int, platform: PlatformDep, grant: ViewerGrant) -> dict[str, Any]:
    found = ReportRepository(platform.db).get(report_id, grant)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report {report_id}")
    return _out(found)


# --- schedules -------------------------------------------------------------------------------


def _schedule_out(platform: Platform, name: str) -> dict[str, Any]:
    stored = ReportRepository(platform.db).schedule(name)
    if stored is None:  # pragma: no cover - read right after it was found or written
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report schedule {name!r}")
    schedule = stored.schedule
    upcoming = next_due(schedule, platform.clock.now())
    return document_of(schedule) | {
        "since": iso(schedule.since),
        "scope_path": stored.scope_path,
        "next": {"label": upcoming.label, "start": iso(upcoming.start), "due": iso(upcoming.end)},
        "updated_at": iso(stored.updated_at),
        "updated_by": stored.updated_by,
        "reports": f"/api/v1/reports?schedule={schedule.name}",
    }


@router.get("/report-schedules", operation_id="list_report_schedules")
def list_report_schedules(platform: PlatformDep, grant: ViewerGrant) -> list[dict[str, Any]]:
    """The schedules of nodes the caller sees, by name."""
    names = [s.schedule.name for s in ReportRepository(platform.db).schedules(grant)]
    return [_schedule_out(platform, n) for n in names]


@router.get("/report-schedules/{name}", operation_id="get_report_schedule")
def get_report_schedule(name: str, platform: PlatformDep, grant: ViewerGrant) -> dict[str, Any]:
    stored = ReportRepository(platform.db).schedule(name)
    if stored is None or not grant.allows(stored.scope_path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report schedule {name!r}")
    return _schedule_out(platform, name)


def _save_schedule(
    platform: Platform, grant: Grant, actor: str, body: dict[str, Any], *, create_only: bool
) -> JSONResponse:
    repository = ReportRepository(platform.db)
    name = body.get("name")
    stored = repository.schedule(name) if isinstance(name, str) else None
    if stored is not None and not grant.allows(stored.scope_path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report schedule {name!r}")
    if stored is not None and create_only:
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"a report schedule {name!r} exists: PUT /report-schedules/{name} replaces it",
        )
    problems: list[str] = []
    node: ScopeNode | None = None
    try:
        node = _node(platform, grant, body.get("scope"))
    except _RequestError as exc:
        problems += exc.problems
    schedule = None
    try:
        schedule = parse_schedule(
            body,
            now=platform.clock.now(),
            stored=None if stored is None else stored.schedule,
        )
    except ScheduleError as exc:
        problems += [p for p in exc.problems if not p.startswith("scope:") or node is not None]
    if problems or schedule is None or node is None:
        return _refusal("report schedule", problems)
    outcome = repository.put_schedule(
        schedule, scope_path=node.path, actor=actor, now=platform.clock.now()
    )
    created = outcome is PutOutcome.CREATED
    return JSONResponse(
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        content=_schedule_out(platform, schedule.name),
    )


@router.post(
    "/report-schedules", operation_id="create_report_schedule", status_code=status.HTTP_201_CREATED
)
def create_report_schedule(
    body: ScheduleBody, platform: PlatformDep, principal: PrincipalDep, grant: AdminGrant
) -> JSONResponse:
    """Create a schedule (409 when the name is taken)."""
    return _save_schedule(platform, grant, principal.name, body, create_only=True)


@router.put("/report-schedules/{name}", operation_id="set_report_schedule")
def set_report_schedule(
    name: str,
    body: ScheduleBody,
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: AdminGrant,
) -> JSONResponse:
    """Create (201) or replace (200) the schedule ``name``. Changing its period or zone
    starts it afresh from the period holding now; its reports so far stay."""
    if "name" in body and body["name"] != name:
        return _refusal(
            "report schedule",
            [f"name: {body['name']!r} differs from the name in the path {name!r}"],
        )
    return _save_schedule(platform, grant, principal.name, body | {"name": name}, create_only=False)


@router.delete(
    "/report-schedules/{name}",
    operation_id="delete_report_schedule",
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_report_schedule(name: str, platform: PlatformDep, grant: AdminGrant) -> Response:
    """Remove a schedule; the reports it made stay."""
    repository = ReportRepository(platform.db)
    stored = repository.schedule(name)
    if (
        stored is None
        or not grant.allows(stored.scope_path)
        or not repository.delete_schedule(name)
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no report schedule {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
