"""The JSON shapes of incidents and emergency plans (Pydantic at the edge; the domain values
stay dataclasses). Instants go out as ISO 8601 UTC and come in as ISO 8601 with a zone or
epoch milliseconds; a bad one answers 422 naming the field."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hazwatch.domain.clock import Millis, iso, parse_millis
from hazwatch.domain.keys import SEGMENT
from hazwatch.domain.warning import Colour
from hazwatch.respond.checklist import Summary
from hazwatch.respond.incident import (
    EntryKind,
    Incident,
    IncidentStatus,
    SourceKind,
    Task,
    TaskStatus,
    TimelineEntry,
)
from hazwatch.respond.plan import MAX_DUE_MIN, check_assignee
from hazwatch.storage.plan_repository import StoredPlan

Instant = int | str
"""Epoch milliseconds, or ISO 8601 with a zone."""


def _iso(ms: Millis | None) -> str | None:
    return None if ms is None else iso(ms)


def _millis(value: Instant | None) -> Millis | None:
    if value is None:
        return None
    found = parse_millis(value)
    if found is None:
        raise ValueError(f"{value!r} is not epoch milliseconds or ISO 8601 with a zone")
    return found


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SourceIn(_In):
    kind: SourceKind = SourceKind.MANUAL
    ref: str = Field(default="", max_length=200, description="the alarm or warning id")


class OpenIncidentIn(_In):
    """Open an incident by hand, optionally from an emergency plan (its checklist)."""

    scope_id: int = Field(description="the scope node it concerns")
    title: str | None = Field(default=None, max_length=500, description="default: the plan's")
    severity: Colour | None = Field(default=None, description="default: the plan's")
    plan: str | None = Field(default=None, pattern=rf"^{SEGMENT}$")
    plan_version: int | None = Field(default=None, ge=1, description="default: in force")
    source: SourceIn = Field(default_factory=SourceIn)
    note: str = Field(default="", max_length=5000)
    key: str | None = Field(
        default=None,
        pattern=rf"^{SEGMENT}$",
        description="an idempotency key: the same key again answers the stored incident",
    )

    @model_validator(mode="after")
    def _enough(self) -> Self:
        if self.plan is None and not (self.title and self.title.strip()):
            raise ValueError("title: give a title or a plan")
        if self.plan is None and self.severity is None:
            raise ValueError("severity: give a severity or a plan")
        if self.plan is None and self.plan_version is not None:
            raise ValueError("plan_version: given without a plan")
        return self


class StatusIn(_In):
    status: IncidentStatus
    note: str = Field(default="", max_length=5000)


class NoteIn(_In):
    text: str = Field(min_length=1, max_length=5000)


class TaskIn(_In):
    """A task added by hand; due at ``due_at`` or ``due_in_min`` from now (not both)."""

    title: str = Field(min_length=1, max_length=500)
    assignee: str = Field(description="user:<name> or position:<position>@<level>")
    due_at: Instant | None = None
    due_in_min: float | None = Field(default=None, ge=0, le=MAX_DUE_MIN)
    key: str | None = Field(default=None, pattern=rf"^{SEGMENT}$", description="default: task-<n>")

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, assignee: str) -> str:
        return check_assignee(assignee)

    @field_validator("due_at")
    @classmethod
    def _due(cls, value: Instant | None) -> Instant | None:
        _millis(value)
        return value

    @model_validator(mode="after")
    def _one_due(self) -> Self:
        if self.due_at is not None and self.due_in_min is not None:
            raise ValueError("due_in_min: give due_at or due_in_min, not both")
        return self

    def due(self, now: Millis) -> Millis | None:
        if self.due_in_min is not None:
            return now + round(self.due_in_min * 60_000)
        return _millis(self.due_at)


class TaskPatchIn(_In):
    """Change a task: only the fields given change (``due_at: null`` removes the deadline).
    ``done: true`` marks it done, ``done: false`` reopens it; ``status`` may also say
    ``skipped`` (with a ``note`` saying why)."""

    assignee: str | None = None
    due_at: Instant | None = None
    done: bool | None = None
    status: TaskStatus | None = None
    note: str | None = Field(default=None, max_length=2000)

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, assignee: str | None) -> str | None:
        return None if assignee is None else check_assignee(assignee)

    @field_validator("due_at")
    @classmethod
    def _due(cls, value: Instant | None) -> Instant | None:
        _millis(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.done is not None and self.status is not None:
            raise ValueError("status: give done or status, not both")
        if "assignee" in self.model_fields_set and self.assignee is None:
            raise ValueError("assignee: a task always has an assignee")
        return self

    def wanted_status(self) -> TaskStatus | None:
        if self.done is not None:
            return TaskStatus.DONE if self.done else TaskStatus.OPEN
        return self.status

    def due(self) -> Millis | None:
        return _millis(self.due_at)


class SourceOut(BaseModel):
    kind: SourceKind
    ref: str
    run: str = Field(description="the playbook run that opened it, '' when none")


class IncidentOut(BaseModel):
    key: str
    title: str
    status: IncidentStatus
    severity: Colour
    level: int = Field(ge=1, le=4, description="the severity's level: 1 red … 4 blue")
    scope: str = Field(description="region or park key, or the dotted key from the enterprise")
    scope_path: str
    source: SourceOut
    plan: str
    plan_version: int | None
    opened_at: str
    opened_by: str
    updated_at: str
    closed_at: str | None
    closed_by: str

    @classmethod
    def of(cls, i: Incident) -> IncidentOut:
        return cls(
            key=i.key,
            title=i.title,
            status=i.status,
            severity=i.severity,
            level=i.severity.level,
            scope=i.scope.key,
            scope_path=i.scope.path,
            source=SourceOut(kind=i.source.kind, ref=i.source.ref, run=i.source.run),
            plan=i.plan,
            plan_version=i.plan_version,
            opened_at=iso(i.opened_at),
            opened_by=i.opened_by,
            updated_at=iso(i.updated_at),
            closed_at=_iso(i.closed_at),
            closed_by=i.closed_by,
        )


class TaskOut(BaseModel):
    key: str
    title: str
    assignee: str
    due_at: str | None
    overdue: bool = Field(description="open and past its due time")
    status: TaskStatus
    created_at: str
    created_by: str
    done_at: str | None
    done_by: str
    note: str

    @classmethod
    def of(cls, t: Task, now: Millis) -> TaskOut:
        return cls(
            key=t.key,
            title=t.title,
            assignee=t.assignee,
            due_at=_iso(t.due_at),
            overdue=t.status is TaskStatus.OPEN and t.due_at is not None and t.due_at < now,
            status=t.status,
            created_at=iso(t.created_at),
            created_by=t.created_by,
            done_at=_iso(t.done_at),
            done_by=t.done_by,
            note=t.note,
        )


class EntryOut(BaseModel):
    key: str
    at: str
    kind: EntryKind
    actor: str = Field(description="'system' or the user")
    text: str
    data: dict[str, Any]

    @classmethod
    def of(cls, e: TimelineEntry) -> EntryOut:
        return cls(key=e.key, at=iso(e.at), kind=e.kind, actor=e.actor, text=e.text, data=e.data)


class SummaryOut(BaseModel):
    tasks: int
    open: int
    done: int
    skipped: int
    overdue: int
    late: int = Field(description="done after their due time")
    entries: dict[EntryKind, int]
    actors: list[str]
    duration_s: float

    @classmethod
    def of(cls, s: Summary) -> SummaryOut:
        return cls(
            tasks=s.tasks,
            open=s.open,
            done=s.done,
            skipped=s.skipped,
            overdue=s.overdue,
            late=s.late,
            entries=dict(s.entries),
            actors=list(s.actors),
            duration_s=s.duration_ms / 1000,
        )


class IncidentDetailOut(IncidentOut):
    tasks: list[TaskOut]
    timeline: list[EntryOut] = Field(description="oldest first")
    summary: SummaryOut


class PlanOut(BaseModel):
    name: str
    version: int
    title: str
    severity: Colour
    builtin: bool = Field(description="shipped with hazwatch (an upload of the name overrides)")
    created_at: str | None
    created_by: str
    document: dict[str, Any]

    @classmethod
    def of(cls, stored: StoredPlan) -> PlanOut:
        plan = stored.plan
        return cls(
            name=plan.name,
            version=plan.version,
            title=plan.title,
            severity=plan.severity,
            builtin=stored.builtin,
            created_at=_iso(stored.created_at),
            created_by=stored.created_by,
            document=plan.model_dump(mode="json"),
        )


class PlanDetailOut(PlanOut):
    versions: list[int]
