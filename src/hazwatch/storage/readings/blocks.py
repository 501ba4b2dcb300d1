"""Readings packed into blobs of numpy columns: the rows of ``reading_log`` and
``reading_blocks`` (see ``schema``), and the columns they decode to.

A database row per reading costs a B-tree insert per reading; at 100,000 tags that alone
caps the store below the rate plants produce. Here a row holds many readings as
little-endian column blobs (``ts`` int64 ms, ``value`` float64, ``quality`` uint8,
``received`` int64 ms, and ``server`` int64 ms — the OPC UA server timestamp — or NULL
where no reading of the row has one), so a write costs a few rows however many readings it
carries:

* a *log row* holds the new readings of one write that belong to one *part* (a range of
  ``PART_TAGS`` tag ids), with their tag ids;
* a *block row* holds readings of one tag and one UTC day, ascending by ``ts``;
  ``t0``/``t1`` are its first and last timestamps.

Everything here is pure numpy; the backends move these rows in and out of their database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.batch import NO_STAMP, Batch, Mask, Qualities, Stamps, TagIds, Values
from hazwatch.domain.clock import DAY_MS

PART_TAGS = 1024
"""Tag ids per part: ``part = tag_id // PART_TAGS``. A log row holds one part's readings,
so a chart of one tag reads the log rows of its part only."""

TAG = np.dtype("<i4")
STAMP = np.dtype("<i8")
VALUE = np.dtype("<f8")
QUALITY = np.dtype("u1")


@dataclass(frozen=True, slots=True, kw_only=True)
class Readings:
    """Stored readings as columns, one element per reading (``received`` per reading)."""

    tag: TagIds
    ts: Stamps
    value: Values
    quality: Qualities
    received: Stamps
    server: Stamps
    """``Batch.server_ts``, ``NO_STAMP`` where there is none"""

    def __len__(self) -> int:
        return len(self.tag)

    @classmethod
    def empty(cls) -> Readings:
        return cls(
            tag=np.empty(0, dtype=np.int32),
            ts=np.empty(0, dtype=np.int64),
            value=np.empty(0, dtype=np.float64),
            quality=np.empty(0, dtype=np.uint8),
            received=np.empty(0, dtype=np.int64),
            server=np.empty(0, dtype=np.int64),
        )

    @classmethod
    def of_batch(cls, batch: Batch) -> Readings:
        return cls(
            tag=batch.tag,
            ts=batch.ts,
            value=batch.value,
            quality=batch.quality,
            received=np.full(len(batch), batch.received, dtype=np.int64),
            server=batch.servers(),
        )

    @classmethod
    def concat(cls, parts: Sequence[Readings]) -> Readings:
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        if len(parts) == 1:
            return parts[0]
        return cls(
            tag=np.concatenate([p.tag for p in parts]),
            ts=np.concatenate([p.ts for p in parts]),
            value=np.concatenate([p.value for p in parts]),
            quality=np.concatenate([p.quality for p in parts]),
            received=np.concatenate([p.received for p in parts]),
            server=np.concatenate([p.server for p in parts]),
        )

    def select(self, index: npt.NDArray[np.intp] | Mask) -> Readings:
        return Readings(
            tag=self.tag[index],
            ts=self.ts[index],
            value=self.value[index],
            quality=self.quality[index],
            received=self.received[index],
            server=self.server[index],
        )

    def unique(self) -> Readings:
        """Sorted by (tag, ts), the first of readings with equal (tag, ts) kept: the store's
        idempotency, applied again wherever readings of two rows meet."""
        order = np.lexsort((self.ts, self.tag))
        tag, ts = self.tag[order], self.ts[order]
        first = np.ones(len(order), dtype=np.bool_)
        first[1:] = (tag[1:] != tag[:-1]) | (ts[1:] != ts[:-1])
        return self.select(order[first])

    def within(self, tag: TagIds, start: Stamps, end: Stamps) -> Readings:
        """The readings of the given tags (distinct, ascending) in their ``[start, end)``."""
        if not len(self) or not len(tag):
            return Readings.empty()
        at = np.searchsorted(tag, self.tag).clip(0, len(tag) - 1)
        keep = (tag[at] == self.tag) & (self.ts >= start[at]) & (self.ts < end[at])
        return self.select(keep)


def part_of(tag: TagIds) -> npt.NDArray[np.int64]:
    return tag.astype(np.int64) // PART_TAGS


@dataclass(frozen=True, slots=True, kw_only=True)
class LogRow:
    """One row of ``reading_log``: the readings of one write in one part."""

    part: int
    received: int
    n: int
    t0: int
    t1: int
    tag: bytes
    ts: bytes
    value: bytes
    quality: bytes
    server: bytes | None


@dataclass(frozen=True, slots=True, kw_only=True)
class BlockRow:
    """One row of ``reading_blocks``: readings of one tag ascending by ts, ``t0`` … ``t1``."""

    tag: int
    t0: int
    t1: int
    n: int
    ts: bytes
    value: bytes
    quality: bytes
    received: bytes
    server: bytes | None


Index = npt.NDArray[np.intp]


def _groups(key: npt.NDArray[np.int64]) -> tuple[Index, Index]:
    """Start and end of each run of equal neighbours in ``key``."""
    starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
    ends = np.concatenate((starts[1:], [len(key)]))
    return starts, ends


def log_rows(batch: Batch) -> list[LogRow]:
    """The log rows of ``batch`` (sorted by tag), one per part it touches."""
    if not len(batch):
        return []
    tag = batch.tag.astype(TAG, copy=False)
    ts = batch.ts.astype(STAMP, copy=False)
    value = batch.value.astype(VALUE, copy=False)
    quality = batch.quality.astype(QUALITY, copy=False)
    server = None if batch.server_ts is None else batch.server_ts.astype(STAMP, copy=False)
    starts, ends = _groups(part_of(batch.tag))
    rows = []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        span = ts[a:b]
        rows.append(
            LogRow(
                part=int(batch.tag[a]) // PART_TAGS,
                received=int(batch.received),
                n=b - a,
                t0=int(span.min()),
                t1=int(span.max()),
                tag=tag[a:b].tobytes(),
                ts=span.tobytes(),
                value=value[a:b].tobytes(),
                quality=quality[a:b].tobytes(),
                server=_blob(server, a, b),
            )
        )
    return rows


def _blob(server: Stamps | None, a: int, b: int) -> bytes | None:
    """The server stamps ``a:b`` as a blob, or None (NULL) where none of them is set."""
    if server is None or not server[a:b].any():
        return None
    return server[a:b].tobytes()


def _stamps(blob: bytes | None, n: int) -> Stamps:
    if blob is None:
        return np.full(n, NO_STAMP, dtype=np.int64)
    return np.frombuffer(blob, dtype=STAMP).astype(np.int64)


def from_log(rows: Sequence[tuple[int, bytes, bytes, bytes, bytes, bytes | None]]) -> Readings:
    """Readings of log rows given as ``(received, tag, ts, value, quality, server)``."""
    if not rows:
        return Readings.empty()
    tag = [np.frombuffer(r[1], dtype=TAG) for r in rows]
    return Readings(
        tag=np.concatenate(tag).astype(np.int32),
        ts=np.concatenate([np.frombuffer(r[2], dtype=STAMP) for r in rows]).astype(np.int64),
        value=np.concatenate([np.frombuffer(r[3], dtype=VALUE) for r in rows]).astype(np.float64),
        quality=np.concatenate([np.frombuffer(r[4], dtype=QUALITY) for r in rows]),
        received=np.repeat(np.array([r[0] for r in rows], dtype=np.int64), [len(t) for t in tag]),
        server=np.concatenate([_stamps(r[5], len(t)) for r, t in zip(rows, tag, strict=True)]),
    )


def block_rows(readings: Readings) -> list[BlockRow]:
    """One block row per tag and UTC day of ``readings``, which are sorted by (tag, ts) and
    unique."""
    if not len(readings):
        return []
    ts = readings.ts.astype(STAMP, copy=False)
    value = readings.value.astype(VALUE, copy=False)
    quality = readings.quality.astype(QUALITY, copy=False)
    received = readings.received.astype(STAMP, copy=False)
    server = readings.server.astype(STAMP, copy=False)
    day = ts // DAY_MS
    new = np.concatenate(([True], (readings.tag[1:] != readings.tag[:-1]) | (day[1:] != day[:-1])))
    starts = np.flatnonzero(new)
    ends = np.concatenate((starts[1:], [len(ts)]))
    return [
        BlockRow(
            tag=int(readings.tag[a]),
            t0=int(ts[a]),
            t1=int(ts[b - 1]),
            n=b - a,
            ts=ts[a:b].tobytes(),
            value=value[a:b].tobytes(),
            quality=quality[a:b].tobytes(),
            received=received[a:b].tobytes(),
            server=_blob(server, a, b),
        )
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def from_blocks(rows: Sequence[tuple[int, bytes, bytes, bytes, bytes, bytes | None]]) -> Readings:
    """Readings of block rows given as ``(tag, ts, value, quality, received, server)``."""
    if not rows:
        return Readings.empty()
    ts = [np.frombuffer(r[1], dtype=STAMP) for r in rows]
    return Readings(
        tag=np.repeat(np.array([r[0] for r in rows], dtype=np.int32), [len(t) for t in ts]),
        ts=np.concatenate(ts).astype(np.int64),
        value=np.concatenate([np.frombuffer(r[2], dtype=VALUE) for r in rows]).astype(np.float64),
        quality=np.concatenate([np.frombuffer(r[3], dtype=QUALITY) for r in rows]),
        received=np.concatenate([np.frombuffer(r[4], dtype=STAMP) for r in rows]).astype(np.int64),
        server=np.concatenate([_stamps(r[5], len(t)) for r, t in zip(rows, ts, strict=True)]),
    )
