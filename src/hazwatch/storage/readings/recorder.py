"""The reading store's logic, the same on every database; a ``Backend`` does the SQL.

Writing a batch:

1. Sort by (tag, ts): the sort finds repeats inside the batch (the first of equal readings
   is kept) and groups readings by part.
2. Screen for duplicates. Streaming data is newer than the newest stored reading of its tag
   (kept in an array indexed by tag id), so it needs no lookup. Only readings at or before
   that newest timestamp (replays) are looked up, in the blocks and log of their tags.
3. Append the new readings to ``reading_log``, one row per part (see ``blocks``).
4. Fold them into the open minutes (``rollup.MinuteAccumulator``) and merge the minutes
   that closed into ``rollups_1m``: readings and the rollups they complete are committed in
   one transaction.
5. Once a part's log holds ``compact_readings`` readings, the write also compacts it: its
   log rows become one block per tag and day, in a transaction of its own. One part per
   write, so the cost is spread over writes.

Crash safety: everything in the database is consistent at every commit; only the open
minutes (at most one per tag: the minute of its newest reading) live in memory. Opening the
store rebuilds exactly those rows from raw readings, so a crash loses no rollup. The same
rebuild runs after any failed write, since the memory state may then be ahead of the
database.

One store may write to a database at a time; should a second writer slip in, readings
stay unique per (tag, ts) where rows meet (compaction, reads), the first one kept. Reads
may come from any thread.
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
from hazwatch.storage.readings.backend import Backend, DuplicateBlockError
from hazwatch.storage.readings.blocks import Readings, block_rows, log_rows, part_of
from hazwatch.storage.readings.rollup import (
    NO_MINUTE,
    MinuteAccumulator,
    MinuteRows,
    combine,
    counted,
    minute_of,
)

NO_READING: Millis = int(np.iinfo(np.int64).min)
COMPACT_READINGS = 65_536
"""Readings in one part's log that make the next write compact it: about 64 per tag of
a full part (``blocks.PART_TAGS``), more where a part has fewer tags."""

log = logging.getLogger(__name__)


class Recorder:
    """A ``ReadingStore`` over one database ``Backend``."""

    def __init__(self, backend: Backend, *, compact_readings: int = COMPACT_READINGS) -> None:
        self._backend = backend
        self._lock = threading.RLock()
        self._newest = np.empty(0, dtype=np.int64)
        self._minutes = MinuteAccumulator()
        self._stream_minute: Millis = NO_MINUTE
        self._consistent = False
        self._closed = False
        self._compact_readings = compact_readings
        self._recover()
        self._pending = backend.pending()

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
                rows = self._aggregate(tags, buckets)
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

    def _aggregate(self, tags: TagIds, buckets: Stamps) -> MinuteRows:
        """Rollups of the minutes ``buckets`` of ``tags`` (distinct, ascending), computed
        from the stored readings."""
        readings = (
            self._backend.read(tags, buckets, buckets + MINUTE_MS)
            .within(tags, buckets, buckets + MINUTE_MS)
            .unique()
        )
        keep = counted(readings.value, readings.quality)
        return combine(
            MinuteRows.of_readings(readings.tag[keep], readings.ts[keep], readings.value[keep]),
            presorted=True,
        )

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
            self._consistent = False
            try:
                duplicate = self._store(rows)
            except BaseException:
                self._abandon()
                raise
            self._consistent = True
            self._compact_step()
        mask = np.empty(n, dtype=np.bool_)
        mask[order] = duplicate
        return mask

    def _compact_step(self) -> None:
        """Compact the fullest part if it is due. A failure leaves the readings in the log
        (which is read too) until the next write tries again."""
        if not self._pending:
            return
        part, waiting = max(self._pending.items(), key=lambda item: item[1])
        if waiting < self._compact_readings:
            return
        try:
            self._pending[part] -= self._compact(part)
        except Exception:
            log.exception("compacting part %d of the reading log failed", part)
            with contextlib.suppress(Exception):
                self._backend.rollback()
            return
        if self._pending[part] <= 0:
            del self._pending[part]

    def _compact(self, part: int) -> int:
        """Turn the log rows of ``part`` into blocks; how many readings they held."""
        backend = self._backend
        backend.begin()
        try:
            through, logged = backend.log(part)
            backend.drop_log(part, through)
            readings = logged.unique()
            try:
                backend.add_blocks(block_rows(readings))
            except DuplicateBlockError:
                # Another writer stored some of these readings: keep the stored ones.
                backend.rollback()
                backend.begin()
                through, logged = backend.log(part)
                backend.drop_log(part, through)
                readings = logged.unique()
                backend.add_blocks(block_rows(readings.select(~self._stored(readings))))
            backend.commit()
        except BaseException:
            backend.rollback()
            raise
        return len(logged)

    def _stored(self, readings: Readings) -> Mask:
        """Which of ``readings`` (sorted by (tag, ts), unique) are stored."""
        tag, ts = readings.tag, readings.ts
        last = np.ones(len(tag), dtype=np.bool_)
        np.not_equal(tag[1:], tag[:-1], out=last[:-1])
        first = np.concatenate(([True], last[:-1]))
        tags, start, end = tag[last], ts[first], ts[last] + 1
        have = self._backend.read(tags, start, end).within(tags, start, end)
        return _members(tag, ts, have)

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
        duplicate = repeated.copy()
        backend.begin()
        check = ~repeated & (rows.ts <= self._newest[rows.tag])
        if check.any():
            duplicate[check] = self._stored(Readings.of_batch(rows.select(check)))
        written = ~duplicate
        new = rows.select(written) if not written.all() else rows
        backend.append(log_rows(new))

        keep = counted(new.value, new.quality)
        minutes = combine(
            MinuteRows.of_readings(new.tag[keep], new.ts[keep], new.value[keep]),
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
        self._advance(new.tag, new.ts)
        parts, counts = np.unique(part_of(new.tag), return_counts=True)
        for part, count in zip(parts.tolist(), counts.tolist(), strict=True):
            self._pending[part] = self._pending.get(part, 0) + count
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
        tag = np.array([tag_id], dtype=np.int32)
        first = np.array([start], dtype=np.int64)
        stop = np.array([end], dtype=np.int64)
        found = self._backend.read(tag, first, stop, writer=False).within(tag, first, stop)
        readings = found.unique()
        if len(readings) > limit:
            readings = readings.select(np.arange(limit))
        return HistoryArrays(
            ts=readings.ts,
            value=readings.value,
            quality=readings.quality,
            server_ts=readings.server,
        )

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


def _members(tag: TagIds, ts: Stamps, have: Readings) -> Mask:
    """Which of the readings (tag, ts), distinct, are among ``have``."""
    n = len(tag)
    all_tag = np.concatenate([tag, have.tag])
    all_ts = np.concatenate([ts, have.ts])
    stored = np.concatenate([np.zeros(n, dtype=np.int8), np.ones(len(have), dtype=np.int8)])
    order = np.lexsort((stored, all_ts, all_tag))  # a query sorts just before its match
    t, s, asked = all_tag[order], all_ts[order], order < n
    matched = np.zeros(len(order), dtype=np.bool_)
    matched[:-1] = (t[1:] == t[:-1]) & (s[1:] == s[:-1]) & ~asked[1:]
    found = np.zeros(n, dtype=np.bool_)
    found[order[asked]] = matched[asked]
    return found
