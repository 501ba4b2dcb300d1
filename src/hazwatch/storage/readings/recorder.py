"""The reading store's logic, the same on every database; a ``Backend`` does the SQL.

Writing a batch:

1. Sort by (tag, ts): B-tree inserts in key order touch each page once, and the sort finds
   repeats inside the batch (the first of equal readings is kept).
2. Screen for duplicates. Streaming data is newer than the newest stored reading of its tag
   (kept in an array indexed by tag id), so it needs no lookup and goes in by a plain bulk
   insert. Only readings at or before that newest timestamp (replays) are looked up. If the
   plain insert still meets a stored reading (another writer), the whole batch is screened.
3. Fold the written readings into the open minutes (``rollup.MinuteAccumulator``) and merge
   the minutes that closed into ``rollups_1m``: raw rows and the rollups they complete are
   committed in one transaction.
4. New readings land in ``readings_recent`` (see ``schema``). Once it holds ``MOVE_ROWS``
   readings, each following write also moves one part of it (a set of tags) to
   ``readings``, so the cost of a round of moves is spread over several batches.

Crash safety: everything in the database is consistent at every commit; only the open
minutes (at most one per tag: the minute of its newest reading) live in memory. Opening the
store rebuilds exactly those rows from raw readings, so a crash loses no rollup. The same
rebuild runs after any failed write, since the memory state may then be ahead of the
database.

One store may write to a database at a time. Reads may come from any thread.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from types import TracebackType
from typing import Self

import numpy as np

from hazwatch.domain.batch import Batch, Mask, Stamps, TagIds
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.storage.readings.arrays import HistoryArrays, RollupArrays
from hazwatch.storage.readings.backend import Backend, DuplicateReadingError
from hazwatch.storage.readings.rollup import (
    NO_MINUTE,
    MinuteAccumulator,
    MinuteRows,
    combine,
    counted,
    minute_of,
)

NO_READING: Millis = int(np.iinfo(np.int64).min)
MOVE_ROWS = 1_000_000

log = logging.getLogger(__name__)


class Recorder:
    """A ``ReadingStore`` over one database ``Backend``."""

    def __init__(self, backend: Backend, *, move_rows: int = MOVE_ROWS) -> None:
        self._backend = backend
        self._lock = threading.RLock()
        self._newest = np.empty(0, dtype=np.int64)
        self._minutes = MinuteAccumulator()
        self._stream_minute: Millis = NO_MINUTE
        self._consistent = False
        self._closed = False
        self._move_rows = move_rows
        self._moving: int | None = None  # the next part of a round of moves
        self._recover()
        self._recent = backend.recent_count()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _recover(self) -> None:
        tags, newest = self._backend.newest()
        size = int(tags.max()) + 1 if len(tags) else 0
        table = np.full(size, NO_READING, dtype=np.int64)
        table[tags] = newest
        if len(tags):
            buckets = minute_of(newest)
            self._backend.begin()
            try:
                rows = combine(self._backend.aggregate(tags, buckets))
                self._backend.delete_rollups(tags, buckets)
                if len(rows):
                    self._backend.merge_rollups(rows)
                self._backend.commit()
            except BaseException:
                self._backend.rollback()
                raise
        self._newest = table
        self._minutes.reset()
        self._stream_minute = int(minute_of(newest).max()) if len(newest) else NO_MINUTE
        self._consistent = True

    def _abandon(self) -> None:
        """After a failed write: drop the transaction and rebuild state from the database
        (if that fails too, the next call tries again)."""
        with contextlib.suppress(Exception):
            self._backend.rollback()
        with contextlib.suppress(Exception):
            self._recover()

    def _enter(self) -> None:
        if self._closed:
            raise RuntimeError("the reading store is closed")
        if not self._consistent:
            self._recover()

    def write(self, batch: Batch) -> Mask:
        """Store ``batch``; True where a reading was already stored (same tag and ts, or an
        earlier reading of this batch) and was not written again. Raw readings and rollups
        are committed together. Tag ids must be ≥ 0."""
        n = len(batch)
        if n == 0:
            return np.zeros(0, dtype=np.bool_)
        if int(batch.tag.min()) < 0:
            raise ValueError("tag ids must not be negative")
        with self._lock:
            self._enter()
            order = np.lexsort((batch.ts, batch.tag))
            rows = batch.select(order)
            self._reserve(int(rows.tag[-1]) + 1)
            self._backend.prepare(rows.ts)
            self._consistent = False
            try:
                duplicate = self._store(rows)
            except BaseException:
                self._abandon()
                raise
            self._consistent = True
            self._recent += int(np.count_nonzero(~duplicate))
            self._move_step()
        mask = np.empty(n, dtype=np.bool_)
        mask[order] = duplicate
        return mask

    def _move_step(self) -> None:
        """Move the next tag range of ``readings_recent`` if a round of moves is due. A
        failure leaves the readings where they are (both tables are read) until the next."""
        if self._moving is None:
            if self._recent < self._move_rows:
                return
            self._moving = 0
        part = self._moving
        try:
            self._recent -= self._backend.move_recent(part)
        except Exception:
            log.exception("moving recent readings failed; the next write tries again")
            with contextlib.suppress(Exception):
                self._backend.rollback()
            return
        self._moving = part + 1 if part + 1 < self._backend.recent_parts else None
        if self._moving is None:
            self._recent = self._backend.recent_count()

    def _reserve(self, tag_count: int) -> None:
        have = len(self._newest)
        if tag_count > have:
            grow = max(tag_count, 2 * have, 1024) - have
            self._newest = np.concatenate([self._newest, np.full(grow, NO_READING, dtype=np.int64)])

    def _store(self, rows: Batch) -> Mask:
        """Write sorted ``rows`` in one transaction; the duplicate mask in their order."""
        backend = self._backend
        n = len(rows)
        repeated = np.zeros(n, dtype=np.bool_)
        repeated[1:] = (rows.tag[1:] == rows.tag[:-1]) & (rows.ts[1:] == rows.ts[:-1])
        candidate = ~repeated
        replay = rows.ts <= self._newest[rows.tag]
        stored = np.zeros(n, dtype=np.bool_)
        backend.begin()
        try:
            check = candidate & replay
            fresh = candidate & ~replay
            if check.any():
                stored[check] = backend.insert_missing(rows.select(check))
            if fresh.any():
                backend.insert(rows.select(fresh))
        except DuplicateReadingError:
            backend.rollback()
            backend.begin()
            stored[:] = False
            stored[candidate] = backend.insert_missing(rows.select(candidate))
        duplicate = repeated | stored
        written = ~duplicate

        keep = written & counted(rows.value, rows.quality)
        minutes = combine(
            MinuteRows.of_readings(rows.tag[keep], rows.ts[keep], rows.value[keep]),
            presorted=True,
        )
        closed = [self._minutes.absorb(minutes)]
        if len(minutes):
            newest_minute = int(minutes.bucket.max())
            if newest_minute > self._stream_minute:
                self._stream_minute = newest_minute
                # Quiet tags: write their open minute once the stream is a minute past it.
                closed.append(self._minutes.close_before(newest_minute - MINUTE_MS))
        out = MinuteRows.concat(closed)
        if len(out):
            backend.merge_rollups(combine(out))
        backend.commit()
        self._advance(rows.tag[written], rows.ts[written])
        return duplicate

    def _advance(self, tag: TagIds, ts: Stamps) -> None:
        """Raise the newest timestamps by readings sorted by (tag, ts)."""
        if len(tag) == 0:
            return
        last = np.ones(len(tag), dtype=np.bool_)
        np.not_equal(tag[1:], tag[:-1], out=last[:-1])
        tags = tag[last]
        self._newest[tags] = np.maximum(self._newest[tags], ts[last])

    def last_timestamps(self) -> dict[int, Millis]:
        """The newest stored timestamp of every tag that has readings (epoch ms)."""
        with self._lock:
            self._enter()
            tags = np.flatnonzero(self._newest != NO_READING)
            return dict(zip(tags.tolist(), self._newest[tags].tolist(), strict=True))

    def raw(self, tag_id: int, start: Millis, end: Millis, limit: int) -> HistoryArrays:
        """The first ``limit`` readings of ``tag_id`` with ``start <= ts < end``, ascending."""
        if limit <= 0 or start >= end:
            return HistoryArrays.empty()
        return self._backend.raw(tag_id, start, end, limit)

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> RollupArrays:
        """The one-minute rollups of ``tag_id`` whose minute overlaps ``[start, end)``,
        ascending by minute, including the minute still open in memory."""
        if start >= end:
            return RollupArrays.of(MinuteRows.empty())
        with self._lock:
            self._enter()
            stored = self._backend.rollups(tag_id, start, end)
            part = self._minutes.open_part(tag_id)
        if len(part) and start - MINUTE_MS < int(part.bucket[0]) < end:
            stored = combine(MinuteRows.concat([stored, part]))
        return RollupArrays.of(stored)

    def purge_raw(self, older_than: Millis) -> int:
        """Delete raw readings with ``ts < older_than``; the number deleted."""
        with self._lock:
            self._enter()
            return self._backend.purge_raw(older_than)

    def purge_rollups(self, older_than: Millis) -> int:
        """Delete rollups of minutes that start before ``older_than``; the number deleted."""
        with self._lock:
            self._enter()
            return self._backend.purge_rollups(older_than)

    def flush(self) -> None:
        """Merge every open minute into ``rollups_1m`` (they stay open for later readings)."""
        with self._lock:
            self._enter()
            rows = self._minutes.drain()
            if not len(rows):
                return
            self._consistent = False
            try:
                self._backend.begin()
                self._backend.merge_rollups(rows)
                self._backend.commit()
            except BaseException:
                self._abandon()
                raise
            self._consistent = True

    def close(self) -> None:
        """Flush and release the writer connection. Later calls raise ``RuntimeError``."""
        with self._lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                self._closed = True
                self._backend.close()
