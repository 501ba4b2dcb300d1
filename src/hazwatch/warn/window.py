"""The recent readings of every tag, as ring buffers: what a trend is fitted to.

A :class:`TrendWindow` keeps, per tag id, the last ``width`` readings taken, in two
``(size, width)`` arrays (epoch-ms timestamps and values), so that a forecast over thousands
of tags reads its inputs with one gather. Batches are taken whole: no Python loop per
reading. It holds only what it is given: dropping bad-quality readings is the caller's job.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hazwatch.warn.detector import Stamps, Vector

Ids = npt.NDArray[np.int64]

_NEVER = np.iinfo(np.int64).min


class TrendWindow:
    """The last ``width`` good readings of every tag: ``(size, width)`` ring buffers.

    ``ts`` (epoch ms) and ``value`` hold the readings, row = tag id; ``count`` the readings
    a tag has taken since it was created or cleared, so ``fill = min(count, width)`` slots
    are in use (slots ``0 … fill − 1``, in ring order, not time order). ``size`` grows to
    take any tag id pushed, and may exceed the largest id.
    """

    def __init__(self, *, width: int = 32, size: int = 0) -> None:
        if width < 2:
            raise ValueError("a trend needs a window of at least 2 readings")
        self.width = width
        self.ts: npt.NDArray[np.int64] = np.zeros((size, width), dtype=np.int64)
        self.value: Vector = np.zeros((size, width))
        self.count: Ids = np.zeros(size, dtype=np.int64)
        self._last: Ids = np.full(size, _NEVER, dtype=np.int64)

    @property
    def size(self) -> int:
        return len(self.count)

    def fill(self, tag_ids: npt.ArrayLike) -> Ids:
        """Readings in the window of each tag (0 for ids beyond ``size``)."""
        ids = np.asarray(tag_ids, dtype=np.int64)
        inside = (ids >= 0) & (ids < self.size)
        out = np.zeros(len(ids), dtype=np.int64)
        out[inside] = np.minimum(self.count[ids[inside]], self.width)
        return out

    def push(self, tag_ids: npt.ArrayLike, ts: npt.ArrayLike, values: npt.ArrayLike) -> Ids:
        """Take a batch of good readings; returns the distinct tags that took any, ascending.

        The batch is ordered by (tag, ts) here if it is not already. A tag may appear many
        times; only its last ``width`` readings of the batch matter. Dropped: non-finite
        values, readings not newer than the tag's last one taken (a replay or a late
        arrival; a trend needs distinct times), and repeats of a (tag, ts) after the first.
        """
        tag = np.asarray(tag_ids, dtype=np.int64)
        stamp = np.asarray(ts, dtype=np.int64)
        value = np.asarray(values, dtype=np.float64)
        if not len(tag) == len(stamp) == len(value):
            raise ValueError("one tag id and one timestamp per value")
        if len(tag) and tag.min() < 0:
            raise ValueError("tag ids must be non-negative")
        finite = np.isfinite(value)
        if not finite.all():
            tag, stamp, value = tag[finite], stamp[finite], value[finite]
        if len(tag) > 1 and not _ordered(tag, stamp):
            order = np.lexsort((stamp, tag))
            tag, stamp, value = tag[order], stamp[order], value[order]
        if not len(tag):
            return np.zeros(0, dtype=np.int64)
        self._grow(int(tag[-1]) + 1)
        fresh = stamp > self._last[tag]
        fresh[1:] &= (tag[1:] != tag[:-1]) | (stamp[1:] != stamp[:-1])
        tag, stamp, value = tag[fresh], stamp[fresh], value[fresh]
        if not len(tag):
            return np.zeros(0, dtype=np.int64)
        starts = np.flatnonzero(np.r_[True, tag[1:] != tag[:-1]])
        taken = np.diff(np.r_[starts, len(tag)])
        group = np.repeat(np.arange(len(starts)), taken)
        rank = np.arange(len(tag)) - starts[group]
        # Only the last `width` readings of a tag survive; writing the earlier ones too would
        # give one slot two values in one assignment, whose winner numpy does not promise.
        kept = rank >= (taken - self.width)[group]
        tags = tag[starts]
        slot = (self.count[tag[kept]] + rank[kept]) % self.width
        self.ts[tag[kept], slot] = stamp[kept]
        self.value[tag[kept], slot] = value[kept]
        self.count[tags] += taken
        self._last[tags] = stamp[starts + taken - 1]
        return tags

    def clear(self, tag_ids: npt.ArrayLike) -> None:
        """Forget the readings of these tags (after a process change, a recalibration)."""
        ids = np.asarray(tag_ids, dtype=np.int64)
        ids = ids[(ids >= 0) & (ids < self.size)]
        self.count[ids] = 0
        self._last[ids] = _NEVER

    def _grow(self, size: int) -> None:
        if size <= self.size:
            return
        size = max(size, 2 * self.size)
        extra = size - self.size
        self.ts = np.vstack([self.ts, np.zeros((extra, self.width), dtype=np.int64)])
        self.value = np.vstack([self.value, np.zeros((extra, self.width))])
        self.count = np.r_[self.count, np.zeros(extra, dtype=np.int64)]
        self._last = np.r_[self._last, np.full(extra, _NEVER, dtype=np.int64)]


def _ordered(tag: Ids, stamp: Stamps) -> bool:
    step = np.diff(tag)
    return bool(((step > 0) | ((step == 0) & (np.diff(stamp) >= 0))).all())
