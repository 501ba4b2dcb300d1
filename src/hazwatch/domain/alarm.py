"""Alarms: the operator-facing ISA-18.2 lifecycle of one condition of one tag.

An alarm is identified by ``(tag_id, condition)``. Its ``state`` is one of the ISA-18.2
states; ``active`` is the process condition underneath (kept while shelved, suppressed or
out of service, so that returning re-evaluates correctly). Every change of state is one
``AlarmTransition`` with a sequence number, who or what caused it, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import ConditionKind, Priority


class AlarmState(StrEnum):
    NORMAL = "normal"
    UNACKED = "unacknowledged"
    ACKED = "acknowledged"
    RTN_UNACKED = "returned_unacknowledged"
    SHELVED = "shelved"
    SUPPRESSED = "suppressed"
    OUT_OF_SERVICE = "out_of_service"


class AlarmInput(StrEnum):
    """What can happen to an alarm: process events and operator/logic commands."""

    ACTIVATE = "activate"
    CLEAR = "clear"
    ACKNOWLEDGE = "acknowledge"
    SHELVE = "shelve"
    UNSHELVE = "unshelve"
    SHELF_EXPIRED = "shelf_expired"
    SUPPRESS = "suppress"
    UNSUPPRESS = "unsuppress"
    REMOVE_FROM_SERVICE = "remove_from_service"
    RETURN_TO_SERVICE = "return_to_service"


SYSTEM_ACTOR = "system"


@dataclass(frozen=True, slots=True, kw_only=True)
class ConditionEvent:
    """A condition of a tag became active or cleared (output of detect, or of a link's
    reported health, whose reason goes in ``detail``)."""

    tag_id: int
    condition: ConditionKind
    active: bool
    at: Millis
    value: float
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Alarm:
    tag_id: int
    condition: ConditionKind
    state: AlarmState
    active: bool
    priority: Priority
    seq: int
    updated_at: Millis
    activated_at: Millis | None = None
    acknowledged_at: Millis | None = None
    shelved_until: Millis | None = None
    value: float | None = None
    message: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmTransition:
    """One journaled change of an alarm's state."""

    tag_id: int
    condition: ConditionKind
    seq: int
    at: Millis
    from_state: AlarmState
    to_state: AlarmState
    input: AlarmInput
    actor: str
    cause: str
    comment: str = ""
    value: float | None = None
