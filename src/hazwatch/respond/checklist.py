"""An incident's checklist: adding tasks, changing them, and the counts a report shows. Pure.

Tasks come from an emergency plan when the incident opens (``incident.open_from_plan``) or
are added later (``add_task``). A task is reassigned, rescheduled, annotated, marked done or
skipped, or reopened with ``update_task``: one timeline entry per field that changes, keyed
``task:<task>:<field>@<at>``, so recording them again changes nothing. The tasks of a closed
incident are final (``Refusal.CLOSED``), and skipping one needs a note saying why — the
record must show why a step of the plan was not carried out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from types import MappingProxyType

from hazwatch.domain.clock import Millis
from hazwatch.domain.keys import SEGMENT_RE
from hazwatch.respond.incident import (
    EntryKind,
    Incident,
    IncidentError,
    IncidentStatus,
    Refusal,
    Task,
    TaskStatus,
    TimelineEntry,
)
from hazwatch.respond.plan import check_assignee


class Keep(Enum):
    """``KEEP``: leave a field of a task as it is."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskChange:
    task: Task
    entries: tuple[TimelineEntry, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """Counts for a report. ``overdue``: open tasks whose due time has passed at ``now``;
    ``late``: tasks done after their due time; ``duration_ms``: opened → closed (or now)."""

    tasks: int
    open: int
    done: int
    skipped: int
    overdue: int
    late: int
    entries: Mapping[EntryKind, int]
    actors: tuple[str, ...]
    duration_ms: Millis


def add_task(
    incident: Incident,
    tasks: Sequence[Task],
    *,
    title: str,
    assignee: str,
    due_at: Millis | None,
    now: Millis,
    actor: str,
    key: str | None = None,
) -> TaskChange:
    """A new open task; ``key`` defaults to ``task-<n>``, the first free number from the
    count of tasks + 1."""
    _not_closed(incident)
    title = title.strip()
    if not title:
        raise IncidentError(Refusal.INVALID, incident.key, "a task needs a title")
    try:
        check_assignee(assignee)
    except ValueError as exc:
        raise IncidentError(Refusal.INVALID, incident.key, f"assignee: {exc}") from None
    taken = {t.key for t in tasks}
    if key is None:
        n = len(tasks) + 1
        while f"task-{n}" in taken:
            n += 1
        key = f"task-{n}"
    elif not SEGMENT_RE.fullmatch(key):
        raise IncidentError(
            Refusal.INVALID, incident.key, f"task key {key!r}: a-z, 0-9, - and _ only"
        )
    elif key in taken:
        raise IncidentError(
            Refusal.TASK_EXISTS, incident.key, f"incident {incident.key} has a task {key} already"
        )
    task = Task(
        key=key,
        title=title,
        assignee=assignee,
        due_at=due_at,
        status=TaskStatus.OPEN,
        created_at=now,
        created_by=actor,
    )
    entry = TimelineEntry(
        key=f"task:{key}:added",
        at=now,
        kind=EntryKind.TASK,
        actor=actor,
        text=f"task {key} added: {title} → {assignee}",
        data={"task": key, "title": title, "assignee": assignee, "due_at": due_at},
    )
    return TaskChange(task=task, entries=(entry,))


def update_task(
    incident: Incident,
    task: Task,
    *,
    now: Millis,
    actor: str,
    assignee: str | Keep = KEEP,
    due_at: Millis | Keep | None = KEEP,
    status: TaskStatus | Keep = KEEP,
    note: str | Keep = KEEP,
) -> TaskChange:
    """Reassign, reschedule, annotate, mark done or skipped, or reopen a task: one entry per
    field that changes (none when nothing does). A skip needs a note saying why."""
    _not_closed(incident)
    changed = task
    entries: list[TimelineEntry] = []

    def record(what: str, text: str, data: dict[str, object]) -> None:
        entries.append(
            TimelineEntry(
                key=f"task:{task.key}:{what}@{now}",
                at=now,
                kind=EntryKind.TASK,
                actor=actor,
                text=text,
                data={"task": task.key, **data},
            )
        )

    if not isinstance(assignee, Keep) and assignee != task.assignee:
        try:
            check_assignee(assignee)
        except ValueError as exc:
            raise IncidentError(Refusal.INVALID, incident.key, f"assignee: {exc}") from None
        changed = replace(changed, assignee=assignee)
        record("assignee", f"task {task.key} reassigned to {assignee}", {"assignee": assignee})
    if not isinstance(due_at, Keep) and due_at != task.due_at:
        changed = replace(changed, due_at=due_at)
        record("due", f"task {task.key} due time changed", {"due_at": due_at})
    if not isinstance(note, Keep) and note.strip() != task.note:
        text = note.strip()
        changed = replace(changed, note=text)
        record("note", f"task {task.key}: {text or 'note removed'}", {"note": text})
    if not isinstance(status, Keep) and status is not task.status:
        if status is TaskStatus.SKIPPED and not changed.note:
            raise IncidentError(
                Refusal.INVALID, incident.key, f"skipping task {task.key} needs a note saying why"
            )
        reopened = status is TaskStatus.OPEN
        changed = replace(
            changed,
            status=status,
            done_at=None if reopened else now,
            done_by="" if reopened else actor,
        )
        verb = "reopened" if reopened else status.value
        record(status.value, f"task {task.key} {verb}: {task.title}", {"status": status.value})
    return TaskChange(task=changed, entries=tuple(entries))


def summary(
    incident: Incident, tasks: Sequence[Task], entries: Sequence[TimelineEntry], *, now: Millis
) -> Summary:
    """The counts a report shows, as of ``now``."""
    by_status = Counter(t.status for t in tasks)
    by_kind = Counter(e.kind for e in entries)
    return Summary(
        tasks=len(tasks),
        open=by_status[TaskStatus.OPEN],
        done=by_status[TaskStatus.DONE],
        skipped=by_status[TaskStatus.SKIPPED],
        overdue=sum(
            1
            for t in tasks
            if t.status is TaskStatus.OPEN and t.due_at is not None and t.due_at < now
        ),
        late=sum(
            1
            for t in tasks
            if t.status is TaskStatus.DONE
            and t.due_at is not None
            and t.done_at is not None
            and t.done_at > t.due_at
        ),
        entries=MappingProxyType({k: by_kind[k] for k in EntryKind if by_kind[k]}),
        actors=tuple(sorted({e.actor for e in entries if e.actor})),
        duration_ms=(incident.closed_at if incident.closed_at is not None else now)
        - incident.opened_at,
    )


def _not_closed(incident: Incident) -> None:
    if incident.status is IncidentStatus.CLOSED:
        raise IncidentError(
            Refusal.CLOSED, incident.key, f"incident {incident.key} is closed: its tasks are final"
        )
