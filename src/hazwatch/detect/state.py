"""The state of one condition of one tag, as the detector keeps it.

A limit condition moves clear → pending (on-delay running) → active → holding (off-delay
running) → clear; without delays pending and holding are skipped. OFFLINE, FROZEN and
BAD_QUALITY have no delays of their own and are only ever clear or active. The detector
stores a state as a small integer (its index in ``STATES``) in numpy columns.
"""

from __future__ import annotations

from enum import StrEnum


class ConditionState(StrEnum):
    CLEAR = "clear"
    PENDING = "pending"
    ACTIVE = "active"
    HOLDING = "holding"

    @property
    def code(self) -> int:
        """The integer stored in the detector's state columns."""
        return STATES.index(self)

    @property
    def is_active(self) -> bool:
        """Whether the condition counts as active (holding is still active)."""
        return self in (ConditionState.ACTIVE, ConditionState.HOLDING)


STATES: tuple[ConditionState, ...] = (
    ConditionState.CLEAR,
    ConditionState.PENDING,
    ConditionState.ACTIVE,
    ConditionState.HOLDING,
)

CLEAR = 0
PENDING = 1
ACTIVE = 2
HOLDING = 3
