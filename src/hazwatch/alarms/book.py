"""The current alarms, in memory, and every change to them as a journaled transition.

``AlarmBook`` applies condition events (from detect), operator commands and the passing of
time to the alarms, following ``hazwatch.alarms.lifecycle.TRANSITIONS``. Each change
returns an ``AlarmChange``: the new ``Alarm`` and the ``AlarmTransition`` that explains it
(``seq`` rises by one per transition of an alarm). Contract:

* An alarm never seen before starts in NORMAL, inactive, ``seq`` 0; it is kept once it has
  had a transition.
* A process event is applied only if it changes the alarm's ``active`` flag; a repeated
  event changes nothing. Every applied event is journaled, also when the state is kept
  (shelved, suppressed, out of service: ``from_state == to_state``), so that the journal
  explains every value of ``active``. Process transitions are stamped with the event's time
  and the actor ``SYSTEM_ACTOR``; their cause (``value 92.1 ≥ HH 90``) also becomes the
  alarm's ``message``.
* Commands are stamped ``now`` with the caller's actor and comment; a refused command raises
  ``AlarmCommandError`` and changes nothing.
* Shelving is timed: ``shelve_until`` must lie after ``now`` and at most ``max_shelve_ms``
  later. The shelf expires at ``shelved_until`` (input ``SHELF_EXPIRED``, actor
  ``SYSTEM_ACTOR``, cause "shelf expired"), stamped with that instant: by ``tick``, or by
  ``apply`` before an event of that alarm at or after the instant, so that the outcome does
  not depend on tick frequency. A command does not expire a shelf: until the next tick an
  overdue shelf can still be unshelved.
* Fields: ``activated_at`` is when the process condition last became active;
  ``acknowledged_at`` when the alarm was last acknowledged, reset to ``None`` whenever the
  alarm (re-)enters UNACKED; ``shelved_until`` is set only while SHELVED; ``value`` is the
  value of the last process event; ``priority`` is looked up again at every change;
  ``updated_at`` is the ``now`` of the last change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType

from hazwatch.alarms.cause import describe
from hazwatch.alarms.errors import AlarmCommandCode, AlarmCommandError
from hazwatch.alarms.lifecycle import COMMANDS, next_state
from hazwatch.domain.alarm import (
    SYSTEM_ACTOR,
    Alarm,
    AlarmInput,
    AlarmState,
    AlarmTransition,
    ConditionEvent,
)
from hazwatch.domain.clock import DAY_MS, Millis, iso
from hazwatch.domain.tag import ConditionKind, Priority

DEFAULT_MAX_SHELVE_MS: Millis = DAY_MS

Key = tuple[int, ConditionKind]

_KIND_ORDER = {kind: i for i, kind in enumerate(ConditionKind)}

_COMMAND_CAUSES: Mapping[AlarmInput, str] = MappingProxyType(
    {
        AlarmInput.ACKNOWLEDGE: "acknowledged",
        AlarmInput.UNSHELVE: "unshelved",
        AlarmInput.SUPPRESS: "suppressed by design",
        AlarmInput.UNSUPPRESS: "suppression lifted",
        AlarmInput.REMOVE_FROM_SERVICE: "removed from service",
        AlarmInput.RETURN_TO_SERVICE: "returned to service",
    }
)

SHELF_EXPIRED_CAUSE = "shelf expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmChange:
    """One change of one alarm: its new value and the journaled transition."""

    alarm: Alarm
    transition: AlarmTransition


class AlarmBook:
    """The alarms keyed by ``(tag_id, condition)``; see the module docstring."""

    def __init__(
        self,
        alarms: Iterable[Alarm],
        priority: Callable[[int, ConditionKind], Priority],
        *,
        max_shelve_ms: Millis = DEFAULT_MAX_SHELVE_MS,
        describe: Callable[[ConditionEvent], str] = describe,
    ) -> None:
        """``alarms``: the persisted alarms to start from; ``priority``: the priority of a
        condition (e.g. ``TagTable.priority``); ``describe``: the cause text of an event
        (e.g. ``lambda e: cause.describe(e, table)`` to name limits)."""
        if max_shelve_ms <= 0:
            raise ValueError("max_shelve_ms must be positive")
        self._alarms: dict[Key, Alarm] = {}
        self._shelved: set[Key] = set()
        self._priority = priority
        self._max_shelve_ms = max_shelve_ms
        self._describe = describe
        for alarm in alarms:
            self._keep(alarm)

    @property
    def max_shelve_ms(self) -> Millis:
        return self._max_shelve_ms

    def get(self, tag_id: int, condition: ConditionKind) -> Alarm | None:
        """The alarm of a condition, or ``None`` if it never had a transition."""
        return self._alarms.get((tag_id, condition))

    def all(self) -> list[Alarm]:
        """Every alarm, ordered by tag id and condition."""
        return sorted(self._alarms.values(), key=lambda a: (a.tag_id, _KIND_ORDER[a.condition]))

    def apply(self, events: Sequence[ConditionEvent], now: Millis) -> list[AlarmChange]:
        """Apply condition events (in their order); the changes they caused."""
        changes: list[AlarmChange] = []
        for event in events:
            key = (event.tag_id, event.condition)
            alarm = self._alarms.get(key)
            if alarm is None:
                if not event.active:
                    continue
                alarm = self._fresh(key, now)
            if _shelf_due(alarm, event.at):
                expired = self._expire(alarm, now)
                changes.append(expired)
                alarm = expired.alarm
            if alarm.active == event.active:
                continue
            cause = self._describe(event)
            changes.append(
                self._move(
                    alarm,
                    AlarmInput.ACTIVATE if event.active else AlarmInput.CLEAR,
                    active=event.active,
                    at=event.at,
                    now=now,
                    actor=SYSTEM_ACTOR,
                    cause=cause,
                    value=event.value,
                    message=cause,
                )
            )
        return changes

    def command(
        self,
        tag_id: int,
        condition: ConditionKind,
        input: AlarmInput,
        *,
        actor: str,
        comment: str = "",
        now: Millis,
        shelve_until: Millis | None = None,
    ) -> AlarmChange:
        """Apply an operator's (or suppression logic's) command; raises ``AlarmCommandError``.

        ``shelve_until`` (epoch ms) is required with ``SHELVE`` and refused otherwise.
        """
        key = (tag_id, condition)
        alarm = self._alarms.get(key) or self._fresh(key, now)

        def refuse(code: AlarmCommandCode, detail: str = "") -> AlarmCommandError:
            return AlarmCommandError(
                tag_id=tag_id,
                condition=condition,
                state=alarm.state,
                input=input,
                code=code,
                detail=detail,
            )

        if input not in COMMANDS:
            raise refuse(AlarmCommandCode.NOT_A_COMMAND)
        if not actor:
            raise refuse(AlarmCommandCode.ACTOR_MISSING)
        if next_state(alarm.state, input, alarm.active) is None:
            raise refuse(AlarmCommandCode.NOT_ALLOWED)
        if input is AlarmInput.SHELVE:
            if shelve_until is None:
                raise refuse(AlarmCommandCode.SHELVE_UNTIL_MISSING)
            if shelve_until <= now:
                raise refuse(AlarmCommandCode.SHELVE_UNTIL_PAST, iso(shelve_until))
            if shelve_until - now > self._max_shelve_ms:
                limit = f"at most {self._max_shelve_ms // 1000} s"
                raise refuse(AlarmCommandCode.SHELVE_TOO_LONG, limit)
            cause = f"shelved until {iso(shelve_until)}"
        elif shelve_until is not None:
            raise refuse(AlarmCommandCode.SHELVE_UNTIL_UNEXPECTED)
        else:
            cause = _COMMAND_CAUSES[input]
        return self._move(
            alarm,
            input,
            active=alarm.active,
            at=now,
            now=now,
            actor=actor,
            cause=cause,
            comment=comment,
            value=alarm.value,
            message=alarm.message,
            shelve_until=shelve_until,
        )

    def tick(self, now: Millis) -> list[AlarmChange]:
        """Expire the shelves that have run out by ``now``, in order of expiry."""
        due = [a for key in self._shelved if _shelf_due(a := self._alarms[key], now)]
        due.sort(key=lambda a: (a.shelved_until, a.tag_id, _KIND_ORDER[a.condition]))
        return [self._expire(alarm, now) for alarm in due]

    def _fresh(self, key: Key, now: Millis) -> Alarm:
        tag_id, condition = key
        return Alarm(
            tag_id=tag_id,
            condition=condition,
            state=AlarmState.NORMAL,
            active=False,
            priority=self._priority(tag_id, condition),
            seq=0,
            updated_at=now,
        )

    def _expire(self, alarm: Alarm, now: Millis) -> AlarmChange:
        assert alarm.shelved_until is not None
        return self._move(
            alarm,
            AlarmInput.SHELF_EXPIRED,
            active=alarm.active,
            at=alarm.shelved_until,
            now=now,
            actor=SYSTEM_ACTOR,
            cause=SHELF_EXPIRED_CAUSE,
            value=alarm.value,
            message=alarm.message,
        )

    def _move(
        self,
        alarm: Alarm,
        given: AlarmInput,
        *,
        active: bool,
        at: Millis,
        now: Millis,
        actor: str,
        cause: str,
        value: float | None,
        message: str,
        comment: str = "",
        shelve_until: Millis | None = None,
    ) -> AlarmChange:
        """Make one transition that the caller has checked to be allowed, and keep it."""
        target = next_state(alarm.state, given, active)
        assert target is not None, f"{given} not allowed in {alarm.state}"
        entering_unacked = target is AlarmState.UNACKED and alarm.state is not AlarmState.UNACKED
        if given is AlarmInput.ACKNOWLEDGE:
            acknowledged_at: Millis | None = at
        elif entering_unacked:
            acknowledged_at = None
        else:
            acknowledged_at = alarm.acknowledged_at
        if target is not AlarmState.SHELVED:
            shelved_until = None
        elif given is AlarmInput.SHELVE:
            shelved_until = shelve_until
        else:
            shelved_until = alarm.shelved_until
        new = replace(
            alarm,
            state=target,
            active=active,
            priority=self._priority(alarm.tag_id, alarm.condition),
            seq=alarm.seq + 1,
            updated_at=now,
            activated_at=at if active and not alarm.active else alarm.activated_at,
            acknowledged_at=acknowledged_at,
            shelved_until=shelved_until,
            value=value,
            message=message,
        )
        self._keep(new)
        transition = AlarmTransition(
            tag_id=alarm.tag_id,
            condition=alarm.condition,
            seq=new.seq,
            at=at,
            from_state=alarm.state,
            to_state=target,
            input=given,
            actor=actor,
            cause=cause,
            comment=comment,
            value=value,
        )
        return AlarmChange(alarm=new, transition=transition)

    def _keep(self, alarm: Alarm) -> None:
        key = (alarm.tag_id, alarm.condition)
        self._alarms[key] = alarm
        if alarm.state is AlarmState.SHELVED:
            self._shelved.add(key)
        else:
            self._shelved.discard(key)


def _shelf_due(alarm: Alarm, at: Millis) -> bool:
    return (
        alarm.state is AlarmState.SHELVED
        and alarm.shelved_until is not None
        and alarm.shelved_until <= at
    )
