"""Writing an alarm's journal directly, for tests of what is computed from it."""

from __future__ import annotations

from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import ConditionKind, Priority, Tag
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.database import Database

Step = tuple[Millis, AlarmInput, AlarmState]
"""(at, input, state it moved to)"""


def journal(
    db: Database, tag: Tag, condition: ConditionKind, priority: Priority, steps: list[Step]
) -> None:
    """Journal ``steps`` as transitions 1, 2, … of one alarm (from normal), and save the
    alarm as the last step left it."""
    transitions, before = [], AlarmState.NORMAL
    for seq, (at, given, to) in enumerate(steps, start=1):
        transitions.append(
            AlarmTransition(
                tag_id=tag.id,
                condition=condition,
                seq=seq,
                at=at,
                from_state=before,
                to_state=to,
                input=given,
                actor="system",
                cause="test",
            )
        )
        before = to
    last = steps[-1]
    alarm = Alarm(
        tag_id=tag.id,
        condition=condition,
        state=last[2],
        active=last[2] in (AlarmState.UNACKED, AlarmState.ACKED),
        priority=priority,
        seq=len(steps),
        updated_at=last[0],
    )
    AlarmRepository(db).save([alarm], transitions)
