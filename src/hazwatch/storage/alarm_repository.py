"""Alarms (the current ISA-18.2 state of each condition) and their journal of transitions.

Saving is idempotent under replay, as at-least-once delivery requires: a journal row is
identified by ``(tag_id, condition, seq)`` and a replayed one is ignored; an alarm row is
overwritten only by a state of equal or newer ``seq``, so a late replay never rolls an alarm
back. Scoped reads join the alarm's tag and filter on its scope path inside SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, case, select

from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.storage.database import Database
from hazwatch.storage.schema import alarm_journal, alarms, tags
from hazwatch.storage.upsert import upsert
from hazwatch.storage.visibility import visible

Alarms = list[Alarm]
Transitions = list[AlarmTransition]

_SEVERITY = case(
    {
        Priority.CRITICAL.value: 0,
        Priority.HIGH.value: 1,
        Priority.MEDIUM.value: 2,
        Priority.LOW.value: 3,
    },
    value=alarms.c.priority,
    else_=4,
)


class AlarmRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, alarms_: Sequence[Alarm], transitions: Sequence[AlarmTransition]) -> None:
        """Upsert ``alarms_`` and journal ``transitions``, in one transaction.

        A transition whose ``(tag_id, condition, seq)`` is journaled already is skipped; an
        alarm whose stored ``seq`` is newer than the given one is left as it is.
        """
        latest: dict[tuple[int, ConditionKind], Alarm] = {}
        for alarm in alarms_:
            key = (alarm.tag_id, alarm.condition)
            if key not in latest or latest[key].seq <= alarm.seq:
                latest[key] = alarm
        backend = self._db.dialect
        with self._db.engine.begin() as conn:
            if transitions:
                journal = upsert(backend, alarm_journal).on_conflict_do_nothing(
                    index_elements=["tag_id", "condition", "seq"]
                )
                conn.execute(journal, [_transition_row(t) for t in transitions])
            if latest:
                insert = upsert(backend, alarms)
                changed = {
                    c.name: insert.excluded[c.name]
                    for c in alarms.columns
                    if c.name not in ("tag_id", "condition")
                }
                statement = insert.on_conflict_do_update(
                    index_elements=["tag_id", "condition"],
                    set_=changed,
                    where=alarms.c.seq <= insert.excluded.seq,
                )
                conn.execute(statement, [_alarm_row(a) for a in latest.values()])

    def load_all(self) -> Alarms:
        """Every stored alarm, unscoped (for the engine at start-up)."""
        query = select(alarms).order_by(alarms.c.tag_id, alarms.c.condition)
        with self._db.engine.connect() as conn:
            return [_alarm(row) for row in conn.execute(query)]

    def list(
        self,
        grant: Grant,
        *,
        states: Collection[AlarmState] | None = None,
        active: bool | None = None,
        priorities: Collection[Priority] | None = None,
        tag_id: int | None = None,
        condition: ConditionKind | None = None,
        limit: int = 500,
    ) -> Alarms:
        """The alarms ``grant`` may see, most severe priority first, then newest change first.

        Each filter left ``None`` does not filter.
        """
        where: list[ColumnElement[bool]] = [visible(tags.c.scope_path, grant)]
        if states is not None:
            where.append(alarms.c.state.in_([s.value for s in states]))
        if active is not None:
            where.append(alarms.c.active.is_(active))
        if priorities is not None:
            where.append(alarms.c.priority.in_([p.value for p in priorities]))
        if tag_id is not None:
            where.append(alarms.c.tag_id == tag_id)
        if condition is not None:
            where.append(alarms.c.condition == condition.value)
        query = (
            select(alarms)
            .join(tags, tags.c.id == alarms.c.tag_id)
            .where(*where)
            .order_by(_SEVERITY, alarms.c.updated_at.desc(), alarms.c.tag_id, alarms.c.condition)
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [_alarm(row) for row in conn.execute(query)]

    def journal(
        self,
        grant: Grant,
        *,
        tag_id: int | None = None,
        condition: ConditionKind | None = None,
        since: Millis | None = None,
        limit: int = 500,
    ) -> Transitions:
        """Journaled transitions ``grant`` may see, newest first (``since``: ``at >= since``)."""
        where: list[ColumnElement[bool]] = [visible(tags.c.scope_path, grant)]
        if tag_id is not None:
            where.append(alarm_journal.c.tag_id == tag_id)
        if condition is not None:
            where.append(alarm_journal.c.condition == condition.value)
        if since is not None:
            where.append(alarm_journal.c.at >= since)
        query = (
            select(alarm_journal)
            .join(tags, tags.c.id == alarm_journal.c.tag_id)
            .where(*where)
            .order_by(alarm_journal.c.at.desc(), alarm_journal.c.id.desc())
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [_transition(row) for row in conn.execute(query)]


def _alarm_row(alarm: Alarm) -> dict[str, object]:
    return {
        "tag_id": alarm.tag_id,
        "condition": alarm.condition.value,
        "state": alarm.state.value,
        "active": alarm.active,
        "priority": alarm.priority.value,
        "seq": alarm.seq,
        "updated_at": alarm.updated_at,
        "activated_at": alarm.activated_at,
        "acknowledged_at": alarm.acknowledged_at,
        "shelved_until": alarm.shelved_until,
        "value": alarm.value,
        "message": alarm.message,
    }


def _alarm(row: Row[Any]) -> Alarm:
    return Alarm(
        tag_id=row.tag_id,
        condition=ConditionKind(row.condition),
        state=AlarmState(row.state),
        active=bool(row.active),
        priority=Priority(row.priority),
        seq=row.seq,
        updated_at=row.updated_at,
        activated_at=row.activated_at,
        acknowledged_at=row.acknowledged_at,
        shelved_until=row.shelved_until,
        value=row.value,
        message=row.message,
    )


def _transition_row(transition: AlarmTransition) -> dict[str, object]:
    return {
        "tag_id": transition.tag_id,
        "condition": transition.condition.value,
        "seq": transition.seq,
        "at": transition.at,
        "from_state": transition.from_state.value,
        "to_state": transition.to_state.value,
        "input": transition.input.value,
        "actor": transition.actor,
        "cause": transition.cause,
        "comment": transition.comment,
        "value": transition.value,
    }


def _transition(row: Row[Any]) -> AlarmTransition:
    return AlarmTransition(
        tag_id=row.tag_id,
        condition=ConditionKind(row.condition),
        seq=row.seq,
        at=row.at,
        from_state=AlarmState(row.from_state),
        to_state=AlarmState(row.to_state),
        input=AlarmInput(row.input),
        actor=row.actor,
        cause=row.cause,
        comment=row.comment,
        value=row.value,
    )
