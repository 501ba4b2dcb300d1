"""The warning lifecycle as one explicit transition table, and the functions that move it.

``TRANSITIONS`` maps ``(state, input)`` to a target: a state, or ``REANNUNCIATE`` —
"raised if the colour rises, else keep the state". A missing cell means the input is not
allowed in that state.

============  =====  =======  =======  ===========  ========  =====
state         raise  observe  subside  acknowledge  escalate  close
============  =====  =======  =======  ===========  ========  =====
raised        —      =        =        A            =         —
acknowledged  —      ↑        =        —            R         C
closed        —      —        —        —            —         —
============  =====  =======  =======  ===========  ========  =====

R raised, A acknowledged, C closed; ``=`` keep the state; ``↑`` re-annunciate; ``—`` not
allowed. Decisions behind the cells:

* Raising creates a warning (from no state); it is never a transition of an existing one.
  An observation for a key whose warning is open is deduplicated into it (``observe``:
  one record, its count rises, its explanation is refreshed); for a key with no open
  warning it raises a new one (``observe`` does both).
* A colour never falls by itself: an observation graded lower keeps the current colour
  (hiding a risk needs a person — closing). An observation graded higher raises it.
* A higher colour is a new situation: escalating an acknowledged warning, or observing it
  at a higher colour, returns it to raised so that it is acknowledged again at its new grade
  (the push chain's response timers depend on the colour).
* Closing (消警) needs an acknowledgement first, a named actor, a cause and feedback, and is
  refused while the detector still sees the condition: following the proposed 消警 rule
  (reference standards §2.3), clearing needs both the return to normal and the
  enterprise's cause/feedback. Closed is final: later observations raise a new warning.
* Escalation is refused when the target is not above the current colour (already red, or
  at the rule's ceiling); the escalation rules skip such warnings instead of asking.
* Observations and subsidence at or before the last observation already applied are
  ignored (``None``): a replay under at-least-once delivery changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum, StrEnum
from types import MappingProxyType

from hazwatch.domain.alarm import SYSTEM_ACTOR
from hazwatch.domain.clock import Millis
from hazwatch.domain.warning import (
    Closure,
    Colour,
    EarlyWarning,
    Escalation,
    Feedback,
    Observation,
    WarningInput,
    WarningState,
    WarningTransition,
    most_severe,
    warning_id,
)


class Reannunciate(Enum):
    """Marker target: raised if the colour rises, else the state is kept."""

    IF_HIGHER = "if_higher"


REANNUNCIATE = Reannunciate.IF_HIGHER

Target = WarningState | Reannunciate

_R = WarningState.RAISED
_A = WarningState.ACKNOWLEDGED
_C = WarningState.CLOSED
_I = WarningInput

_ROWS: dict[WarningState, dict[WarningInput, Target]] = {
    _R: {_I.OBSERVE: _R, _I.SUBSIDE: _R, _I.ACKNOWLEDGE: _A, _I.ESCALATE: _R},
    _A: {_I.OBSERVE: REANNUNCIATE, _I.SUBSIDE: _A, _I.ESCALATE: _R, _I.CLOSE: _C},
    _C: {},
}

TRANSITIONS: Mapping[tuple[WarningState, WarningInput], Target] = MappingProxyType(
    {(state, given): target for state, row in _ROWS.items() for given, target in row.items()}
)
"""The lifecycle: ``(state, input) → target``; a missing cell is "not allowed"."""

GRADING_RULE = "grading"
"""The ``rule`` of a colour rise caused by an observation's own grade."""


def next_state(state: WarningState, given: WarningInput, rises: bool) -> WarningState | None:
    """The state after ``given`` in ``state``; ``None`` when not allowed.

    ``rises``: whether the input raises the colour (decides a re-annunciation).
    """
    target = TRANSITIONS.get((state, given))
    if target is REANNUNCIATE:
        return WarningState.RAISED if rises else state
    return target


class Refusal(StrEnum):
    """Why a transition was refused (a stable key for the API and for translations)."""

    NOT_ALLOWED = "not_allowed"
    """The lifecycle table has no transition for this input in this state."""
    ACTOR_MISSING = "actor_missing"
    """Every command must name who gave it."""
    CAUSE_MISSING = "cause_missing"
    """Closing (消警) and escalating must say why."""
    STILL_ACTIVE = "still_active"
    """Closing is refused while the detector still sees the condition."""
    NOT_HIGHER = "not_higher"
    """An escalation must raise the colour (the warning is already red, or at the target)."""


class WarningError(Exception):
    """Base of the warning errors."""


class WarningTransitionError(WarningError):
    """An input to the warning ``warning_id`` in ``state`` was refused."""

    def __init__(
        self,
        *,
        warning_id: str,
        state: WarningState,
        input: WarningInput,
        code: Refusal,
        detail: str = "",
    ) -> None:
        self.warning_id = warning_id
        self.state = state
        self.input = input
        self.code = code
        self.detail = detail
        text = f"{input} refused for warning {warning_id} in state {state}: {code}"
        super().__init__(f"{text} ({detail})" if detail else text)


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningChange:
    """One change of one warning: its new value and the journaled transition."""

    warning: EarlyWarning
    transition: WarningTransition


def raise_warning(observation: Observation, *, now: Millis) -> WarningChange:
    """A new warning from a detector's observation, ``seq`` 1, state raised."""
    colour = observation.colour
    new = EarlyWarning(
        id=warning_id(observation.key, observation.at),
        key=observation.key,
        state=WarningState.RAISED,
        seq=1,
        colour=colour,
        raised_colour=colour,
        colour_since=observation.at,
        explanation=observation.explanation,
        raised_at=observation.at,
        updated_at=now,
        last_observed_at=observation.at,
        active_since=observation.at,
    )
    transition = WarningTransition(
        warning_id=new.id,
        seq=1,
        at=observation.at,
        input=WarningInput.RAISE,
        from_state=None,
        to_state=WarningState.RAISED,
        from_colour=None,
        to_colour=colour,
        actor=SYSTEM_ACTOR,
        cause=observation.explanation.text,
    )
    return WarningChange(warning=new, transition=transition)


def observe(
    warning: EarlyWarning | None, observation: Observation, *, now: Millis
) -> WarningChange | None:
    """Apply an observation to the latest warning of its key (``None``: there is none).

    An open warning absorbs it (deduplication): the count rises, the explanation and
    ``last_observed_at`` are refreshed, the warning is active again, and a higher colour is
    taken over (journaled as an escalation with rule ``GRADING_RULE``). A closed warning, or
    none, makes it raise a new warning. An observation at or before the warning's last one
    is a replay or arrived late: ``None``, nothing changes.
    """
    if warning is None:
        return raise_warning(observation, now=now)
    if warning.key != observation.key:
        raise ValueError(f"observation of {observation.key.text} given to {warning.key.text}")
    if observation.at <= warning.last_observed_at:
        return None
    if not warning.is_open:
        return raise_warning(observation, now=now)
    at = observation.at
    colour = most_severe(warning.colour, observation.colour)
    rises = colour.above(warning.colour)
    target = _allowed(warning, WarningInput.OBSERVE, rises=rises)
    cause = observation.explanation.text
    escalations = warning.escalations
    if rises:
        escalations += (
            Escalation(
                at=at, from_colour=warning.colour, to_colour=colour, rule=GRADING_RULE, cause=cause
            ),
        )
    new = replace(
        _moved(warning, target, colour=colour, at=at, now=now),
        explanation=observation.explanation,
        observations=warning.observations + 1,
        last_observed_at=at,
        active=True,
        active_since=warning.active_since if warning.active else at,
        escalations=escalations,
    )
    return _change(
        warning,
        new,
        WarningInput.OBSERVE,
        at=at,
        actor=SYSTEM_ACTOR,
        cause=cause,
        rule=GRADING_RULE if rises else "",
    )


def subside(
    warning: EarlyWarning, *, at: Millis, now: Millis, cause: str = "condition no longer seen"
) -> WarningChange | None:
    """The detector no longer sees the condition at ``at``; the warning stays open.

    ``None`` (nothing changes) when the warning is already inactive, or ``at`` lies before
    its last observation (a late message).
    """
    if not warning.active or at < warning.last_observed_at:
        return None
    target = _allowed(warning, WarningInput.SUBSIDE)
    new = replace(_moved(warning, target, at=at, now=now), active=False)
    return _change(warning, new, WarningInput.SUBSIDE, at=at, actor=SYSTEM_ACTOR, cause=cause)


def acknowledge(
    warning: EarlyWarning, *, actor: str, now: Millis, comment: str = ""
) -> WarningChange:
    """Someone takes charge of a raised warning; raises ``WarningTransitionError``."""
    target = _allowed(warning, WarningInput.ACKNOWLEDGE)
    _require(warning, WarningInput.ACKNOWLEDGE, actor, Refusal.ACTOR_MISSING)
    new = replace(
        _moved(warning, target, at=now, now=now), acknowledged_at=now, acknowledged_by=actor
    )
    return _change(
        warning,
        new,
        WarningInput.ACKNOWLEDGE,
        at=now,
        actor=actor,
        cause="acknowledged",
        comment=comment,
    )


def close(
    warning: EarlyWarning,
    *,
    actor: str,
    cause: str,
    feedback: Feedback,
    now: Millis,
    comment: str = "",
) -> WarningChange:
    """Close (消警) an acknowledged warning whose condition has subsided.

    ``cause``: what it was and what was done (required); ``feedback``: whether it was real.
    Raises ``WarningTransitionError``.
    """
    given = WarningInput.CLOSE
    target = _allowed(warning, given)
    _require(warning, given, actor, Refusal.ACTOR_MISSING)
    _require(warning, given, cause.strip(), Refusal.CAUSE_MISSING)
    if warning.active:
        raise _refused(warning, given, Refusal.STILL_ACTIVE, "wait until it subsides")
    closure = Closure(at=now, actor=actor, cause=cause, feedback=feedback)
    new = replace(_moved(warning, target, at=now, now=now), closure=closure)
    return _change(
        warning, new, given, at=now, actor=actor, cause=cause, comment=comment, feedback=feedback
    )


def escalate(
    warning: EarlyWarning,
    *,
    rule: str,
    cause: str,
    now: Millis,
    at: Millis | None = None,
    to: Colour | None = None,
    actor: str = SYSTEM_ACTOR,
    comment: str = "",
) -> WarningChange:
    """Raise the colour of an open warning to ``to`` (default: one colour up).

    ``rule``: the escalation rule's name (or the command's), ``cause``: why; ``at``: when
    the escalation became due (default ``now``). An acknowledged warning returns to
    raised. Raises ``WarningTransitionError`` (``NOT_HIGHER`` when already red or at
    ``to``).
    """
    given = WarningInput.ESCALATE
    target = _allowed(warning, given)
    _require(warning, given, actor, Refusal.ACTOR_MISSING)
    _require(warning, given, rule.strip() and cause.strip(), Refusal.CAUSE_MISSING)
    colour = warning.colour.up() if to is None else to
    if not colour.above(warning.colour):
        raise _refused(warning, given, Refusal.NOT_HIGHER, f"{warning.colour} → {colour}")
    when = now if at is None else at
    step = Escalation(at=when, from_colour=warning.colour, to_colour=colour, rule=rule, cause=cause)
    new = replace(
        _moved(warning, target, colour=colour, at=when, now=now),
        escalations=(*warning.escalations, step),
    )
    return _change(
        warning, new, given, at=when, actor=actor, cause=cause, comment=comment, rule=rule
    )


def _allowed(warning: EarlyWarning, given: WarningInput, *, rises: bool = False) -> WarningState:
    target = next_state(warning.state, given, rises)
    if target is None:
        raise _refused(warning, given, Refusal.NOT_ALLOWED)
    return target


def _require(warning: EarlyWarning, given: WarningInput, value: str, code: Refusal) -> None:
    if not value:
        raise _refused(warning, given, code)


def _refused(
    warning: EarlyWarning, given: WarningInput, code: Refusal, detail: str = ""
) -> WarningTransitionError:
    return WarningTransitionError(
        warning_id=warning.id, state=warning.state, input=given, code=code, detail=detail
    )


def _moved(
    warning: EarlyWarning,
    target: WarningState,
    *,
    at: Millis,
    now: Millis,
    colour: Colour | None = None,
) -> EarlyWarning:
    """The warning in ``target`` at ``colour``, one sequence number on.

    Entering raised from acknowledged forgets the acknowledgement; a new colour restarts
    ``colour_since``.
    """
    new_colour = warning.colour if colour is None else colour
    reannunciated = target is WarningState.RAISED and warning.state is not WarningState.RAISED
    return replace(
        warning,
        state=target,
        seq=warning.seq + 1,
        colour=new_colour,
        colour_since=at if new_colour is not warning.colour else warning.colour_since,
        updated_at=now,
        acknowledged_at=None if reannunciated else warning.acknowledged_at,
        acknowledged_by=None if reannunciated else warning.acknowledged_by,
    )


def _change(
    old: EarlyWarning,
    new: EarlyWarning,
    given: WarningInput,
    *,
    at: Millis,
    actor: str,
    cause: str,
    comment: str = "",
    rule: str = "",
    feedback: Feedback | None = None,
) -> WarningChange:
    transition = WarningTransition(
        warning_id=new.id,
        seq=new.seq,
        at=at,
        input=given,
        from_state=old.state,
        to_state=new.state,
        from_colour=old.colour,
        to_colour=new.colour,
        actor=actor,
        cause=cause,
        comment=comment,
        rule=rule,
        feedback=feedback,
    )
    return WarningChange(warning=new, transition=transition)
