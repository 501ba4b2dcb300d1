"""Limit conditions (HH, H, L, LL) of many tags at once: deadband and on/off delays.

Semantics (ISA-18.2 / OPC UA Part 9, as in ``hazwatch.domain.tag``): a high limit is *in
alarm* at ``value >= limit`` and *clear-side* at ``value < limit - deadband``; a low limit
mirrors this (``value <= limit``, ``value > limit + deadband``). Between the two lies the
deadband, where an active condition stays active and a clear one stays clear.

=========  ====================  ==============================================
state      reading               next state
=========  ====================  ==============================================
clear      in alarm              active (no on-delay) or pending
pending    not in alarm          clear: the on-delay restarts with the next excursion
active     clear-side            clear (no off-delay) or holding
holding    not clear-side        active: the off-delay restarts
=========  ====================  ==============================================

Delays complete when time reaches ``since + delay`` with the last value still holding:
``advance`` does this, before each reading (so a reading after the deadline first completes
the delay) and on every tick. The event of a completed delay is stamped at that deadline, so
the outcome does not depend on how often ticks come. Delays are inclusive: a value held for
exactly ``on_delay`` activates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from hazwatch.detect.collector import EventCollector
from hazwatch.detect.state import ACTIVE, CLEAR, HOLDING, PENDING
from hazwatch.domain.tag import LIMIT_KINDS
from hazwatch.domain.tagtable import TagTable

Rows = npt.NDArray[np.intp]
_T = TypeVar("_T", bound=np.generic)

_SIGN = np.array([1.0 if kind.is_high else -1.0 for kind in LIMIT_KINDS])

# The table above as data: next state by [state, delayed], where "delayed" is whether the
# on-delay (from clear) or the off-delay (from active) is set. Only rows whose reading
# changes something are looked up.
_NEXT = np.array(
    [
        [ACTIVE, PENDING],  # clear, now in alarm
        [CLEAR, CLEAR],  # pending, no longer in alarm
        [CLEAR, HOLDING],  # active, now clear-side
        [ACTIVE, ACTIVE],  # holding, no longer clear-side
    ],
    dtype=np.int8,
)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class LimitRules:
    """A table's limits folded for one comparison per side, columns HH, H, L, LL.

    With ``x = value`` for high limits and ``x = -value`` for low ones, a limit is in alarm
    at ``x >= set_at`` and clear-side at ``x < clear_below``. A limit that is not configured
    has both at +inf: never in alarm, always clear-side (for finite values).
    """

    set_at: npt.NDArray[np.float64]
    clear_below: npt.NDArray[np.float64]
    on_ms: npt.NDArray[np.int64]
    off_ms: npt.NDArray[np.int64]

    @classmethod
    def of(cls, table: TagTable) -> LimitRules:
        enabled = table.limit_enabled
        signed = _SIGN * table.limit_value
        return cls(
            set_at=np.where(enabled, signed, np.inf),
            clear_below=np.where(enabled, signed - table.deadband, np.inf),
            on_ms=table.on_delay_ms,
            off_ms=table.off_delay_ms,
        )


class LimitStates:
    """State and entry time of every limit of every tag: two ``(n, 4)`` columns.

    ``state`` holds ``ConditionState`` codes; ``since`` the epoch-millisecond time the state
    was entered (for pending and holding: the start of the running delay).
    """

    def __init__(self, size: int) -> None:
        self.state = np.zeros((size, len(LIMIT_KINDS)), dtype=np.int8)
        self.since = np.zeros((size, len(LIMIT_KINDS)), dtype=np.int64)

    def advance(
        self,
        rows: Rows,
        now: npt.NDArray[np.int64],
        rules: LimitRules,
        held: npt.NDArray[np.float64],
        out: EventCollector,
    ) -> None:
        """Complete the delays of ``rows`` (distinct tag ids) that have run out by ``now``.

        ``now`` holds one time per row; ``held`` is the last good value per tag id, carried
        by the events.
        """
        # Pending (1) and holding (3) are the odd codes: the states with a running delay.
        waiting = _gather(self.state, rows) & 1
        if not waiting.any():
            return
        r, c = np.nonzero(waiting)
        tags = rows[r]
        pending = self.state[tags, c] == PENDING
        since = self.since[tags, c]
        delay = np.where(pending, rules.on_ms[tags, c], rules.off_ms[tags, c])
        done = now[r] - since >= delay
        if not done.any():
            return
        tags, c, pending = tags[done], c[done], pending[done]
        at = (since + delay)[done]
        self.state[tags, c] = np.where(pending, ACTIVE, CLEAR)
        self.since[tags, c] = at
        for mask, active in ((pending, True), (~pending, False)):
            chosen = tags[mask]
            out.add(chosen, c[mask], active=active, at=at[mask], values=held[chosen])

    def apply(
        self,
        rows: Rows,
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        rules: LimitRules,
        out: EventCollector,
    ) -> None:
        """Take one good reading per row (distinct tag ids), after ``advance`` to its time."""
        state = _gather(self.state, rows)
        x = values[:, None] * _SIGN
        in_alarm = x >= _gather(rules.set_at, rows)
        clear_side = x < _gather(rules.clear_below, rows)
        # Clear and pending wait on "in alarm", active and holding on "clear-side"; a cell
        # moves when its answer differs from the one its state stands for.
        answer = np.where(state >= ACTIVE, clear_side, in_alarm)
        r, c = np.nonzero(answer != ((state & 1) == 1))
        if not len(r):
            return
        tags = rows[r]
        old = state[r, c]
        delayed = np.where(old == CLEAR, rules.on_ms[tags, c], rules.off_ms[tags, c]) > 0
        self.state[tags, c] = _NEXT[old, delayed.astype(np.intp)]
        self.since[tags, c] = ts[r]
        for mask, active in (
            ((old == CLEAR) & ~delayed, True),
            ((old == ACTIVE) & ~delayed, False),
        ):
            out.add(tags[mask], c[mask], active=active, at=ts[r][mask], values=values[r][mask])


def _gather(columns: npt.NDArray[_T], rows: Rows) -> npt.NDArray[_T]:
    """``columns[rows]`` for a 2-D array; ``take`` is many times faster than fancy indexing."""
    return np.take(columns, rows, axis=0)
