"""One-minute rollups: aggregates of readings per tag and minute, and the open minutes.

A rollup row covers the readings of one tag whose timestamp lies in
``[bucket, bucket + MINUTE_MS)`` and holds their ``min``, ``max``, ``sum``, ``count`` and the
value (``last``) at the newest timestamp (``last_ts``); ``avg = sum / count``. Two rows of the
same tag and minute built from disjoint readings *merge* into the row of all of them: min of
mins, max of maxes, sums and counts added, ``last`` of the newer ``last_ts``. Every write of a
rollup is such a merge, so a minute may be written in parts (late data, flushes) in any order.

Only readings of good or uncertain quality with a number for a value count: a reading of bad
quality has no trustworthy value (IEC 62541-8 status ``Bad``) and a chart must not draw it.

``MinuteAccumulator`` keeps, per tag, the newest minute seen (the *open* minute) in numpy
arrays; it hands back rows to write only when a minute closes (a reading of a later minute
arrives, ``close_before`` for minutes the stream has left behind, ``drain`` on flush), so the
write cost is per tag and minute, not per reading.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.batch import Qualities, Quality, Stamps, TagIds, Values
from hazwatch.domain.clock import MINUTE_MS, Millis

Counts = npt.NDArray[np.int64]

NO_MINUTE: Millis = int(np.iinfo(np.int64).min)
"""Bucket of a tag without an open minute (sorts before every real minute)."""


def minute_of(ts: Stamps) -> Stamps:
    """The start of the minute of each timestamp (epoch ms, floor, also before 1970)."""
    return ts - ts % MINUTE_MS


def counted(value: Values, quality: Qualities) -> npt.NDArray[np.bool_]:
    """Which readings enter rollups: good or uncertain quality and a value that is a number."""
    usable: npt.NDArray[np.bool_] = (quality != Quality.BAD.value) & ~np.isnan(value)
    return usable


@dataclass(frozen=True, slots=True, kw_only=True)
class MinuteRows:
    """Rollup rows (or parts of them), one element per (tag, bucket)."""

    tag: TagIds
    bucket: Stamps
    min: Values
    max: Values
    sum: Values
    count: Counts
    last: Values
    last_ts: Stamps

    def __len__(self) -> int:
        return len(self.tag)

    @classmethod
    def empty(cls) -> MinuteRows:
        stamps = np.empty(0, dtype=np.int64)
        values = np.empty(0, dtype=np.float64)
        return cls(
            tag=np.empty(0, dtype=np.int32),
            bucket=stamps,
            min=values,
            max=values,
            sum=values,
            count=np.empty(0, dtype=np.int64),
            last=values,
            last_ts=stamps,
        )

    @classmethod
    def of_readings(cls, tag: TagIds, ts: Stamps, value: Values) -> MinuteRows:
        """One single-reading row per reading (merge them with ``combine``)."""
        return cls(
            tag=tag,
            bucket=minute_of(ts),
            min=value,
            max=value,
            sum=value,
            count=np.ones(len(tag), dtype=np.int64),
            last=value,
            last_ts=ts,
        )

    def select(self, index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> MinuteRows:
        return MinuteRows(
            tag=self.tag[index],
            bucket=self.bucket[index],
            min=self.min[index],
            max=self.max[index],
            sum=self.sum[index],
            count=self.count[index],
            last=self.last[index],
            last_ts=self.last_ts[index],
        )

    @staticmethod
    def concat(parts: list[MinuteRows]) -> MinuteRows:
        parts = [p for p in parts if len(p)]
        if not parts:
            return MinuteRows.empty()
        if len(parts) == 1:
            return parts[0]
        return MinuteRows(
            tag=np.concatenate([p.tag for p in parts]),
            bucket=np.concatenate([p.bucket for p in parts]),
            min=np.concatenate([p.min for p in parts]),
            max=np.concatenate([p.max for p in parts]),
            sum=np.concatenate([p.sum for p in parts]),
            count=np.concatenate([p.count for p in parts]),
            last=np.concatenate([p.last for p in parts]),
            last_ts=np.concatenate([p.last_ts for p in parts]),
        )


def combine(rows: MinuteRows, *, presorted: bool = False) -> MinuteRows:
    """Merge the rows of equal (tag, bucket): one row per key, sorted by tag then bucket.

    ``presorted``: the rows are already ordered by (tag, bucket, last_ts), as readings sorted
    by (tag, ts) are; this skips the sort.
    """
    if len(rows) == 0:
        return rows
    if not presorted:
        rows = rows.select(np.lexsort((rows.last_ts, rows.bucket, rows.tag)))
    n = len(rows)
    boundary = np.empty(n, dtype=np.bool_)
    boundary[0] = True
    np.not_equal(rows.tag[1:], rows.tag[:-1], out=boundary[1:])
    boundary[1:] |= rows.bucket[1:] != rows.bucket[:-1]
    starts = np.flatnonzero(boundary)
    if len(starts) == n:
        return rows
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:] - 1
    ends[-1] = n - 1
    return MinuteRows(
        tag=rows.tag[starts],
        bucket=rows.bucket[starts],
        min=np.minimum.reduceat(rows.min, starts),
        max=np.maximum.reduceat(rows.max, starts),
        sum=np.add.reduceat(rows.sum, starts),
        count=np.add.reduceat(rows.count, starts),
        last=rows.last[ends],
        last_ts=rows.last_ts[ends],
    )


class MinuteAccumulator:
    """The open minute of every tag, as numpy arrays indexed by tag id.

    A tag's open minute is the newest minute it has readings in. Its accumulators may be
    empty (``count == 0``) after ``close_before`` or ``drain`` wrote them out; readings that
    arrive later for the same minute start a new part, merged into the stored row when written.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every open minute (their rows must be rebuilt from raw readings)."""
        self._bucket = np.empty(0, dtype=np.int64)
        self._min = np.empty(0, dtype=np.float64)
        self._max = np.empty(0, dtype=np.float64)
        self._sum = np.empty(0, dtype=np.float64)
        self._count = np.empty(0, dtype=np.int64)
        self._last = np.empty(0, dtype=np.float64)
        self._last_ts = np.empty(0, dtype=np.int64)

    def _reserve(self, tag_count: int) -> None:
        have = len(self._bucket)
        if tag_count <= have:
            return
        size = max(tag_count, 2 * have, 1024)
        grow = size - have
        self._bucket = np.concatenate([self._bucket, np.full(grow, NO_MINUTE, dtype=np.int64)])
        self._min = np.concatenate([self._min, np.full(grow, np.inf)])
        self._max = np.concatenate([self._max, np.full(grow, -np.inf)])
        self._sum = np.concatenate([self._sum, np.zeros(grow)])
        self._count = np.concatenate([self._count, np.zeros(grow, dtype=np.int64)])
        self._last = np.concatenate([self._last, np.full(grow, np.nan)])
        self._last_ts = np.concatenate([self._last_ts, np.full(grow, NO_MINUTE, dtype=np.int64)])

    def _rows(self, tags: npt.NDArray[np.intp]) -> MinuteRows:
        return MinuteRows(
            tag=tags.astype(np.int32),
            bucket=self._bucket[tags],
            min=self._min[tags],
            max=self._max[tags],
            sum=self._sum[tags],
            count=self._count[tags],
            last=self._last[tags],
            last_ts=self._last_ts[tags],
        )

    def _clear(self, tags: npt.NDArray[np.intp]) -> None:
        self._min[tags] = np.inf
        self._max[tags] = -np.inf
        self._sum[tags] = 0.0
        self._count[tags] = 0
        self._last[tags] = np.nan
        self._last_ts[tags] = NO_MINUTE

    def absorb(self, rows: MinuteRows) -> MinuteRows:
        """Take new rows (distinct keys, sorted by tag and bucket, as ``combine`` returns).

        Returns the rows to merge into storage now: rows for minutes before a tag's open
        minute (late data), complete minutes skipped over, and open minutes that a newer
        minute closes. The returned rows have distinct keys, none equal to an open minute.
        """
        if len(rows) == 0:
            return rows
        self._reserve(int(rows.tag.max()) + 1)
        open_bucket = self._bucket[rows.tag]
        late = rows.bucket < open_bucket
        same = rows.bucket == open_bucket
        newer = rows.bucket > open_bucket
        last_of_tag = np.ones(len(rows), dtype=np.bool_)
        np.not_equal(rows.tag[1:], rows.tag[:-1], out=last_of_tag[:-1])
        opening = newer & last_of_tag
        passed = newer & ~last_of_tag

        if same.any():
            self._merge(rows.select(same))
        opened = rows.tag[opening].astype(np.intp)
        closed = self._rows(opened)
        closed = closed.select(closed.count > 0)
        if len(opened):
            fresh = rows.select(opening)
            self._bucket[opened] = fresh.bucket
            self._min[opened] = fresh.min
            self._max[opened] = fresh.max
            self._sum[opened] = fresh.sum
            self._count[opened] = fresh.count
            self._last[opened] = fresh.last
            self._last_ts[opened] = fresh.last_ts
        return MinuteRows.concat([rows.select(late), rows.select(passed), closed])

    def _merge(self, rows: MinuteRows) -> None:
        tags = rows.tag.astype(np.intp)
        self._min[tags] = np.minimum(self._min[tags], rows.min)
        self._max[tags] = np.maximum(self._max[tags], rows.max)
        self._sum[tags] += rows.sum
        self._count[tags] += rows.count
        newer = rows.last_ts >= self._last_ts[tags]
        self._last[tags] = np.where(newer, rows.last, self._last[tags])
        self._last_ts[tags] = np.maximum(self._last_ts[tags], rows.last_ts)

    def close_before(self, bucket: Millis) -> MinuteRows:
        """Hand out (and empty) the open minutes that start before ``bucket``: minutes of
        tags that went quiet, so that storage does not wait for their next reading."""
        tags = np.flatnonzero((self._count > 0) & (self._bucket < bucket))
        rows = self._rows(tags)
        self._clear(tags)
        return rows

    def drain(self) -> MinuteRows:
        """Hand out (and empty) every open minute that holds readings."""
        return self.close_before(int(np.iinfo(np.int64).max))

    def open_part(self, tag_id: int) -> MinuteRows:
        """The not yet written part of ``tag_id``'s open minute (zero or one row)."""
        if not 0 <= tag_id < len(self._count) or self._count[tag_id] == 0:
            return MinuteRows.empty()
        return self._rows(np.array([tag_id], dtype=np.intp))
