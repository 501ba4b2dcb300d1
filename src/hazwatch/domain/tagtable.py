"""The tags of a plant as numpy columns indexed by tag id: what the hot path looks up.

Tag ids are small dense database integers, so every column has ``max_id + 1`` rows and a
reading's tag id is directly its row; rows of ids that are not tags have ``known`` false
and neutral values (no limits, no checks). Limit columns have shape ``(n, 4)`` in the order
of ``LIMIT_KINDS``: HH, H, L, LL. Times are milliseconds; ``0`` means "not checked" for
``offline_after_ms`` and ``frozen_after_ms``. The table is immutable: a plant change builds a
new one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hazwatch.domain.tag import LIMIT_KINDS, LINK_KINDS, ConditionKind, Priority, Tag

DEFAULT_PRIORITY = Priority.MEDIUM
"""Priority of a condition the table does not describe (the plant file's default)."""

# Conditions about the health of the signal rather than the process share one priority.
_SIGNAL_KINDS = (ConditionKind.OFFLINE, ConditionKind.FROZEN, ConditionKind.BAD_QUALITY)


# Limits come first, so a kind's column is the same in the limit columns (HH, H, L, LL) and
# in ``priority_code`` (every kind the table evaluates; link kinds are not among them).
_KIND_COLUMN = {kind: i for i, kind in enumerate((*LIMIT_KINDS, *_SIGNAL_KINDS))}
# Link conditions are judged from reported health; a lost device outranks a degraded link.
LINK_PRIORITY = {ConditionKind.DEVICE_OFFLINE: Priority.HIGH, ConditionKind.DEGRADED: Priority.LOW}
_PRIORITIES = tuple(Priority)
_CODE = {priority: i for i, priority in enumerate(_PRIORITIES)}


def _ms(seconds: list[float]) -> npt.NDArray[np.int64]:
    return np.rint(np.array(seconds, dtype=np.float64) * 1000).astype(np.int64)


def _column(
    size: int, empty: float, rows: npt.NDArray[np.intp], values: npt.ArrayLike
) -> npt.NDArray[Any]:
    """A column of ``size`` rows holding ``values`` at ``rows`` and ``empty`` elsewhere."""
    dtype = np.int64 if isinstance(empty, int) else np.float64
    column = np.full(size, empty, dtype=dtype)
    column[rows] = values
    return column


def _frozen(array: npt.NDArray[np.generic]) -> None:
    array.setflags(write=False)


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class TagTable:
    """Columns of tag settings, row = tag id. Build with ``TagTable.build``.

    ``known[i]`` — a tag with id ``i`` exists. ``range_lo``/``range_hi`` — instrument range.
    ``period_ms`` — nominal reporting period. ``offline_after_ms`` — silence that raises
    OFFLINE. ``frozen_after_ms`` — unchanged value that raises FROZEN (0 = not checked).
    ``limit_value``/``limit_enabled``/``deadband``/``on_delay_ms``/``off_delay_ms`` —
    per limit, columns HH, H, L, LL; a disabled limit has value NaN and zero settings.
    ``priority_code`` — per condition (columns in ``ConditionKind`` order), the index of its
    priority in ``Priority``; read it through ``priority``.
    """

    known: npt.NDArray[np.bool_]
    range_lo: npt.NDArray[np.float64]
    range_hi: npt.NDArray[np.float64]
    period_ms: npt.NDArray[np.int64]
    offline_after_ms: npt.NDArray[np.int64]
    frozen_after_ms: npt.NDArray[np.int64]
    limit_value: npt.NDArray[np.float64]
    limit_enabled: npt.NDArray[np.bool_]
    deadband: npt.NDArray[np.float64]
    on_delay_ms: npt.NDArray[np.int64]
    off_delay_ms: npt.NDArray[np.int64]
    priority_code: npt.NDArray[np.int8]

    @classmethod
    def build(cls, tags: Sequence[Tag]) -> TagTable:
        """The table of ``tags``; ids must be non-negative and unique."""
        ids = [t.id for t in tags]
        if any(i < 0 for i in ids):
            raise ValueError("tag ids must be non-negative")
        if len(set(ids)) != len(ids):
            raise ValueError("tag ids must be unique")
        n = max(ids, default=-1) + 1
        rows = np.array(ids, dtype=np.intp)
        known = np.zeros(n, dtype=np.bool_)
        known[rows] = True
        range_lo = _column(n, np.nan, rows, [t.range_lo for t in tags])
        range_hi = _column(n, np.nan, rows, [t.range_hi for t in tags])
        period_ms = _column(n, 0, rows, _ms([t.period_s for t in tags]))
        offline = _ms([t.effective_offline_after_s for t in tags])
        offline_after_ms = _column(n, 0, rows, offline)
        frozen = _ms([t.frozen_after_s or 0.0 for t in tags])
        frozen_after_ms = _column(n, 0, rows, frozen)
        shape = (n, len(LIMIT_KINDS))
        limit_value = np.full(shape, np.nan)
        limit_enabled = np.zeros(shape, dtype=np.bool_)
        deadband = np.zeros(shape)
        on_delay_ms = np.zeros(shape, dtype=np.int64)
        off_delay_ms = np.zeros(shape, dtype=np.int64)
        priority_code = np.full((n, len(_KIND_COLUMN)), _CODE[DEFAULT_PRIORITY], dtype=np.int8)
        signal = [_CODE[t.offline_priority] for t in tags]
        for kind in _SIGNAL_KINDS:
            priority_code[rows, _KIND_COLUMN[kind]] = signal
        cells = [(t.id, _KIND_COLUMN[lim.kind], lim) for t in tags for lim in t.limits]
        if cells:
            at = (np.array([c[0] for c in cells]), np.array([c[1] for c in cells]))
            limit_value[at] = [c[2].value for c in cells]
            limit_enabled[at] = True
            deadband[at] = [c[2].deadband for c in cells]
            on_delay_ms[at] = _ms([c[2].on_delay_s for c in cells])
            off_delay_ms[at] = _ms([c[2].off_delay_s for c in cells])
            priority_code[at] = [_CODE[c[2].priority] for c in cells]
        columns = (
            known,
            range_lo,
            range_hi,
            period_ms,
            offline_after_ms,
            frozen_after_ms,
            limit_value,
            limit_enabled,
            deadband,
            on_delay_ms,
            off_delay_ms,
            priority_code,
        )
        for array in columns:
            _frozen(array)
        return cls(
            known=known,
            range_lo=range_lo,
            range_hi=range_hi,
            period_ms=period_ms,
            offline_after_ms=offline_after_ms,
            frozen_after_ms=frozen_after_ms,
            limit_value=limit_value,
            limit_enabled=limit_enabled,
            deadband=deadband,
            on_delay_ms=on_delay_ms,
            off_delay_ms=off_delay_ms,
            priority_code=priority_code,
        )

    @property
    def size(self) -> int:
        """Number of rows: the largest tag id + 1."""
        return len(self.known)

    def knows(self, tag_ids: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
        """Per element of ``tag_ids``: is it a tag of this table (any id value is safe)?"""
        inside = (tag_ids >= 0) & (tag_ids < self.size)
        result = np.zeros(len(tag_ids), dtype=np.bool_)
        result[inside] = self.known[tag_ids[inside]]
        return result

    def priority(self, tag_id: int, condition: ConditionKind) -> Priority:
        """The priority of a condition: the limit's, or the tag's ``offline_priority`` for
        OFFLINE, FROZEN and BAD_QUALITY, ``LINK_PRIORITY`` for link conditions;
        ``DEFAULT_PRIORITY`` for anything not in the table."""
        if condition in LINK_KINDS:
            return LINK_PRIORITY[condition]
        if not 0 <= tag_id < self.size:
            return DEFAULT_PRIORITY
        return _PRIORITIES[int(self.priority_code[tag_id, _KIND_COLUMN[condition]])]

    def has_condition(self, tag_id: int, condition: ConditionKind) -> bool:
        """Whether the table evaluates this condition of this tag (never a link condition:
        those come from reported health)."""
        if not 0 <= tag_id < self.size or not self.known[tag_id] or condition in LINK_KINDS:
            return False
        if condition.is_limit:
            return bool(self.limit_enabled[tag_id, LIMIT_KINDS.index(condition)])
        if condition is ConditionKind.OFFLINE:
            return bool(self.offline_after_ms[tag_id] > 0)
        if condition is ConditionKind.FROZEN:
            return bool(self.frozen_after_ms[tag_id] > 0)
        return True
