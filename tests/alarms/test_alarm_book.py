from __future__ import annotations

from dataclasses import replace

import pytest

from hazwatch.alarms.book import SHELF_EXPIRED_CAUSE, AlarmBook, AlarmChange
from hazwatch.alarms.errors import AlarmCommandCode, AlarmCommandError
from hazwatch.domain.alarm import (
    SYSTEM_ACTOR,
    Alarm,
    AlarmInput,
    AlarmState,
    ConditionEvent,
)
from hazwatch.domain.clock import HOUR_MS, MINUTE_MS
from hazwatch.domain.tag import ConditionKind, Priority

T0 = 1_700_000_000_000
H, HH, OFFLINE = ConditionKind.H, ConditionKind.HH, ConditionKind.OFFLINE
S = AlarmState
I = AlarmInput  # noqa: E741 — reads as the table's "input"


def fixed_priority(tag_id: int, condition: ConditionKind) -> Priority:
    return Priority.HIGH if condition is HH else Priority.LOW


def event(
    active: bool, at: int, value: float = 0.0, *, tag_id: int = 1, condition: ConditionKind = H
) -> ConditionEvent:
    return ConditionEvent(tag_id=tag_id, condition=condition, active=active, at=at, value=value)


def book(*alarms: Alarm, **options: int) -> AlarmBook:
    return AlarmBook(alarms, fixed_priority, **options)  # type: ignore[arg-type]


def ack(b: AlarmBook, now: int, *, condition: ConditionKind = H) -> AlarmChange:
    return b.command(1, condition, I.ACKNOWLEDGE, actor="li", comment="seen", now=now)


def test_an_unseen_alarm_starts_normal_and_activates() -> None:
    b = book()
    assert b.get(1, H) is None
    [change] = b.apply([event(True, T0, 92.1)], now=T0 + 5)
    alarm, transition = change.alarm, change.transition
    assert (alarm.state, alarm.active, alarm.seq) == (S.UNACKED, True, 1)
    assert (alarm.activated_at, alarm.acknowledged_at, alarm.value) == (T0, None, 92.1)
    assert alarm.updated_at == T0 + 5
    assert alarm.priority is Priority.LOW
    assert alarm.message == "H active, value 92.1"
    assert (transition.from_state, transition.to_state, transition.input) == (
        S.NORMAL,
        S.UNACKED,
        I.ACTIVATE,
    )
    assert (transition.seq, transition.at, transition.actor) == (1, T0, SYSTEM_ACTOR)
    assert transition.cause == alarm.message
    assert transition.value == 92.1
    assert b.get(1, H) == alarm


def test_clear_of_an_unseen_alarm_and_repeated_events_change_nothing() -> None:
    b = book()
    assert b.apply([event(False, T0)], now=T0) == []
    assert b.get(1, H) is None
    b.apply([event(True, T0)], now=T0)
    assert b.apply([event(True, T0 + 1)], now=T0 + 1) == []
    assert b.get(1, H).seq == 1  # type: ignore[union-attr]


def test_full_cycle_keeps_fields_and_sequence() -> None:
    b = book()
    changes = b.apply([event(True, T0, 95), event(False, T0 + 10, 80)], now=T0 + 10)
    changes.append(ack(b, T0 + 20))
    changes += b.apply([event(True, T0 + 30, 96)], now=T0 + 30)
    changes.append(ack(b, T0 + 40))
    changes += b.apply([event(False, T0 + 50, 70)], now=T0 + 50)
    assert [(c.transition.from_state, c.transition.to_state) for c in changes] == [
        (S.NORMAL, S.UNACKED),
        (S.UNACKED, S.RTN_UNACKED),
        (S.RTN_UNACKED, S.NORMAL),
        (S.NORMAL, S.UNACKED),
        (S.UNACKED, S.ACKED),
        (S.ACKED, S.NORMAL),
    ]
    assert [c.alarm.seq for c in changes] == [1, 2, 3, 4, 5, 6]
    assert [c.transition.seq for c in changes] == [1, 2, 3, 4, 5, 6]
    assert [c.alarm.acknowledged_at for c in changes] == [
        None,
        None,
        T0 + 20,
        None,
        T0 + 40,
        T0 + 40,
    ]
    assert [c.alarm.activated_at for c in changes] == [T0, T0, T0, T0 + 30, T0 + 30, T0 + 30]
    assert changes[2].transition.actor == "li" and changes[2].transition.comment == "seen"
    assert changes[2].transition.value == 80
    assert b.get(1, H) == changes[-1].alarm


def test_process_events_while_shelved_are_journaled_without_changing_state() -> None:
    b = book()
    b.apply([event(True, T0, 95)], now=T0)
    b.command(1, H, I.SHELVE, actor="li", now=T0 + 1, shelve_until=T0 + HOUR_MS)
    changes = b.apply([event(False, T0 + 2, 80), event(True, T0 + 3, 97)], now=T0 + 3)
    assert [(c.transition.from_state, c.transition.to_state, c.alarm.active) for c in changes] == [
        (S.SHELVED, S.SHELVED, False),
        (S.SHELVED, S.SHELVED, True),
    ]
    assert changes[-1].alarm.shelved_until == T0 + HOUR_MS
    assert changes[-1].alarm.activated_at == T0 + 3
    unshelved = b.command(1, H, I.UNSHELVE, actor="li", now=T0 + 4)
    assert unshelved.alarm.state is S.UNACKED
    assert unshelved.alarm.shelved_until is None
    assert unshelved.transition.cause == "unshelved"


def test_shelf_expiry_by_tick_reevaluates() -> None:
    b = book()
    b.apply([event(True, T0, 95, condition=HH), event(True, T0, 95)], now=T0)
    b.command(1, HH, I.SHELVE, actor="li", now=T0, shelve_until=T0 + 2 * MINUTE_MS)
    b.command(1, H, I.SHELVE, actor="li", now=T0, shelve_until=T0 + MINUTE_MS)
    b.apply([event(False, T0 + 1, 80)], now=T0 + 1)
    assert b.tick(T0 + MINUTE_MS - 1) == []
    changes = b.tick(T0 + 3 * MINUTE_MS)
    assert [(c.alarm.condition, c.alarm.state, c.transition.at) for c in changes] == [
        (H, S.NORMAL, T0 + MINUTE_MS),
        (HH, S.UNACKED, T0 + 2 * MINUTE_MS),
    ]
    for change in changes:
        assert change.transition.input is I.SHELF_EXPIRED
        assert change.transition.actor == SYSTEM_ACTOR
        assert change.transition.cause == SHELF_EXPIRED_CAUSE
        assert change.alarm.shelved_until is None
        assert change.alarm.updated_at == T0 + 3 * MINUTE_MS
    assert b.tick(T0 + 4 * MINUTE_MS) == []


def test_an_event_after_the_shelf_ran_out_expires_it_first() -> None:
    b = book()
    b.command(1, H, I.SHELVE, actor="li", now=T0, shelve_until=T0 + MINUTE_MS)
    changes = b.apply([event(True, T0 + MINUTE_MS, 99)], now=T0 + MINUTE_MS + 5)
    assert [(c.transition.input, c.transition.to_state, c.transition.at) for c in changes] == [
        (I.SHELF_EXPIRED, S.NORMAL, T0 + MINUTE_MS),
        (I.ACTIVATE, S.UNACKED, T0 + MINUTE_MS),
    ]
    # An event just before the expiry is applied while still shelved.
    b.command(1, HH, I.SHELVE, actor="li", now=T0, shelve_until=T0 + MINUTE_MS)
    [change] = b.apply([event(True, T0 + MINUTE_MS - 1, condition=HH)], now=T0 + MINUTE_MS)
    assert change.alarm.state is S.SHELVED


def test_acknowledge_resets_when_an_alarm_reenters_unacknowledged() -> None:
    b = book()
    b.apply([event(True, T0)], now=T0)
    ack(b, T0 + 1)
    b.command(1, H, I.SUPPRESS, actor="logic", now=T0 + 2)
    change = b.command(1, H, I.UNSUPPRESS, actor="logic", now=T0 + 3)
    assert change.alarm.state is S.UNACKED
    assert change.alarm.acknowledged_at is None
    assert change.alarm.activated_at == T0


def test_commands_on_an_unseen_alarm_start_from_normal() -> None:
    b = book()
    change = b.command(4, OFFLINE, I.REMOVE_FROM_SERVICE, actor="wang", now=T0, comment="MOC-17")
    assert (change.alarm.state, change.alarm.seq, change.alarm.active) == (
        S.OUT_OF_SERVICE,
        1,
        False,
    )
    assert change.transition.comment == "MOC-17"
    assert change.transition.cause == "removed from service"
    assert change.alarm.value is None
    assert (
        b.command(4, OFFLINE, I.RETURN_TO_SERVICE, actor="wang", now=T0 + 1).alarm.state is S.NORMAL
    )


@pytest.mark.parametrize(
    ("given", "shelve_until", "actor", "code"),
    [
        (I.ACKNOWLEDGE, None, "li", AlarmCommandCode.NOT_ALLOWED),
        (I.ACTIVATE, None, "li", AlarmCommandCode.NOT_A_COMMAND),
        (I.SHELF_EXPIRED, None, "li", AlarmCommandCode.NOT_A_COMMAND),
        (I.SUPPRESS, None, "", AlarmCommandCode.ACTOR_MISSING),
        (I.SHELVE, None, "li", AlarmCommandCode.SHELVE_UNTIL_MISSING),
        (I.SHELVE, T0, "li", AlarmCommandCode.SHELVE_UNTIL_PAST),
        (I.SHELVE, T0 + HOUR_MS + 1, "li", AlarmCommandCode.SHELVE_TOO_LONG),
        (I.SUPPRESS, T0 + 1, "li", AlarmCommandCode.SHELVE_UNTIL_UNEXPECTED),
    ],
)
def test_refused_commands_raise_and_change_nothing(
    given: AlarmInput, shelve_until: int | None, actor: str, code: AlarmCommandCode
) -> None:
    b = book(max_shelve_ms=HOUR_MS)
    with pytest.raises(AlarmCommandError) as caught:
        b.command(2, HH, given, actor=actor, now=T0, shelve_until=shelve_until)
    error = caught.value
    assert (error.tag_id, error.condition, error.state, error.input, error.code) == (
        2,
        HH,
        S.NORMAL,
        given,
        code,
    )
    assert b.get(2, HH) is None


def test_refused_command_on_an_existing_alarm_keeps_it() -> None:
    b = book()
    b.apply([event(True, T0)], now=T0)
    ack(b, T0 + 1)
    before = b.get(1, H)
    with pytest.raises(AlarmCommandError) as caught:
        ack(b, T0 + 2)
    assert caught.value.state is S.ACKED and caught.value.code is AlarmCommandCode.NOT_ALLOWED
    assert b.get(1, H) == before


def test_shelving_for_exactly_the_maximum_is_allowed() -> None:
    b = book(max_shelve_ms=HOUR_MS)
    change = b.command(1, H, I.SHELVE, actor="li", now=T0, shelve_until=T0 + HOUR_MS)
    assert change.alarm.shelved_until == T0 + HOUR_MS
    assert change.transition.cause == "shelved until 2023-11-14T23:13:20.000Z"
    assert book().max_shelve_ms == 24 * HOUR_MS
    with pytest.raises(ValueError):
        book(max_shelve_ms=0)


def test_book_continues_from_persisted_alarms() -> None:
    shelved = Alarm(
        tag_id=1,
        condition=H,
        state=S.SHELVED,
        active=True,
        priority=Priority.LOW,
        seq=7,
        updated_at=T0,
        activated_at=T0 - 5,
        shelved_until=T0 + 10,
        value=101.0,
        message="value 101 ≥ H 100",
    )
    acked = replace(shelved, condition=HH, state=S.ACKED, shelved_until=None, seq=3)
    b = book(shelved, acked)
    assert b.all() == [acked, shelved]  # ordered by tag, then HH, H, L, LL, …
    [expired] = b.tick(T0 + 10)
    assert (expired.alarm.state, expired.alarm.seq, expired.transition.seq) == (S.UNACKED, 8, 8)
    assert expired.alarm.message == "value 101 ≥ H 100"
    assert expired.alarm.value == 101.0
    [cleared] = b.apply([event(False, T0 + 20, 50, condition=HH)], now=T0 + 20)
    assert (cleared.alarm.state, cleared.alarm.seq) == (S.NORMAL, 4)


def test_priority_and_cause_come_from_the_given_callables() -> None:
    levels = {H: Priority.LOW}

    def priority(tag_id: int, condition: ConditionKind) -> Priority:
        return levels[condition]

    b = AlarmBook([], priority, describe=lambda e: f"{e.condition} at {e.value:g}")
    [first] = b.apply([event(True, T0, 101)], now=T0)
    assert first.alarm.priority is Priority.LOW
    assert first.transition.cause == first.alarm.message == "H at 101"
    levels[H] = Priority.CRITICAL  # the plant changed
    assert ack(b, T0 + 1).alarm.priority is Priority.CRITICAL
