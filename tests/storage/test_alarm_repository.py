"""Alarms and their journal: upsert, replays that change nothing, filters and order."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import ConditionKind, Priority, Tag
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.database import Database
from hazwatch.storage.schema import alarm_journal

LEVEL = "acid.main.storage.t101.level"
CL2 = "acid.main.storage.g1.cl2"
CO = "steel.mill.furnace.bf1.co"


def _alarm(
    tag: Tag,
    condition: ConditionKind,
    seq: int,
    state: AlarmState,
    priority: Priority = Priority.MEDIUM,
) -> Alarm:
    return Alarm(
        tag_id=tag.id,
        condition=condition,
        state=state,
        active=state is not AlarmState.NORMAL,
        priority=priority,
        seq=seq,
        updated_at=1_000 * seq,
    )


def _step(
    tag: Tag, condition: ConditionKind, seq: int, to: AlarmState, how: AlarmInput, *, at: int
) -> AlarmTransition:
    return AlarmTransition(
        tag_id=tag.id,
        condition=condition,
        seq=seq,
        at=at,
        from_state=AlarmState.NORMAL if seq == 1 else AlarmState.UNACKED,
        to_state=to,
        input=how,
        actor="system" if how is AlarmInput.ACTIVATE else "li.wei",
        cause=f"{condition} limit crossed" if how is AlarmInput.ACTIVATE else "operator",
        comment="" if how is AlarmInput.ACTIVATE else "seen, valve closing",
        value=11.2 if how is AlarmInput.ACTIVATE else None,
    )


def _journal_rows(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(alarm_journal)).scalar_one())


def test_saved_alarms_load_back_equal(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = AlarmRepository(db)
    level = stored_tags[LEVEL]
    alarms = [
        replace(
            _alarm(level, ConditionKind.HH, 1, AlarmState.UNACKED), activated_at=900, value=11.2
        ),
        replace(
            _alarm(level, ConditionKind.H, 3, AlarmState.SHELVED, Priority.LOW),
            activated_at=100,
            acknowledged_at=200,
            shelved_until=9_000,
            message="shelved for maintenance",
        ),
    ]
    repo.save(alarms, [])
    assert sorted(repo.load_all(), key=lambda a: a.condition) == sorted(
        alarms, key=lambda a: a.condition
    )


def test_a_replayed_save_changes_nothing(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = AlarmRepository(db)
    level = stored_tags[LEVEL]
    raised = _alarm(level, ConditionKind.HH, 1, AlarmState.UNACKED)
    acked = replace(_alarm(level, ConditionKind.HH, 2, AlarmState.ACKED), acknowledged_at=2_500)
    steps = [
        _step(level, ConditionKind.HH, 1, AlarmState.UNACKED, AlarmInput.ACTIVATE, at=1_000),
        _step(level, ConditionKind.HH, 2, AlarmState.ACKED, AlarmInput.ACKNOWLEDGE, at=2_500),
    ]
    repo.save([raised], steps[:1])
    repo.save([acked], steps[1:])
    journal = repo.journal(Grant.everything())
    assert journal == steps[::-1]

    repo.save([raised], steps[:1])
    repo.save([raised, acked], steps)

    assert repo.load_all() == [acked]
    assert repo.journal(Grant.everything()) == journal
    assert _journal_rows(db) == 2


def test_a_failed_save_writes_nothing(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = AlarmRepository(db)
    level = stored_tags[LEVEL]
    ghost = Tag(
        id=10_000,
        key="ghost",
        name="",
        scope_id=level.scope_id,
        scope_path=level.scope_path,
        unit="",
        range_lo=0,
        range_hi=1,
        period_s=1,
    )
    with pytest.raises(IntegrityError):
        repo.save(
            [_alarm(level, ConditionKind.HH, 1, AlarmState.UNACKED)],
            [_step(ghost, ConditionKind.HH, 1, AlarmState.UNACKED, AlarmInput.ACTIVATE, at=1)],
        )
    assert repo.load_all() == []
    assert _journal_rows(db) == 0


def test_list_filters_and_orders_by_severity_then_recency(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = AlarmRepository(db)
    level, cl2, co = stored_tags[LEVEL], stored_tags[CL2], stored_tags[CO]
    hh = _alarm(level, ConditionKind.HH, 1, AlarmState.UNACKED, Priority.HIGH)
    h = _alarm(level, ConditionKind.H, 5, AlarmState.ACKED, Priority.MEDIUM)
    gas = _alarm(cl2, ConditionKind.HH, 2, AlarmState.UNACKED, Priority.CRITICAL)
    quiet = _alarm(co, ConditionKind.H, 9, AlarmState.NORMAL, Priority.LOW)
    late = _alarm(co, ConditionKind.OFFLINE, 7, AlarmState.RTN_UNACKED, Priority.HIGH)
    repo.save([hh, h, gas, quiet, late], [])
    everything = Grant.everything()

    assert repo.list(everything) == [gas, late, hh, h, quiet]
    assert repo.list(everything, limit=2) == [gas, late]
    assert repo.list(everything, states=[AlarmState.UNACKED]) == [gas, hh]
    assert repo.list(everything, active=False) == [quiet]
    assert repo.list(everything, priorities=[Priority.HIGH, Priority.LOW]) == [late, hh, quiet]
    assert repo.list(everything, tag_id=level.id) == [hh, h]
    assert repo.list(everything, tag_id=level.id, condition=ConditionKind.H) == [h]
    assert repo.list(everything, states=[]) == []


def test_journal_is_newest_first_and_filtered(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = AlarmRepository(db)
    level, cl2 = stored_tags[LEVEL], stored_tags[CL2]
    a1 = _step(level, ConditionKind.HH, 1, AlarmState.UNACKED, AlarmInput.ACTIVATE, at=1_000)
    b1 = _step(cl2, ConditionKind.H, 1, AlarmState.UNACKED, AlarmInput.ACTIVATE, at=1_500)
    a2 = _step(level, ConditionKind.HH, 2, AlarmState.ACKED, AlarmInput.ACKNOWLEDGE, at=2_000)
    a3 = _step(level, ConditionKind.H, 1, AlarmState.UNACKED, AlarmInput.ACTIVATE, at=2_000)
    repo.save([], [a1, b1, a2, a3])
    everything = Grant.everything()

    journal = repo.journal(everything)
    assert [t.at for t in journal] == sorted((t.at for t in journal), reverse=True)
    assert set(journal) == {a1, b1, a2, a3}
    assert repo.journal(everything, tag_id=level.id, condition=ConditionKind.HH) == [a2, a1]
    assert set(repo.journal(everything, since=1_500)) == {b1, a2, a3}
    assert len(repo.journal(everything, limit=1)) == 1
