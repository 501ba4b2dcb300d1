"""Readings → condition events, for every tag at once (vectorised with numpy).

``ConditionDetector`` keeps, per tag id, the state of each condition and emits a
``ConditionEvent`` only when a condition becomes active or clears. Contract:

* **Order.** Readings of one tag are evaluated in timestamp order, whatever their order in
  the batch. A batch holding several readings of one tag is evaluated in passes by
  occurrence rank (every tag's first reading, then every tag's second…), so each pass is
  one gather/scatter over distinct tags and the result equals feeding the readings one by
  one in timestamp order.
* **Late data.** A reading whose timestamp is not newer than the newest reading already
  evaluated for its tag (including a second reading with the same timestamp) is ignored by
  detection. It is still stored by the caller; it only does not drive conditions, because
  conditions must not move back in time. Readings of unknown tag ids are ignored too.
* **Limits** (HH, H, L, LL): deadband and on/off delays as described in
  ``hazwatch.detect.limit``. Only readings of good or uncertain quality drive them: a failed
  transmitter reporting 0 with bad quality must not raise LL. The last good value holds
  until the next good one.
* **BAD_QUALITY** is active from a reading of ``Quality.BAD`` until the next good or
  uncertain reading.
* **FROZEN** becomes active at a good reading whose value equals exactly the value first
  seen at least ``frozen_after_ms`` earlier with no different good value in between; the
  next different value clears it. It is judged on readings only: a tag that stops sending
  is OFFLINE, not frozen.
* **OFFLINE** becomes active at a tick when no reading (of any quality) has arrived for
  ``offline_after_ms``, counted from the last reading or, for a tag not heard from yet, from
  the ``now`` given at construction/retable (or else the first tick). The next reading
  clears it. Offline is judged against source timestamps, so sources need synchronised
  clocks (ingest refuses timestamps from the future).
* **Time stamps of events.** A change caused by a reading is stamped with the reading's
  timestamp; a delay that completes (on-/off-delay, offline) is stamped with its deadline,
  which is the moment the condition was fulfilled, so results do not depend on tick
  frequency. Events carry the reading's value, or for a completed delay the value that held
  (for OFFLINE: the last value, NaN if none).

The detector does no I/O and reads no clock: ``now`` is a parameter.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import numpy.typing as npt

from hazwatch.detect.collector import BAD_QUALITY, FROZEN, KINDS, OFFLINE, EventCollector
from hazwatch.detect.limit import LimitRules, LimitStates, Rows
from hazwatch.detect.state import ACTIVE, CLEAR, HOLDING, STATES, ConditionState
from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import LIMIT_KINDS, ConditionKind
from hazwatch.domain.tagtable import TagTable

NEVER = np.iinfo(np.int64).min
"""``last_ts`` of a tag with no evaluated reading yet."""

_LIMITS = len(LIMIT_KINDS)


class _Memory:
    """Per tag id state columns (mutable; owned by one detector)."""

    def __init__(self, size: int) -> None:
        self.last_ts = np.full(size, NEVER, dtype=np.int64)
        self.last_value = np.full(size, np.nan)
        self.held = np.full(size, np.nan)
        self.ref_ts = np.zeros(size, dtype=np.int64)
        self.ref_set = np.zeros(size, dtype=np.bool_)
        self.offline = np.zeros(size, dtype=np.bool_)
        self.bad = np.zeros(size, dtype=np.bool_)
        self.frozen = np.zeros(size, dtype=np.bool_)
        self.frozen_value = np.full(size, np.nan)
        self.frozen_since = np.zeros(size, dtype=np.int64)
        self.limits = LimitStates(size)

    def columns(self) -> tuple[npt.NDArray[np.generic], ...]:
        return (
            self.last_ts,
            self.last_value,
            self.held,
            self.ref_ts,
            self.ref_set,
            self.offline,
            self.bad,
            self.frozen,
            self.frozen_value,
            self.frozen_since,
            self.limits.state,
            self.limits.since,
        )

    def copy_rows(self, rows: Rows, into: _Memory) -> None:
        for source, target in zip(self.columns(), into.columns(), strict=True):
            target[rows] = source[rows]

    def active(self) -> npt.NDArray[np.bool_]:
        """``(n, 7)``: which conditions (codes of ``KINDS``) count as active."""
        limits = (self.limits.state == ACTIVE) | (self.limits.state == HOLDING)
        return np.column_stack([limits, self.offline, self.frozen, self.bad])

    def deactivate(self, rows: Rows, codes: Rows) -> None:
        is_limit = codes < _LIMITS
        self.limits.state[rows[is_limit], codes[is_limit]] = CLEAR
        for code, column in (
            (OFFLINE, self.offline),
            (FROZEN, self.frozen),
            (BAD_QUALITY, self.bad),
        ):
            column[rows[codes == code]] = False


def _evaluated(table: TagTable) -> npt.NDArray[np.bool_]:
    """``(n, 7)``: which conditions of which tag ids ``table`` evaluates."""
    known = table.known
    return np.column_stack(
        [
            table.limit_enabled & known[:, None],
            known & (table.offline_after_ms > 0),
            known & (table.frozen_after_ms > 0),
            known,
        ]
    )


class ConditionDetector:
    """Condition state of every tag of a ``TagTable``; see the module docstring."""

    def __init__(self, table: TagTable, *, now: Millis | None = None) -> None:
        """``now``: when the offline clock of tags not yet heard from starts (else: first tick)."""
        self._table = table
        self._rules = LimitRules.of(table)
        self._rows: Rows = np.flatnonzero(table.known)
        self._mem = _Memory(table.size)
        if now is not None:
            self._mem.ref_ts[self._rows] = now
            self._mem.ref_set[self._rows] = True

    @property
    def table(self) -> TagTable:
        return self._table

    def evaluate(self, batch: Batch) -> list[ConditionEvent]:
        """Evaluate the readings of ``batch``; the conditions that changed, in time order."""
        if not len(batch):
            return []
        tags = batch.tag.astype(np.intp)
        pick = np.flatnonzero(self._table.knows(tags))
        order = np.lexsort((batch.ts[pick], tags[pick]))
        pick = pick[order]
        tags, ts = tags[pick], batch.ts[pick]
        first = _group_starts(tags)
        previous = np.empty_like(ts)
        previous[1:] = ts[:-1]
        previous[first] = NEVER
        fresh = (ts > self._mem.last_ts[tags]) & (ts > previous)
        pick, tags = pick[fresh], tags[fresh]
        out = EventCollector()
        for chosen in _passes(pick, tags):
            self._step(
                batch.tag[chosen].astype(np.intp),
                batch.ts[chosen],
                batch.value[chosen],
                batch.quality[chosen],
                out,
            )
        return out.events()

    def tick(self, now: Millis) -> list[ConditionEvent]:
        """Let time pass to ``now``: complete due delays and raise OFFLINE for silent tags."""
        mem, table, rows = self._mem, self._table, self._rows
        unset = rows[~mem.ref_set[rows]]
        mem.ref_ts[unset] = now
        mem.ref_set[unset] = True
        out = EventCollector()
        mem.limits.advance(
            rows, np.full(len(rows), now, dtype=np.int64), self._rules, mem.held, out
        )
        after = table.offline_after_ms[rows]
        due = ~mem.offline[rows] & (after > 0) & (now - mem.ref_ts[rows] >= after)
        silent = rows[due]
        out.add(
            silent,
            OFFLINE,
            active=True,
            at=mem.ref_ts[silent] + after[due],
            values=mem.last_value[silent],
        )
        mem.offline[silent] = True
        return out.events()

    def retable(self, table: TagTable, *, now: Millis | None = None) -> list[ConditionEvent]:
        """Switch to a new table after a plant change, keeping the state of surviving tags.

        A condition that was active and is no longer evaluated (tag removed, limit removed,
        frozen check switched off) is reset; with ``now`` given, a clearing event stamped
        ``now`` is returned for each, so that its alarm can return to normal. New tags start
        their offline clock at ``now`` (else at the next tick).
        """
        old, mem = self._mem, _Memory(table.size)
        common = min(self._table.size, table.size)
        kept: Rows = np.flatnonzero(self._table.known[:common] & table.known[:common])
        old.copy_rows(kept, mem)
        evaluated = np.zeros((self._table.size, len(KINDS)), dtype=np.bool_)
        evaluated[:common] = _evaluated(table)[:common]
        rows, codes = np.nonzero(old.active() & ~evaluated)
        mem.deactivate(rows[rows < table.size], codes[rows < table.size])
        kept_limits = mem.limits.state[kept]
        kept_limits[~table.limit_enabled[kept]] = CLEAR
        mem.limits.state[kept] = kept_limits
        self._table, self._mem = table, mem
        self._rules = LimitRules.of(table)
        self._rows = np.flatnonzero(table.known)
        if now is None:
            return []
        new = self._rows[~mem.ref_set[self._rows]]
        mem.ref_ts[new] = now
        mem.ref_set[new] = True
        return [
            ConditionEvent(tag_id=t, condition=KINDS[c], active=False, at=now, value=v)
            for t, c, v in zip(
                rows.tolist(), codes.tolist(), old.last_value[rows].tolist(), strict=True
            )
        ]

    def restore(self, active: Iterable[tuple[int, ConditionKind]]) -> None:
        """Mark conditions active without emitting events (start-up, from persisted alarms).

        Conditions the table does not evaluate are skipped. A restored FROZEN condition
        takes the next reading as its reference value, so only a later change clears it.
        """
        mem = self._mem
        for tag_id, condition in active:
            if not self._table.has_condition(tag_id, condition):
                continue
            code = KINDS.index(condition)
            if code < _LIMITS:
                mem.limits.state[tag_id, code] = ACTIVE
            elif code == OFFLINE:
                mem.offline[tag_id] = True
            elif code == FROZEN:
                mem.frozen[tag_id] = True
            else:
                mem.bad[tag_id] = True

    def state(self, tag_id: int, condition: ConditionKind) -> ConditionState:
        """The current state of one condition (clear for anything not evaluated)."""
        if not self._table.has_condition(tag_id, condition):
            return ConditionState.CLEAR
        code = KINDS.index(condition)
        if code < _LIMITS:
            return STATES[int(self._mem.limits.state[tag_id, code])]
        flags = {OFFLINE: self._mem.offline, FROZEN: self._mem.frozen, BAD_QUALITY: self._mem.bad}
        return ConditionState.ACTIVE if flags[code][tag_id] else ConditionState.CLEAR

    def _step(
        self,
        rows: Rows,
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint8],
        out: EventCollector,
    ) -> None:
        """Evaluate one reading for each of ``rows`` (distinct tag ids)."""
        mem = self._mem
        mem.limits.advance(rows, ts, self._rules, mem.held, out)

        back = mem.offline[rows]
        out.add(rows[back], OFFLINE, active=False, at=ts[back], values=values[back])
        mem.offline[rows] = False

        bad = quality == Quality.BAD
        was_bad = mem.bad[rows]
        for mask, active in ((bad & ~was_bad, True), (~bad & was_bad, False)):
            out.add(rows[mask], BAD_QUALITY, active=active, at=ts[mask], values=values[mask])
        mem.bad[rows] = bad

        good = ~bad
        good_rows, good_ts, good_values = rows[good], ts[good], values[good]
        mem.limits.apply(good_rows, good_ts, good_values, self._rules, out)
        self._check_frozen(good_rows, good_ts, good_values, out)
        mem.held[good_rows] = good_values

        mem.last_ts[rows] = ts
        mem.last_value[rows] = values
        mem.ref_ts[rows] = ts
        mem.ref_set[rows] = True

    def _check_frozen(
        self,
        rows: Rows,
        ts: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
        out: EventCollector,
    ) -> None:
        mem = self._mem
        reference = mem.frozen_value[rows]
        has_reference = ~np.isnan(reference)
        same = has_reference & (values == reference)
        was_frozen = mem.frozen[rows]
        thawed = was_frozen & has_reference & ~same
        restart = ~same
        mem.frozen_value[rows[restart]] = values[restart]
        mem.frozen_since[rows[restart]] = ts[restart]
        after = self._table.frozen_after_ms[rows]
        held_for = ts - mem.frozen_since[rows]
        stuck = same & ~was_frozen & (after > 0) & (held_for >= after)
        for mask, active in ((thawed, False), (stuck, True)):
            out.add(rows[mask], FROZEN, active=active, at=ts[mask], values=values[mask])
            mem.frozen[rows[mask]] = active


def _passes(pick: Rows, tags: Rows) -> Iterator[Rows]:
    """Split readings sorted by (tag, time) into passes by occurrence rank.

    Pass ``r`` holds the ``r``-th reading of every tag that has more than ``r``; with the
    groups ordered by size, those are a prefix, so all passes together cost O(readings).
    """
    if not len(pick):
        return
    starts = np.flatnonzero(_group_starts(tags))
    if len(starts) == len(tags):
        yield pick
        return
    sizes = np.diff(starts, append=len(tags))
    by_size = np.argsort(-sizes, kind="stable")
    starts, sizes = starts[by_size], sizes[by_size]
    counts = np.searchsorted(-sizes, -np.arange(sizes[0]), side="left")
    for rank, count in enumerate(counts.tolist()):
        yield pick[starts[:count] + rank]


def _group_starts(sorted_tags: Rows) -> npt.NDArray[np.bool_]:
    """True where a run of equal tag ids begins (input sorted by tag)."""
    starts = np.ones(len(sorted_tags), dtype=np.bool_)
    starts[1:] = sorted_tags[1:] != sorted_tags[:-1]
    return starts
