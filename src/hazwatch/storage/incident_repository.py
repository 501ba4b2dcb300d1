"""Incidents, their checklists and their timelines.

Durable and idempotent like playbook runs (``playbook_repository``):

* ``open(opening)`` stores a new incident with its tasks and entries in one transaction; an
  incident key stored already changes nothing (a re-issued ``open_incident`` order, a
  replayed request) and answers False.
* ``record(key, entries)`` appends timeline entries; an entry key the incident has already
  is ignored, so the runtime may record again after a restart.
* People's changes (``change_status``, ``add_task``, ``update_task``) lock the incident
  (its ``revision`` rises), read it and its tasks, apply the pure rule
  (``respond.incident``, ``respond.checklist``) and write the result and its entries, in
  one transaction: concurrent changes of one incident queue up, each worked out from the
  state the one before left, so two people closing and reopening a task at once cannot
  leave a state neither rule allowed. A refused change writes nothing.

Reads by people take a ``Grant`` and filter on the incident's ``scope_path`` inside SQL
(``storage/visibility.py``); ``find``, ``for_run`` and the writes are unscoped, for the
runtime — the API checks the grant before it writes.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Row, func, select, update

from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.warning import Colour
from hazwatch.respond.checklist import KEEP, Keep, add_task, update_task
from hazwatch.respond.incident import (
    EntryKind,
    Incident,
    IncidentError,
    IncidentStatus,
    Opening,
    Refusal,
    ScopeRef,
    Source,
    SourceKind,
    Task,
    TaskStatus,
    TimelineEntry,
    add_note,
    change_status,
)
from hazwatch.storage.database import Database
from hazwatch.storage.schema import incident_tasks, incident_timeline, incidents, scope_nodes
from hazwatch.storage.upsert import upsert
from hazwatch.storage.visibility import visible

Incidents = list[Incident]
Tasks = list[Task]
Entries = list[TimelineEntry]
"""(Aliases: the repository's ``list`` method hides the builtin inside the class.)"""


class UnknownIncidentError(LookupError):
    """No incident has this key."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"no incident {key}")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Write:
    """What one change writes: the incident after it, a new or changed task, the entries."""

    incident: Incident
    added: Task | None = None
    changed: Task | None = None
    entries: tuple[TimelineEntry, ...] = ()


class IncidentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # ---- the runtime's calls -------------------------------------------------------------

    def open(self, opening: Opening) -> bool:
        """Store the incident, its tasks and entries (one transaction); False, and nothing
        written, when an incident with this key is stored already."""
        incident = opening.incident
        statement = (
            upsert(self._db.dialect, incidents)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(incidents.c.key)
        )
        with self._db.engine.begin() as conn:
            if conn.execute(statement, _incident_row(incident, revision=0)).first() is None:
                return False
            if opening.tasks:
                conn.execute(
                    incident_tasks.insert(),
                    [_task_row(incident.key, t, i) for i, t in enumerate(opening.tasks)],
                )
            self._insert_entries(conn, incident.key, opening.entries)
        return True

    def record(self, key: str, entries: Sequence[TimelineEntry]) -> int:
        """Append ``entries`` to incident ``key``'s timeline; how many were new (an entry
        key recorded before is skipped). ``UnknownIncidentError`` when there is no such
        incident. ``data`` must hold JSON values only (``TypeError`` otherwise)."""
        with self._db.engine.begin() as conn:
            if conn.execute(select(incidents.c.key).where(incidents.c.key == key)).first() is None:
                raise UnknownIncidentError(key)
            return self._insert_entries(conn, key, entries)

    def find(self, key: str) -> Incident | None:
        """Incident ``key``, unscoped (for the runtime)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(select(incidents).where(incidents.c.key == key)).first()
        return None if row is None else _incident(row)

    def for_run(self, run_id: str) -> Incidents:
        """The incidents a playbook run opened, oldest first, unscoped (for the runtime)."""
        query = (
            select(incidents)
            .where(incidents.c.source_run == run_id)
            .order_by(incidents.c.opened_at, incidents.c.key)
        )
        with self._db.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    # ---- people's reads ------------------------------------------------------------------

    def get(self, grant: Grant, key: str) -> Incident | None:
        """Incident ``key`` if ``grant`` may see it (None when absent or hidden)."""
        query = select(incidents).where(
            incidents.c.key == key, visible(incidents.c.scope_path, grant)
        )
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _incident(row)

    def list(
        self,
        grant: Grant,
        *,
        statuses: Collection[IncidentStatus] | None = None,
        scope_id: int | None = None,
        since: Millis | None = None,
        limit: int = 500,
    ) -> Incidents:
        """The incidents ``grant`` may see, newest opened first. ``scope_id``: at or below
        that node; ``since``: opened at or after. A filter left None does not filter."""
        where: list[ColumnElement[bool]] = [visible(incidents.c.scope_path, grant)]
        if statuses is not None:
            where.append(incidents.c.status.in_([s.value for s in statuses]))
        if scope_id is not None:
            below = select(scope_nodes.c.path).where(scope_nodes.c.id == scope_id)
            where.append(incidents.c.scope_path.startswith(below.scalar_subquery()))
        if since is not None:
            where.append(incidents.c.opened_at >= since)
        query = (
            select(incidents)
            .where(*where)
            .order_by(incidents.c.opened_at.desc(), incidents.c.key)
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [_incident(row) for row in conn.execute(query)]

    def tasks(self, key: str) -> Tasks:
        """Incident ``key``'s tasks in checklist order (the caller checked visibility)."""
        with self._db.engine.connect() as conn:
            return _tasks(conn, key)

    def timeline(self, key: str) -> Entries:
        """Incident ``key``'s timeline, oldest first (ties in the order recorded)."""
        query = (
            select(incident_timeline)
            .where(incident_timeline.c.incident_key == key)
            .order_by(incident_timeline.c.at, incident_timeline.c.id)
        )
        with self._db.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]

    def scope_of(self, node_id: int) -> ScopeRef | None:
        """The ``ScopeRef`` of scope node ``node_id`` (None when there is none): a region or
        park by its own key, a node from the enterprise down by its dotted key."""
        with self._db.engine.connect() as conn:
            node = conn.execute(
                select(scope_nodes.c.path).where(scope_nodes.c.id == node_id)
            ).first()
            if node is None:
                return None
            ids = [int(p) for p in str(node.path).strip("/").split("/")]
            chain = conn.execute(
                select(scope_nodes.c.id, scope_nodes.c.kind, scope_nodes.c.key).where(
                    scope_nodes.c.id.in_(ids)
                )
            ).all()
        by_id = {row.id: row for row in chain}
        nodes = [by_id[i] for i in ids]
        dotted = [
            n.key for n in nodes if n.kind not in (ScopeKind.REGION.value, ScopeKind.PARK.value)
        ]
        return ScopeRef(key=".".join(dotted) if dotted else nodes[-1].key, path=str(node.path))

    # ---- people's changes ----------------------------------------------------------------

    def change_status(
        self, key: str, to: IncidentStatus, *, now: Millis, actor: str, note: str = ""
    ) -> Incident:
        """Move incident ``key`` to ``to`` (``IncidentError`` when the rules refuse)."""

        def apply(incident: Incident, tasks: Tasks) -> _Write:
            change = change_status(incident, to, tasks=tasks, now=now, actor=actor, note=note)
            return _Write(incident=change.incident, entries=change.entries)

        return self._change(key, apply).incident

    def add_note(self, key: str, text: str, *, now: Millis, actor: str) -> TimelineEntry:
        """Record a person's note on incident ``key``."""
        incident = self.find(key)
        if incident is None:
            raise UnknownIncidentError(key)
        entry = add_note(incident, text, now=now, actor=actor)
        self.record(key, [entry])
        return entry

    def add_task(
        self,
        key: str,
        *,
        title: str,
        assignee: str,
        due_at: Millis | None,
        now: Millis,
        actor: str,
        task_key: str | None = None,
    ) -> Task:
        """Add an open task to incident ``key``'s checklist (last in order)."""

        def apply(incident: Incident, tasks: Tasks) -> _Write:
            change = add_task(
                incident,
                tasks,
                title=title,
                assignee=assignee,
                due_at=due_at,
                now=now,
                actor=actor,
                key=task_key,
            )
            return _Write(incident=incident, added=change.task, entries=change.entries)

        added = self._change(key, apply).added
        assert added is not None
        return added

    def update_task(
        self,
        key: str,
        task_key: str,
        *,
        now: Millis,
        actor: str,
        assignee: str | Keep = KEEP,
        due_at: Millis | Keep | None = KEEP,
        status: TaskStatus | Keep = KEEP,
        note: str | Keep = KEEP,
    ) -> Task:
        """Change task ``task_key`` of incident ``key`` (``respond.checklist.update_task``)."""

        def apply(incident: Incident, tasks: Tasks) -> _Write:
            task = next((t for t in tasks if t.key == task_key), None)
            if task is None:
                raise IncidentError(
                    Refusal.UNKNOWN_TASK, key, f"incident {key} has no task {task_key}"
                )
            change = update_task(
                incident,
                task,
                now=now,
                actor=actor,
                assignee=assignee,
                due_at=due_at,
                status=status,
                note=note,
            )
            return _Write(incident=incident, changed=change.task, entries=change.entries)

        changed = self._change(key, apply).changed
        assert changed is not None
        return changed

    # ---- internals -----------------------------------------------------------------------

    def _change(self, key: str, apply: Callable[[Incident, Tasks], _Write]) -> _Write:
        with self._db.engine.connect() as conn, conn.begin() as transaction:
            # Take the incident's write lock before reading it — the row's lock on
            # PostgreSQL, the database's on SQLite — so concurrent changes queue up rather
            # than each working from the same state.
            locked = conn.execute(
                update(incidents)
                .where(incidents.c.key == key)
                .values(revision=incidents.c.revision + 1)
            ).rowcount
            if locked != 1:
                raise UnknownIncidentError(key)
            row = conn.execute(select(incidents).where(incidents.c.key == key)).one()
            write = apply(_incident(row), _tasks(conn, key))  # a refusal rolls back
            if not write.entries:
                transaction.rollback()
                return write
            changed = _incident_row(write.incident, revision=int(row.revision))
            conn.execute(update(incidents).where(incidents.c.key == key).values(changed))
            if write.added is not None:
                position = conn.execute(
                    select(func.coalesce(func.max(incident_tasks.c.position) + 1, 0)).where(
                        incident_tasks.c.incident_key == key
                    )
                ).scalar_one()
                conn.execute(incident_tasks.insert(), _task_row(key, write.added, int(position)))
            if write.changed is not None:
                fixed = ("incident_key", "key", "position")
                values = {
                    k: v for k, v in _task_row(key, write.changed, 0).items() if k not in fixed
                }
                conn.execute(
                    update(incident_tasks)
                    .where(
                        incident_tasks.c.incident_key == key,
                        incident_tasks.c.key == write.changed.key,
                    )
                    .values(values)
                )
            self._insert_entries(conn, key, write.entries)
            return write

    def _insert_entries(self, conn: Connection, key: str, entries: Sequence[TimelineEntry]) -> int:
        if not entries:
            return 0
        statement = (
            upsert(self._db.dialect, incident_timeline)
            .on_conflict_do_nothing(index_elements=["incident_key", "key"])
            .returning(incident_timeline.c.key)
        )
        # RETURNING names the rows written (an INSERT's rowcount is not reliable on both).
        unique = {e.key: e for e in reversed(entries)}  # the first of a repeated key wins
        rows = [_entry_row(key, e) for e in reversed(unique.values())]
        return len(conn.execute(statement, rows).all())


def _tasks(conn: Connection, key: str) -> list[Task]:
    query = (
        select(incident_tasks)
        .where(incident_tasks.c.incident_key == key)
        .order_by(incident_tasks.c.position, incident_tasks.c.key)
    )
    return [_task(row) for row in conn.execute(query)]


def _incident_row(incident: Incident, *, revision: int) -> dict[str, object]:
    return {
        "key": incident.key,
        "title": incident.title,
        "status": incident.status.value,
        "severity": incident.severity.value,
        "scope_key": incident.scope.key,
        "scope_path": incident.scope.path,
        "source_kind": incident.source.kind.value,
        "source_ref": incident.source.ref,
        "source_run": incident.source.run,
        "plan": incident.plan,
        "plan_version": incident.plan_version,
        "opened_at": incident.opened_at,
        "opened_by": incident.opened_by,
        "updated_at": incident.updated_at,
        "closed_at": incident.closed_at,
        "closed_by": incident.closed_by,
        "revision": revision,
    }


def _incident(row: Row[Any]) -> Incident:
    return Incident(
        key=row.key,
        title=row.title,
        status=IncidentStatus(row.status),
        severity=Colour(row.severity),
        scope=ScopeRef(key=row.scope_key, path=row.scope_path),
        source=Source(kind=SourceKind(row.source_kind), ref=row.source_ref, run=row.source_run),
        plan=row.plan,
        plan_version=row.plan_version,
        opened_at=int(row.opened_at),
        opened_by=row.opened_by,
        updated_at=int(row.updated_at),
        closed_at=None if row.closed_at is None else int(row.closed_at),
        closed_by=row.closed_by,
    )


def _task_row(incident_key: str, task: Task, position: int) -> dict[str, object]:
    return {
        "incident_key": incident_key,
        "key": task.key,
        "position": position,
        "title": task.title,
        "assignee": task.assignee,
        "due_at": task.due_at,
        "status": task.status.value,
        "created_at": task.created_at,
        "created_by": task.created_by,
        "done_at": task.done_at,
        "done_by": task.done_by,
        "note": task.note,
    }


def _task(row: Row[Any]) -> Task:
    return Task(
        key=row.key,
        title=row.title,
        assignee=row.assignee,
        due_at=None if row.due_at is None else int(row.due_at),
        status=TaskStatus(row.status),
        created_at=int(row.created_at),
        created_by=row.created_by,
        done_at=None if row.done_at is None else int(row.done_at),
        done_by=row.done_by,
        note=row.note,
    )


def _entry_row(incident_key: str, entry: TimelineEntry) -> dict[str, object]:
    return {
        "incident_key": incident_key,
        "key": entry.key,
        "at": entry.at,
        "kind": entry.kind.value,
        "actor": entry.actor,
        "text": entry.text,
        "data": orjson.dumps(entry.data).decode(),
    }


def _entry(row: Row[Any]) -> TimelineEntry:
    return TimelineEntry(
        key=row.key,
        at=int(row.at),
        kind=EntryKind(row.kind),
        actor=row.actor,
        text=row.text,
        data=orjson.loads(row.data),
    )
