"""The ISA-18.2 alarm lifecycle as one explicit transition table.

``TRANSITIONS`` maps ``(state, input)`` to a target: a state, or ``REEVALUATE`` — "go to
unacknowledged if the process condition is active, else normal" (ISA-18.2 states F/G/H
returning to service). A missing cell means the input is not allowed in that state.

=================  ===  ===  ===  ===  =====  ======  ===  =====  ======  ======
state \\ input      act  clr  ack  shv  unshv  expire  sup  unsup  remove  return
=================  ===  ===  ===  ===  =====  ======  ===  =====  ======  ======
normal             U    =    —    SH   —      —       SU   —      OOS     —
unacknowledged     =    R    A    SH   —      —       SU   —      OOS     —
acknowledged       =    N    —    SH   —      —       SU   —      OOS     —
returned_unacked   U    =    N    SH   —      —       SU   —      OOS     —
shelved            =    =    —    —    ↻      ↻       SU   —      OOS     —
suppressed         =    =    —    —    —      —       —    ↻      OOS     —
out_of_service     =    =    —    —    —      —       —    —      —       ↻
=================  ===  ===  ===  ===  =====  ======  ===  =====  ======  ======

N normal, U unacknowledged, A acknowledged, R returned-unacknowledged, SH shelved,
SU suppressed, OOS out of service; ``↻`` re-evaluate; ``=`` keep the state; ``—`` not
allowed. Decisions behind the cells that ISA-18.2 leaves open:

* Process inputs (activate, clear) are allowed in every state: the process is never
  refused. Where they keep the state, only the alarm's ``active`` flag follows the process.
  In the first four states a kept state can only be a repeated event (normal and
  returned-unacknowledged are never active, unacknowledged and acknowledged always are).
* Acknowledge is allowed only where something awaits acknowledgement (unacknowledged,
  returned-unacknowledged); acknowledging twice, or an alarm that is shelved, suppressed or
  out of service, is refused.
* Shelving an alarm that is already shelved is refused (unshelve first), so the maximum
  shelf duration cannot be extended silently; suppressed and out-of-service alarms cannot be
  shelved (design and maintenance outrank the operator's shelf).
* Out of service outranks everything: remove-from-service is allowed from every other state,
  including suppressed; while out of service only return-to-service is allowed. Suppression
  by design applies to every state except out of service.
* Leaving a shelf, a suppression or out of service re-evaluates from the process condition.
* Latching alarms (ISA-18.2 state E) are not modelled.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from hazwatch.domain.alarm import AlarmInput, AlarmState


class Reevaluate(Enum):
    """Marker target: the next state follows the process condition."""

    FROM_PROCESS = "from_process"


REEVALUATE = Reevaluate.FROM_PROCESS

Target = AlarmState | Reevaluate

_N = AlarmState.NORMAL
_U = AlarmState.UNACKED
_A = AlarmState.ACKED
_R = AlarmState.RTN_UNACKED
_SH = AlarmState.SHELVED
_SU = AlarmState.SUPPRESSED
_OOS = AlarmState.OUT_OF_SERVICE

_I = AlarmInput

_ROWS: dict[AlarmState, dict[AlarmInput, Target]] = {
    _N: {
        _I.ACTIVATE: _U,
        _I.CLEAR: _N,
        _I.SHELVE: _SH,
        _I.SUPPRESS: _SU,
        _I.REMOVE_FROM_SERVICE: _OOS,
    },
    _U: {
        _I.ACTIVATE: _U,
        _I.CLEAR: _R,
        _I.ACKNOWLEDGE: _A,
        _I.SHELVE: _SH,
        _I.SUPPRESS: _SU,
        _I.REMOVE_FROM_SERVICE: _OOS,
    },
    _A: {
        _I.ACTIVATE: _A,
        _I.CLEAR: _N,
        _I.SHELVE: _SH,
        _I.SUPPRESS: _SU,
        _I.REMOVE_FROM_SERVICE: _OOS,
    },
    _R: {
        _I.ACTIVATE: _U,
        _I.CLEAR: _R,
        _I.ACKNOWLEDGE: _N,
        _I.SHELVE: _SH,
        _I.SUPPRESS: _SU,
        _I.REMOVE_FROM_SERVICE: _OOS,
    },
    _SH: {
        _I.ACTIVATE: _SH,
        _I.CLEAR: _SH,
        _I.UNSHELVE: REEVALUATE,
        _I.SHELF_EXPIRED: REEVALUATE,
        _I.SUPPRESS: _SU,
        _I.REMOVE_FROM_SERVICE: _OOS,
    },
    _SU: {
        _I.ACTIVATE: _SU,
        _I.CLEAR: _SU,
        _I.UNSUPPRESS: REEVALUATE,
        _I.REMOVE_FROM_SERVICE: _OOS,
    },
    _OOS: {
        _I.ACTIVATE: _OOS,
        _I.CLEAR: _OOS,
        _I.RETURN_TO_SERVICE: REEVALUATE,
    },
}

TRANSITIONS: Mapping[tuple[AlarmState, AlarmInput], Target] = MappingProxyType(
    {(state, given): target for state, row in _ROWS.items() for given, target in row.items()}
)
"""The lifecycle: ``(state, input) → target``; a missing cell is "not allowed"."""

PROCESS_INPUTS: frozenset[AlarmInput] = frozenset({AlarmInput.ACTIVATE, AlarmInput.CLEAR})
"""Inputs from the detector (never refused)."""

SYSTEM_INPUTS: frozenset[AlarmInput] = frozenset({AlarmInput.SHELF_EXPIRED})
"""Inputs the alarm book raises itself."""

COMMANDS: frozenset[AlarmInput] = frozenset(AlarmInput) - PROCESS_INPUTS - SYSTEM_INPUTS
"""Inputs an operator (or suppression logic) may send through ``AlarmBook.command``."""


def next_state(state: AlarmState, given: AlarmInput, active: bool) -> AlarmState | None:
    """The state after ``given`` in ``state``; ``None`` when not allowed.

    ``active`` is the process condition after the input (for activate/clear: the new one);
    it decides the outcome of a re-evaluation.
    """
    target = TRANSITIONS.get((state, given))
    if target is REEVALUATE:
        return AlarmState.UNACKED if active else AlarmState.NORMAL
    return target
