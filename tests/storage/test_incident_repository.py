"""Incidents on both backends: idempotent opening and recording, scoped reads, guarded
changes, and the migration that adds them."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import inspect

from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import Tag
from hazwatch.domain.warning import Colour
from hazwatch.respond.incident import (
    EntryKind,
    IncidentError,
    IncidentStatus,
    Opening,
    Refusal,
    ScopeRef,
    Source,
    SourceKind,
    TaskStatus,
    TimelineEntry,
    open_from_plan,
    open_incident,
)
from hazwatch.respond.plan import Plan, parse_plan
from hazwatch.storage.database import Database
from hazwatch.storage.incident_repository import IncidentRepository, UnknownIncidentError
from hazwatch.storage.plant_repository import PlantRepository

T0 = 1_800_000_000_000
TABLES = {"incidents", "incident_tasks", "incident_timeline", "emergency_plans"}

PLAN = {
    "name": "chlorine-release",
    "version": 1,
    "title": "chlorine release",
    "severity": "red",
    "tasks": [
        {"key": "isolate", "title": "isolate", "assignee": "user:li", "due_min": 5},
        {"key": "evacuate", "title": "evacuate", "assignee": "user:li", "due_min": 10},
    ],
}


def _plan(**changes: Any) -> Plan:
    return parse_plan(PLAN | changes, source="test")


@pytest.fixture
def repo(db: Database, stored_tags: dict[str, Tag]) -> IncidentRepository:
    return IncidentRepository(db)


def _scope(db: Database, *keys: str) -> ScopeRef:
    node = PlantRepository(db).node_by_keys(["jiangsu", *keys])
    assert node is not None
    found = IncidentRepository(db).scope_of(node.id)
    assert found is not None
    return found


def _opening(
    db: Database, key: str, *where: str, now: int = T0, plan: Plan | None = None
) -> Opening:
    return open_from_plan(
        plan or _plan(),
        key=key,
        scope=_scope(db, *where),
        source=Source(kind=SourceKind.ALARM, ref="7.HH", run=f"run-{key}"),
        now=now,
        actor="system",
    )


def test_scope_keys_read_as_people_write_them(db: Database, repo: IncidentRepository) -> None:
    installation = _scope(db, "east", "acid", "main", "storage")
    assert installation.key == "acid.main.storage"
    assert _scope(db, "east", "acid").key == "acid"
    assert _scope(db, "east").key == "east"
    assert IncidentRepository(db).scope_of(10_000) is None
    node = PlantRepository(db).node_by_keys(["jiangsu", "east", "acid", "main", "storage"])
    assert node is not None and installation.path == node.path


def test_opening_is_idempotent_by_key(db: Database, repo: IncidentRepository) -> None:
    first = _opening(db, "k1", "east", "acid", "main", "storage")
    assert repo.open(first) is True
    # the same key again, even from another plan, writes nothing
    other = _opening(db, "k1", "east", "salt", plan=_plan(name="other", tasks=PLAN["tasks"][:1]))
    assert repo.open(other) is False
    stored = repo.find("k1")
    assert stored == first.incident
    assert [t.key for t in repo.tasks("k1")] == ["isolate", "evacuate"]
    assert repo.tasks("k1") == list(first.tasks)
    assert [e.key for e in repo.timeline("k1")] == ["opened"]
    assert repo.timeline("k1")[0].data["tasks"] == ["isolate", "evacuate"]
    assert repo.for_run("run-k1") == [first.incident]


def test_recording_is_idempotent_by_entry_key(db: Database, repo: IncidentRepository) -> None:
    repo.open(_opening(db, "k1", "east", "acid"))
    told = TimelineEntry(
        key="order-1:zhang",
        at=T0 + 2_000,
        kind=EntryKind.MESSAGE,
        actor="system",
        text="told zhang (inapp)",
        data={"user": "zhang", "channels": ["inapp"], "rank": 1},
    )
    acknowledged = TimelineEntry(
        key="ack", at=T0 + 1_000, kind=EntryKind.EVENT, actor="op-a", text="acknowledged"
    )
    assert repo.record("k1", [told, acknowledged]) == 2
    assert repo.record("k1", [told, acknowledged]) == 0, "a restart records them again"
    timeline = repo.timeline("k1")
    assert [e.key for e in timeline] == ["opened", "ack", "order-1:zhang"], "ordered by time"
    assert timeline[2] == told
    again = TimelineEntry(key="twice", at=T0, kind=EntryKind.NOTE, actor="a", text="first")
    later = TimelineEntry(key="twice", at=T0, kind=EntryKind.NOTE, actor="a", text="second")
    assert repo.record("k1", [again, later]) == 1, "a key repeated in one call is stored once"
    assert [e.text for e in repo.timeline("k1") if e.key == "twice"] == ["first"]
    with pytest.raises(UnknownIncidentError, match="no incident nothing"):
        repo.record("nothing", [told])


def test_reads_are_scoped(
    db: Database, repo: IncidentRepository, grant_on: Callable[..., Grant]
) -> None:
    repo.open(_opening(db, "acid-1", "east", "acid", "main", "storage", now=T0))
    repo.open(_opening(db, "salt-1", "east", "salt", now=T0 + 1))
    repo.open(_opening(db, "steel-1", "west", "steel", now=T0 + 2))
    everything = Grant.everything()
    assert [i.key for i in repo.list(everything)] == ["steel-1", "salt-1", "acid-1"]
    assert [i.key for i in repo.list(grant_on("east", "salt"))] == ["salt-1"]
    assert [i.key for i in repo.list(grant_on("east"))] == ["salt-1", "acid-1"]
    assert repo.get(grant_on("east", "salt"), "acid-1") is None
    assert repo.get(grant_on("east", "acid"), "acid-1") is not None
    east = PlantRepository(db).node_by_keys(["jiangsu", "east"])
    assert east is not None
    assert [i.key for i in repo.list(everything, scope_id=east.id)] == ["salt-1", "acid-1"]
    assert [i.key for i in repo.list(everything, since=T0 + 1)] == ["steel-1", "salt-1"]
    repo.change_status("salt-1", IncidentStatus.RESPONDING, now=T0 + 5, actor="op")
    responding = repo.list(everything, statuses=[IncidentStatus.RESPONDING])
    assert [i.key for i in responding] == ["salt-1"]
    assert repo.list(Grant(())) == []


def test_changes_follow_the_rules_and_record_who(db: Database, repo: IncidentRepository) -> None:
    repo.open(_opening(db, "k1", "east", "acid"))
    with pytest.raises(IncidentError) as caught:
        repo.change_status("k1", IncidentStatus.CLOSED, now=T0 + 1, actor="op-a")
    assert caught.value.code is Refusal.TASKS_OPEN
    repo.change_status("k1", IncidentStatus.RESPONDING, now=T0 + 2, actor="op-a", note="on it")
    done = repo.update_task("k1", "isolate", now=T0 + 3, actor="op-a", status=TaskStatus.DONE)
    assert (done.status, done.done_at, done.done_by) == (TaskStatus.DONE, T0 + 3, "op-a")
    added = repo.add_task(
        "k1", title="call 119", assignee="user:wang", due_at=T0 + 60_000, now=T0 + 4, actor="op-b"
    )
    assert added.key == "task-3"
    repo.update_task(
        "k1", "evacuate", now=T0 + 5, actor="op-b", status=TaskStatus.SKIPPED, note="nobody there"
    )
    repo.update_task("k1", "task-3", now=T0 + 6, actor="op-b", status=TaskStatus.DONE)
    with pytest.raises(IncidentError, match="has no task nothing"):
        repo.update_task("k1", "nothing", now=T0 + 7, actor="op-b", status=TaskStatus.DONE)
    note = repo.add_note("k1", "scrubber running", now=T0 + 8, actor="op-a")
    closed = repo.change_status("k1", IncidentStatus.CLOSED, now=T0 + 9, actor="op-a")
    assert (closed.status, closed.closed_at, closed.closed_by) == (
        IncidentStatus.CLOSED,
        T0 + 9,
        "op-a",
    )
    assert repo.find("k1") == closed
    tasks = repo.tasks("k1")
    assert [(t.key, t.status) for t in tasks] == [
        ("isolate", TaskStatus.DONE),
        ("evacuate", TaskStatus.SKIPPED),
        ("task-3", TaskStatus.DONE),
    ]
    assert tasks[1].note == "nobody there"
    timeline = repo.timeline("k1")
    assert [(e.kind, e.actor) for e in timeline] == [
        (EntryKind.STATUS, "system"),
        (EntryKind.STATUS, "op-a"),
        (EntryKind.TASK, "op-a"),
        (EntryKind.TASK, "op-b"),
        (EntryKind.TASK, "op-b"),  # the skip's note
        (EntryKind.TASK, "op-b"),  # the skip
        (EntryKind.TASK, "op-b"),
        (EntryKind.NOTE, "op-a"),
        (EntryKind.STATUS, "op-a"),
    ]
    assert note in timeline
    with pytest.raises(UnknownIncidentError):
        repo.change_status("nothing", IncidentStatus.CLOSED, now=T0, actor="op-a")


def test_concurrent_changes_of_one_incident_all_apply(
    db: Database, repo: IncidentRepository
) -> None:
    """Two writers add tasks at once: each addition is worked out from the state the other
    left, so every one gets its own key (without the lock taken before reading, two would
    claim the same ``task-<n>``)."""
    opening = open_incident(
        key="k1",
        title="busy",
        severity=Colour.YELLOW,
        scope=_scope(db, "east"),
        source=Source(kind=SourceKind.MANUAL),
        now=T0,
        actor="op",
    )
    repo.open(opening)

    def add(writer: int) -> list[str]:
        return [
            repo.add_task(
                "k1", title=f"{writer}-{i}", assignee="user:li", due_at=None, now=T0, actor="op"
            ).key
            for i in range(6)
        ]

    with ThreadPoolExecutor(max_workers=2) as pool:
        keys = [k for found in pool.map(add, [1, 2]) for k in found]
    assert sorted(keys) == sorted(f"task-{n}" for n in range(1, 13))
    assert len(repo.tasks("k1")) == 12
    assert sum(1 for e in repo.timeline("k1") if e.kind is EntryKind.TASK) == 12


def test_the_migration_adds_and_removes_the_tables(db: Database) -> None:
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
    db.downgrade("0011_channels")
    with db.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    assert not TABLES & names
    assert "channels" in names, "only this revision's tables go"
    db.upgrade()
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= TABLES
