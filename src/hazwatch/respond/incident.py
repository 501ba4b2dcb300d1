"""Incidents: what happened, what was done and who did it — a status, a checklist of tasks
and a timeline. Pure: time is a parameter, keys derive from their inputs.

An incident opens (``open_incident``, or ``open_from_plan`` with an emergency plan's
checklist, ``respond.plan``), moves through an explicit status table (``TRANSITIONS``)::

    open ──▶ responding ──▶ contained ──▶ closed
      │          ▲  └───────────┐  │          ▲
      │          └──────────────┼──┘          │
      └─────────────────────────┴─────────────┘   (a false alarm closes from open)

and closes only when no task is still open (done or skipped, a skip saying why; the
checklist's own changes are in ``respond.checklist``). Every function returns the new
value(s) and the ``TimelineEntry`` objects to record; it never records them itself.

Idempotency: every entry has a ``key``, unique within its incident and derived from what it
records (``opened``, ``status:closed@<at>``, ``task:isolate:done@<at>``…), so an entry
recorded again after a restart is stored once (``storage.incident_repository``). The
runtime's own entries (notifications, escalations, acknowledgements, park linkage) take
keys from its orders' idempotency keys. An incident's key is ``incident_key(...)`` of what
opened it: a playbook run passes its run id and step id, so a re-issued ``open_incident``
order opens nothing twice.

Errors: ``IncidentError`` with a ``Refusal`` code; ``IncidentTransitionError`` (code
``not_allowed``) also names the status it was in and the one asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType

from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.warning import Colour
from hazwatch.respond.plan import Plan

SYSTEM = "system"
"""The actor of entries the platform records by itself."""


class IncidentStatus(StrEnum):
    OPEN = "open"
    """opened; nobody has reported taking action yet"""
    RESPONDING = "responding"
    """people are working on it"""
    CONTAINED = "contained"
    """the hazard is under control; follow-up under way"""
    CLOSED = "closed"
    """over; the record is final (notes may still be added)"""


TRANSITIONS: Mapping[IncidentStatus, frozenset[IncidentStatus]] = MappingProxyType(
    {
        IncidentStatus.OPEN: frozenset(
            {IncidentStatus.RESPONDING, IncidentStatus.CONTAINED, IncidentStatus.CLOSED}
        ),
        IncidentStatus.RESPONDING: frozenset({IncidentStatus.CONTAINED, IncidentStatus.CLOSED}),
        # A contained hazard can flare up again.
        IncidentStatus.CONTAINED: frozenset({IncidentStatus.RESPONDING, IncidentStatus.CLOSED}),
        # A closed incident is a record: a new occurrence opens a new incident.
        IncidentStatus.CLOSED: frozenset(),
    }
)
"""Status → the statuses it may change to."""


class EntryKind(StrEnum):
    EVENT = "event"
    """something happened: an alarm, a warning, an acknowledgement"""
    ACTION = "action"
    """something was done: park linkage computed, resources suggested"""
    MESSAGE = "message"
    """someone was told (a notification, an escalation)"""
    STATUS = "status"
    """the incident opened or changed status"""
    TASK = "task"
    """a task was added, reassigned, rescheduled, done or skipped"""
    NOTE = "note"
    """free text from a person"""


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    SKIPPED = "skipped"


class SourceKind(StrEnum):
    ALARM = "alarm"
    WARNING = "warning"
    MANUAL = "manual"


class Refusal(StrEnum):
    NOT_ALLOWED = "not_allowed"
    """the status table has no such change"""
    TASKS_OPEN = "tasks_open"
    """closing while tasks are still open"""
    CLOSED = "closed"
    """the tasks of a closed incident do not change"""
    UNKNOWN_TASK = "unknown_task"
    TASK_EXISTS = "task_exists"
    INVALID = "invalid"
    """an empty title or text, a bad assignee or task key, a skip without a note"""


class IncidentError(Exception):
    """A refused change of incident ``incident``; ``code`` says why."""

    def __init__(self, code: Refusal, incident: str, message: str) -> None:
        self.code = code
        self.incident = incident
        super().__init__(message)


class IncidentTransitionError(IncidentError):
    """The status table has no change from ``from_status`` to ``to_status``."""

    def __init__(
        self, incident: str, from_status: IncidentStatus, to_status: IncidentStatus
    ) -> None:
        self.from_status = from_status
        self.to_status = to_status
        allowed = ", ".join(sorted(TRANSITIONS[from_status])) or "none, it is final"
        super().__init__(
            Refusal.NOT_ALLOWED,
            incident,
            f"incident {incident} cannot go from {from_status} to {to_status}"
            f" (from {from_status}: {allowed})",
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeRef:
    """The scope node an incident belongs to.

    ``key``: as people write it — a region or park key alone, from the enterprise down the
    dotted key (``acid.main.storage``); ``path``: the node's materialised path
    (``/1/4/9/``), which decides who may see the incident.
    """

    key: str
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Source:
    """What opened the incident: an alarm (``ref``: its id, ``42.HH``), a warning (its id)
    or a person (``manual``); ``run``: the playbook run that opened it, if one did."""

    kind: SourceKind
    ref: str = ""
    run: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    key: str
    title: str
    status: IncidentStatus
    severity: Colour
    scope: ScopeRef
    source: Source
    plan: str = ""
    """the emergency plan it opened from (name), empty when none"""
    plan_version: int | None = None
    opened_at: Millis
    opened_by: str
    updated_at: Millis
    closed_at: Millis | None = None
    closed_by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Task:
    """A checklist item. ``assignee``: ``user:<name>`` or ``position:<position>@<level>``;
    ``due_at``: when it should be done (None: no deadline)."""

    key: str
    title: str
    assignee: str
    due_at: Millis | None
    status: TaskStatus
    created_at: Millis
    created_by: str
    done_at: Millis | None = None
    """when it was done or skipped"""
    done_by: str = ""
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    """One line of an incident's timeline. ``key`` is unique within the incident (its
    idempotency key); ``data`` holds JSON values only (str, int, float, bool, None, lists
    and dicts of them)."""

    key: str
    at: Millis
    kind: EntryKind
    actor: str
    text: str
    data: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Opening:
    """A new incident, its tasks, and the entries recording its opening."""

    incident: Incident
    tasks: tuple[Task, ...]
    entries: tuple[TimelineEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    incident: Incident
    entries: tuple[TimelineEntry, ...]


def incident_key(*parts: str) -> str:
    """The key of the incident opened by ``parts`` (16 hex digits): the same parts give the
    same key. A playbook run passes ``(run_id, step_id)``; the API ``(user, instant,
    title)``."""
    text = "\x00".join(parts)
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()


def open_incident(
    *,
    key: str,
    title: str,
    severity: Colour,
    scope: ScopeRef,
    source: Source,
    now: Millis,
    actor: str,
    plan: Plan | None = None,
    note: str = "",
) -> Opening:
    """Open an incident (status ``open``), with ``plan``'s checklist when given: each task
    due ``due_min`` minutes after ``now``."""
    title = title.strip()
    if not title:
        raise IncidentError(Refusal.INVALID, key, "an incident needs a title")
    incident = Incident(
        key=key,
        title=title,
        status=IncidentStatus.OPEN,
        severity=severity,
        scope=scope,
        source=source,
        plan=plan.name if plan else "",
        plan_version=plan.version if plan else None,
        opened_at=now,
        opened_by=actor,
        updated_at=now,
    )
    tasks = tuple(
        Task(
            key=t.key,
            title=t.title,
            assignee=t.assignee,
            due_at=now + round(t.due_min * MINUTE_MS),
            status=TaskStatus.OPEN,
            created_at=now,
            created_by=actor,
        )
        for t in (plan.tasks if plan else ())
    )
    text = f"opened: {title}"
    if plan:
        text += f" (plan {plan.name} v{plan.version}, {len(tasks)} tasks)"
    entries = [
        TimelineEntry(
            key="opened",
            at=now,
            kind=EntryKind.STATUS,
            actor=actor,
            text=text,
            data={
                "status": IncidentStatus.OPEN.value,
                "severity": severity.value,
                "scope": scope.key,
                "source": {"kind": source.kind.value, "ref": source.ref, "run": source.run},
                "plan": incident.plan,
                "plan_version": incident.plan_version,
                "tasks": [t.key for t in tasks],
            },
        )
    ]
    if note.strip():
        entries.append(add_note(incident, note, now=now, actor=actor))
    return Opening(incident=incident, tasks=tasks, entries=tuple(entries))


def open_from_plan(
    plan: Plan,
    *,
    key: str,
    scope: ScopeRef,
    source: Source,
    now: Millis,
    actor: str,
    title: str | None = None,
    severity: Colour | None = None,
) -> Opening:
    """Open an incident from an emergency plan: its title and severity unless given, and
    its checklist."""
    return open_incident(
        key=key,
        title=title or plan.title,
        severity=severity or plan.severity,
        scope=scope,
        source=source,
        now=now,
        actor=actor,
        plan=plan,
    )


def change_status(
    incident: Incident,
    to: IncidentStatus,
    *,
    tasks: Sequence[Task],
    now: Millis,
    actor: str,
    note: str = "",
) -> Change:
    """Move ``incident`` to ``to`` along ``TRANSITIONS``; closing needs every task done or
    skipped."""
    if to not in TRANSITIONS[incident.status]:
        raise IncidentTransitionError(incident.key, incident.status, to)
    if to is IncidentStatus.CLOSED:
        still = [t.key for t in tasks if t.status is TaskStatus.OPEN]
        if still:
            raise IncidentError(
                Refusal.TASKS_OPEN,
                incident.key,
                f"incident {incident.key} has open tasks ({', '.join(still)}):"
                " mark each done or skipped before closing",
            )
    changed = replace(
        incident,
        status=to,
        updated_at=now,
        closed_at=now if to is IncidentStatus.CLOSED else None,
        closed_by=actor if to is IncidentStatus.CLOSED else "",
    )
    note = note.strip()
    text = f"status: {incident.status} → {to}" + (f" — {note}" if note else "")
    entry = TimelineEntry(
        key=f"status:{to}@{now}",
        at=now,
        kind=EntryKind.STATUS,
        actor=actor,
        text=text,
        data={"from": incident.status.value, "to": to.value, "note": note},
    )
    return Change(incident=changed, entries=(entry,))


def add_note(incident: Incident, text: str, *, now: Millis, actor: str) -> TimelineEntry:
    """A person's note (allowed on a closed incident too: a review adds to the record)."""
    text = text.strip()
    if not text:
        raise IncidentError(Refusal.INVALID, incident.key, "a note needs text")
    digest = hashlib.blake2s(text.encode("utf-8"), digest_size=4).hexdigest()
    return TimelineEntry(
        key=f"note@{now}:{actor}:{digest}", at=now, kind=EntryKind.NOTE, actor=actor, text=text
    )
