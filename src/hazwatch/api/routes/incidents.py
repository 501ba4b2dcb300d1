"""Incidents: list, open by hand (optionally from an emergency plan), read with tasks and
timeline, change status, add notes and tasks, change tasks, and the report (HTML, PDF).

Reads filter to the caller's subtrees in the repository; an incident outside them is a 404.
Changes need an operator role on the incident's scope (403 otherwise) and record the caller
in the timeline. A refusal by the incident rules answers 409 (the status table, open tasks,
a closed incident, a task key taken), an unknown task 404, with a sentence saying what to do
and the refusal's code in brackets.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.responses import HTMLResponse, JSONResponse

from hazwatch.api.deps import OperatorGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.api.incident_schemas import (
    EntryOut,
    IncidentDetailOut,
    IncidentOut,
    NoteIn,
    OpenIncidentIn,
    StatusIn,
    SummaryOut,
    TaskIn,
    TaskOut,
    TaskPatchIn,
)
from hazwatch.domain.clock import Millis, parse_millis
from hazwatch.domain.scope import Grant
from hazwatch.render.incident_report import DEFAULT_ZONE, UnknownZoneError, incident_report_html
from hazwatch.render.pdf import html_to_pdf
from hazwatch.respond.checklist import KEEP, summary
from hazwatch.respond.incident import (
    Incident,
    IncidentError,
    IncidentStatus,
    Refusal,
    Source,
    incident_key,
    open_incident,
)
from hazwatch.runtime.platform import Platform
from hazwatch.storage.incident_repository import IncidentRepository, UnknownIncidentError
from hazwatch.storage.plan_repository import PlanRepository

router = APIRouter(tags=["incidents"])

T = TypeVar("T")

OPEN = [IncidentStatus.OPEN, IncidentStatus.RESPONDING, IncidentStatus.CONTAINED]

_STATUS: Mapping[Refusal, int] = MappingProxyType(
    {
        Refusal.NOT_ALLOWED: status.HTTP_409_CONFLICT,
        Refusal.TASKS_OPEN: status.HTTP_409_CONFLICT,
        Refusal.CLOSED: status.HTTP_409_CONFLICT,
        Refusal.TASK_EXISTS: status.HTTP_409_CONFLICT,
        Refusal.UNKNOWN_TASK: status.HTTP_404_NOT_FOUND,
        Refusal.INVALID: status.HTTP_422_UNPROCESSABLE_CONTENT,
    }
)


def incident_repository(platform: PlatformDep) -> IncidentRepository:
    return IncidentRepository(platform.db)


IncidentsDep = Annotated[IncidentRepository, Depends(incident_repository)]
Zone = Annotated[str, Query(description="IANA time zone of the report's times")]


@router.get("/incidents", operation_id="list_incidents", response_model=list[IncidentOut])
def list_incidents(
    incidents: IncidentsDep,
    grant: ViewerGrant,
    status_: Annotated[list[IncidentStatus] | None, Query(alias="status")] = None,
    include_closed: bool = False,
    scope_id: Annotated[int | None, Query(description="incidents at or below this node")] = None,
    since: Annotated[
        str | None, Query(description="opened at or after: ISO 8601 with a zone, or epoch ms")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[IncidentOut]:
    """Incidents the caller may see, newest opened first; by default those not closed."""
    opened_since: Millis | None = None
    if since is not None:
        opened_since = parse_millis(since)
        if opened_since is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"since: {since!r} is not epoch milliseconds or ISO 8601 with a zone",
            )
    statuses = status_ or (None if include_closed else OPEN)
    found = incidents.list(
        grant, statuses=statuses, scope_id=scope_id, since=opened_since, limit=limit
    )
    return [IncidentOut.of(i) for i in found]


@router.post(
    "/incidents",
    operation_id="open_incident",
    status_code=status.HTTP_201_CREATED,
    response_model=IncidentDetailOut,
    responses={200: {"model": IncidentDetailOut, "description": "the key was opened already"}},
)
def open_incident_by_hand(
    body: OpenIncidentIn,
    platform: PlatformDep,
    incidents: IncidentsDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> JSONResponse:
    """Open an incident (operator role on the scope node), from a plan when ``plan`` is given."""
    scope = incidents.scope_of(body.scope_id)
    if scope is None or not viewer.allows(scope.path):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"scope_id: no node {body.scope_id}"
        )
    if not grant.allows(scope.path):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="opening an incident here needs an operator role"
        )
    plan = None
    if body.plan is not None:
        stored = PlanRepository(platform.db).get(body.plan, body.plan_version)
        if stored is None:
            which = f"version {body.plan_version} of " if body.plan_version else ""
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"plan: no {which}emergency plan {body.plan!r} (GET /api/v1/plans)",
            )
        plan = stored.plan
    now = platform.clock.now()
    title = (body.title or "").strip() or (plan.title if plan else "")
    key = body.key or incident_key(principal.name, str(now), title)
    existing = incidents.find(key)
    if existing is None:
        severity = body.severity or (plan.severity if plan else None)
        if severity is None:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="severity: give one or a plan"
            )
        opening = _refused(
            key,
            lambda: open_incident(
                key=key,
                title=title,
                severity=severity,
                scope=scope,
                source=Source(kind=body.source.kind, ref=body.source.ref),
                now=now,
                actor=principal.name,
                plan=plan,
                note=body.note,
            ),
        )
        created = incidents.open(opening)
    else:
        created = False
    stored_incident = incidents.get(viewer, key)
    if stored_incident is None:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"key: {key} is taken")
    return JSONResponse(
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        content=_detail(incidents, stored_incident, now).model_dump(mode="json"),
    )


@router.get("/incidents/{key}", operation_id="get_incident", response_model=IncidentDetailOut)
def get_incident(
    key: str, platform: PlatformDep, incidents: IncidentsDep, grant: ViewerGrant
) -> IncidentDetailOut:
    """One incident with its tasks (checklist order), timeline (oldest first) and counts."""
    return _detail(incidents, _visible(incidents, grant, key), platform.clock.now())


@router.post(
    "/incidents/{key}/status",
    operation_id="change_incident_status",
    response_model=IncidentDetailOut,
)
def change_incident_status(
    key: str,
    body: StatusIn,
    platform: PlatformDep,
    incidents: IncidentsDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> IncidentDetailOut:
    """Move the incident along open → responding → contained → closed (operator role)."""
    _writable(incidents, grant, viewer, key, "changing its status")
    now = platform.clock.now()
    changed = _refused(
        key,
        lambda: incidents.change_status(
            key, body.status, now=now, actor=principal.name, note=body.note
        ),
    )
    return _detail(incidents, changed, now)


@router.post(
    "/incidents/{key}/notes",
    operation_id="add_incident_note",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryOut,
)
def add_incident_note(
    key: str,
    body: NoteIn,
    platform: PlatformDep,
    incidents: IncidentsDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> EntryOut:
    """Add a note to the timeline (operator role; closed incidents too)."""
    _writable(incidents, grant, viewer, key, "adding a note")
    now = platform.clock.now()
    entry = _refused(key, lambda: incidents.add_note(key, body.text, now=now, actor=principal.name))
    return EntryOut.of(entry)


@router.post(
    "/incidents/{key}/tasks",
    operation_id="add_incident_task",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
)
def add_incident_task(
    key: str,
    body: TaskIn,
    platform: PlatformDep,
    incidents: IncidentsDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> TaskOut:
    """Add a task to the checklist (operator role)."""
    _writable(incidents, grant, viewer, key, "adding a task")
    now = platform.clock.now()
    task = _refused(
        key,
        lambda: incidents.add_task(
            key,
            title=body.title,
            assignee=body.assignee,
            due_at=body.due(now),
            now=now,
            actor=principal.name,
            task_key=body.key,
        ),
    )
    return TaskOut.of(task, now)


@router.patch(
    "/incidents/{key}/tasks/{task}", operation_id="update_incident_task", response_model=TaskOut
)
def update_incident_task(
    key: str,
    task: str,
    body: TaskPatchIn,
    platform: PlatformDep,
    incidents: IncidentsDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> TaskOut:
    """Reassign, reschedule, annotate, mark done or skipped, or reopen a task (operator)."""
    _writable(incidents, grant, viewer, key, "changing a task")
    now = platform.clock.now()
    given = body.model_fields_set
    wanted = body.wanted_status()
    changed = _refused(
        key,
        lambda: incidents.update_task(
            key,
            task,
            now=now,
            actor=principal.name,
            assignee=body.assignee if body.assignee is not None else KEEP,
            due_at=body.due() if "due_at" in given else KEEP,
            status=wanted if wanted is not None else KEEP,
            note=body.note if body.note is not None else KEEP,
        ),
    )
    return TaskOut.of(changed, now)


@router.get(
    "/incidents/{key}/report.html",
    operation_id="incident_report_html",
    response_class=HTMLResponse,
)
def incident_report_as_html(
    key: str,
    platform: PlatformDep,
    incidents: IncidentsDep,
    grant: ViewerGrant,
    zone: Zone = DEFAULT_ZONE,
) -> HTMLResponse:
    """The incident report as one self-contained HTML page."""
    return HTMLResponse(_report(platform, incidents, grant, key, zone))


@router.get(
    "/incidents/{key}/report.pdf",
    operation_id="incident_report_pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def incident_report_as_pdf(
    key: str,
    platform: PlatformDep,
    incidents: IncidentsDep,
    grant: ViewerGrant,
    zone: Zone = DEFAULT_ZONE,
) -> Response:
    """The incident report as an A4 PDF (the same content as the HTML)."""
    pdf = html_to_pdf(_report(platform, incidents, grant, key, zone))
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="incident-{key}.pdf"'},
    )


def _report(
    platform: Platform, incidents: IncidentRepository, grant: Grant, key: str, zone: str
) -> str:
    incident = _visible(incidents, grant, key)
    try:
        return incident_report_html(
            incident,
            incidents.tasks(key),
            incidents.timeline(key),
            now=platform.clock.now(),
            zone=zone,
        )
    except UnknownZoneError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"zone: {exc}") from None


def _visible(incidents: IncidentRepository, grant: Grant, key: str) -> Incident:
    found = incidents.get(grant, key)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no incident {key}")
    return found


def _writable(
    incidents: IncidentRepository, grant: Grant, viewer: Grant, key: str, doing: str
) -> Incident:
    incident = _visible(incidents, viewer, key)
    if not grant.allows(incident.scope.path):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"{doing} on incident {key} needs an operator role"
        )
    return incident


def _detail(incidents: IncidentRepository, incident: Incident, now: Millis) -> IncidentDetailOut:
    tasks = incidents.tasks(incident.key)
    timeline = incidents.timeline(incident.key)
    return IncidentDetailOut(
        **IncidentOut.of(incident).model_dump(),
        tasks=[TaskOut.of(t, now) for t in tasks],
        timeline=[EntryOut.of(e) for e in timeline],
        summary=SummaryOut.of(summary(incident, tasks, timeline, now=now)),
    )


def _refused(key: str, apply: Callable[[], T]) -> T:
    """``apply()``, with its refusals answered as HTTP errors."""
    try:
        return apply()
    except IncidentError as exc:
        raise HTTPException(_STATUS[exc.code], detail=f"{exc} ({exc.code.value})") from None
    except UnknownIncidentError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no incident {key}") from None
