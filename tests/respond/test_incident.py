"""Incidents: opening from a plan, the status table, the checklist, the summary counts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.warning import Colour
from hazwatch.respond.checklist import add_task, summary, update_task
from hazwatch.respond.incident import (
    TRANSITIONS,
    EntryKind,
    Incident,
    IncidentError,
    IncidentStatus,
    IncidentTransitionError,
    Refusal,
    ScopeRef,
    Source,
    SourceKind,
    Task,
    TaskStatus,
    add_note,
    change_status,
    incident_key,
    open_from_plan,
    open_incident,
)
from hazwatch.respond.plan import Plan, parse_plan

T0 = 1_800_000_000_000
SCOPE = ScopeRef(key="acid.main.storage", path="/1/2/3/5/6/")
SOURCE = Source(kind=SourceKind.ALARM, ref="42.HH", run="r1")

S = IncidentStatus


def _plan() -> Plan:
    return parse_plan(
        {
            "name": "chlorine-release",
            "version": 3,
            "title": "chlorine release",
            "severity": "red",
            "tasks": [
                {
                    "key": "isolate",
                    "title": "isolate",
                    "assignee": "position:shift-operator@installation",
                    "due_min": 5,
                },
                {"key": "evacuate", "title": "evacuate", "assignee": "user:li", "due_min": 0.5},
            ],
        },
        source="test",
    )


def _opened() -> tuple[Incident, tuple[Task, ...]]:
    opening = open_from_plan(_plan(), key="k1", scope=SCOPE, source=SOURCE, now=T0, actor="system")
    return opening.incident, opening.tasks


def test_opening_from_a_plan_sets_each_due_time_from_the_opening() -> None:
    opening = open_from_plan(_plan(), key="k1", scope=SCOPE, source=SOURCE, now=T0, actor="system")
    incident = opening.incident
    assert (incident.status, incident.severity, incident.title) == (
        S.OPEN,
        Colour.RED,
        "chlorine release",
    )
    assert (incident.plan, incident.plan_version, incident.opened_by) == (
        "chlorine-release",
        3,
        "system",
    )
    # 5 min = 300 000 ms; 0.5 min = 30 000 ms
    assert [(t.key, t.due_at) for t in opening.tasks] == [
        ("isolate", T0 + 300_000),
        ("evacuate", T0 + 30_000),
    ]
    assert all(t.status is TaskStatus.OPEN for t in opening.tasks)
    (entry,) = opening.entries
    assert (entry.key, entry.kind, entry.actor) == ("opened", EntryKind.STATUS, "system")
    assert entry.data["tasks"] == ["isolate", "evacuate"]
    assert entry.data["source"] == {"kind": "alarm", "ref": "42.HH", "run": "r1"}


def test_a_manual_opening_without_a_plan_has_no_tasks_and_keeps_a_note() -> None:
    opening = open_incident(
        key="k2",
        title="  smell of gas near gate 3 ",
        severity=Colour.YELLOW,
        scope=SCOPE,
        source=Source(kind=SourceKind.MANUAL),
        now=T0,
        actor="op-a",
        note="patrol reported it",
    )
    assert opening.incident.title == "smell of gas near gate 3"
    assert opening.tasks == ()
    assert [e.kind for e in opening.entries] == [EntryKind.STATUS, EntryKind.NOTE]
    with pytest.raises(IncidentError, match="needs a title") as caught:
        open_incident(
            key="k3",
            title=" ",
            severity=Colour.BLUE,
            scope=SCOPE,
            source=SOURCE,
            now=T0,
            actor="op-a",
        )
    assert caught.value.code is Refusal.INVALID


def test_incident_keys_derive_from_their_parts() -> None:
    assert incident_key("run", "step") == incident_key("run", "step")
    assert incident_key("run", "step") != incident_key("run", "step2")
    # the separator keeps ("ab", "c") apart from ("a", "bc")
    assert incident_key("ab", "c") != incident_key("a", "bc")
    assert len(incident_key("x")) == 16


@pytest.mark.parametrize(
    ("start", "to", "allowed"),
    [
        (S.OPEN, S.RESPONDING, True),
        (S.OPEN, S.CONTAINED, True),
        (S.OPEN, S.CLOSED, True),
        (S.OPEN, S.OPEN, False),
        (S.RESPONDING, S.CONTAINED, True),
        (S.RESPONDING, S.OPEN, False),
        (S.CONTAINED, S.RESPONDING, True),
        (S.CONTAINED, S.CLOSED, True),
        (S.CLOSED, S.RESPONDING, False),
        (S.CLOSED, S.OPEN, False),
    ],
)
def test_the_status_table(start: IncidentStatus, to: IncidentStatus, allowed: bool) -> None:
    incident, _ = _opened()
    incident = replace(incident, status=start)
    assert (to in TRANSITIONS[start]) is allowed
    if allowed:
        change = change_status(incident, to, tasks=(), now=T0 + 1, actor="op-a", note="why")
        assert change.incident.status is to
        (entry,) = change.entries
        assert entry.data == {"from": start.value, "to": to.value, "note": "why"}
        assert entry.key == f"status:{to}@{T0 + 1}"
    else:
        with pytest.raises(IncidentTransitionError) as caught:
            change_status(incident, to, tasks=(), now=T0 + 1, actor="op-a")
        assert (caught.value.from_status, caught.value.to_status) == (start, to)
        assert f"from {start} to {to}" in str(caught.value)


def test_closing_needs_every_task_done_or_skipped() -> None:
    incident, tasks = _opened()
    with pytest.raises(IncidentError, match=r"open tasks \(isolate, evacuate\)") as caught:
        change_status(incident, S.CLOSED, tasks=tasks, now=T0 + 10, actor="op-a")
    assert caught.value.code is Refusal.TASKS_OPEN
    done = update_task(incident, tasks[0], now=T0 + 20, actor="op-a", status=TaskStatus.DONE)
    skipped = update_task(
        incident,
        tasks[1],
        now=T0 + 30,
        actor="op-a",
        status=TaskStatus.SKIPPED,
        note="nobody downwind",
    )
    closed = change_status(
        incident, S.CLOSED, tasks=(done.task, skipped.task), now=T0 + 40, actor="op-a"
    )
    assert (closed.incident.closed_at, closed.incident.closed_by) == (T0 + 40, "op-a")


def test_a_skip_needs_a_note_and_a_closed_incident_keeps_its_tasks() -> None:
    incident, tasks = _opened()
    with pytest.raises(IncidentError, match="needs a note"):
        update_task(incident, tasks[0], now=T0, actor="op-a", status=TaskStatus.SKIPPED)
    closed = change_status(incident, S.CLOSED, tasks=(), now=T0 + 1, actor="op-a").incident
    with pytest.raises(IncidentError, match="is closed") as caught:
        update_task(closed, tasks[0], now=T0 + 2, actor="op-a", status=TaskStatus.DONE)
    assert caught.value.code is Refusal.CLOSED
    with pytest.raises(IncidentError, match="is closed"):
        add_task(closed, tasks, title="x", assignee="user:li", due_at=None, now=T0, actor="a")
    # a review may still add notes to the record
    assert add_note(closed, "lessons learnt", now=T0 + 3, actor="op-a").kind is EntryKind.NOTE


def test_updating_a_task_records_one_entry_per_changed_field() -> None:
    incident, tasks = _opened()
    change = update_task(
        incident,
        tasks[0],
        now=T0 + 60_000,
        actor="op-a",
        assignee="user:wang",
        due_at=T0 + 10 * MINUTE_MS,
        status=TaskStatus.DONE,
    )
    assert change.task.assignee == "user:wang"
    assert (change.task.status, change.task.done_at, change.task.done_by) == (
        TaskStatus.DONE,
        T0 + 60_000,
        "op-a",
    )
    assert [e.key for e in change.entries] == [
        f"task:isolate:assignee@{T0 + 60_000}",
        f"task:isolate:due@{T0 + 60_000}",
        f"task:isolate:done@{T0 + 60_000}",
    ]
    unchanged = update_task(
        incident, change.task, now=T0 + 61_000, actor="op-a", assignee="user:wang"
    )
    assert unchanged.entries == () and unchanged.task == change.task
    reopened = update_task(
        incident, change.task, now=T0 + 62_000, actor="op-b", status=TaskStatus.OPEN
    )
    assert (reopened.task.done_at, reopened.task.done_by) == (None, "")
    with pytest.raises(IncidentError, match="assignee: 'nobody' is not"):
        update_task(incident, tasks[0], now=T0, actor="op-a", assignee="nobody")


def test_added_tasks_get_free_keys_and_refuse_duplicates() -> None:
    incident, tasks = _opened()
    first = add_task(
        incident,
        tasks,
        title="call the fire brigade",
        assignee="user:li",
        due_at=None,
        now=T0,
        actor="op-a",
    )
    assert first.task.key == "task-3"
    with_first = (*tasks, first.task)
    second = add_task(
        incident, with_first, title="b", assignee="user:li", due_at=T0, now=T0, actor="op-a"
    )
    assert second.task.key == "task-4"
    assert second.entries[0].key == "task:task-4:added"
    with pytest.raises(IncidentError, match="has a task isolate already") as caught:
        add_task(
            incident,
            tasks,
            title="c",
            assignee="user:li",
            due_at=None,
            now=T0,
            actor="a",
            key="isolate",
        )
    assert caught.value.code is Refusal.TASK_EXISTS
    with pytest.raises(IncidentError, match="task key 'Bad Key'"):
        add_task(
            incident,
            tasks,
            title="c",
            assignee="user:li",
            due_at=None,
            now=T0,
            actor="a",
            key="Bad Key",
        )


def test_the_summary_counts_tasks_and_entries() -> None:
    incident, tasks = _opened()
    isolate, evacuate = tasks
    late = update_task(incident, evacuate, now=T0 + 60_000, actor="op-a", status=TaskStatus.DONE)
    note = add_note(incident, "scrubber running", now=T0 + 70_000, actor="op-b")
    entries = [
        *open_from_plan(
            _plan(), key="k1", scope=SCOPE, source=SOURCE, now=T0, actor="system"
        ).entries,
        *late.entries,
        note,
    ]
    # at T0 + 6 min: isolate (due T0 + 5 min) is open and overdue; evacuate (due at
    # T0 + 30 s) was done at T0 + 60 s, late
    counted = summary(incident, (isolate, late.task), entries, now=T0 + 6 * MINUTE_MS)
    assert (counted.tasks, counted.open, counted.done, counted.skipped) == (2, 1, 1, 0)
    assert (counted.overdue, counted.late) == (1, 1)
    assert dict(counted.entries) == {EntryKind.STATUS: 1, EntryKind.TASK: 1, EntryKind.NOTE: 1}
    assert counted.actors == ("op-a", "op-b", "system")
    assert counted.duration_ms == 6 * MINUTE_MS
