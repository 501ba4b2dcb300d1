"""The reading store: raw readings and their one-minute rollups, on SQLite or PostgreSQL.

Tables (created by the migrations or ``schema.create_tables``):

* ``reading_log`` and ``reading_blocks``: readings packed as column blobs (``blocks``), one
  log row per write and part of the tag ids, compacted into one block per tag and day.
  Readings are unique per (tag, ts), times in epoch ms: a replay changes nothing.
* ``rollups_1m (tag_id, bucket, min, max, sum, count, last, last_ts)``, primary key
  ``(tag_id, bucket)``: one row per tag and minute (see ``rollup``).

``open_reading_store(engine)`` picks the implementation for the engine's dialect. It keeps
one writer connection of its own; reads borrow pooled connections of ``engine``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from sqlalchemy import Engine

from hazwatch.domain.batch import Batch, Mask
from hazwatch.domain.clock import Millis
from hazwatch.storage.readings.arrays import HistoryArrays, RollupArrays
from hazwatch.storage.readings.backend import Backend
from hazwatch.storage.readings.blocks import Readings
from hazwatch.storage.readings.postgres import PostgresBackend
from hazwatch.storage.readings.recorder import COMPACT_READINGS, Recorder
from hazwatch.storage.readings.sqlite import SqliteBackend


class ReadingStore(Protocol):
    def write(self, batch: Batch) -> Mask:
        """Store the batch idempotently; True for the readings that were already stored
        (same tag id and ts), which were not written again. Raw rows and rollups are updated
        in one transaction."""
        ...

    def last_timestamps(self) -> dict[int, Millis]:
        """The newest stored ts of every tag with readings."""
        ...

    def raw(self, tag_id: int, start: Millis, end: Millis, limit: int) -> HistoryArrays:
        """At most ``limit`` readings with ``start <= ts < end``, ascending by ts."""
        ...

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> RollupArrays:
        """Rollups whose minute overlaps ``[start, end)``, ascending by minute."""
        ...

    def purge_raw(self, older_than: Millis) -> int:
        """Delete raw readings with ``ts < older_than``; how many went."""
        ...

    def purge_rollups(self, older_than: Millis) -> int:
        """Delete rollups of minutes starting before ``older_than``; how many went."""
        ...

    def flush(self) -> None:
        """Write the rollup state kept in memory."""
        ...

    def close(self) -> None:
        """Flush, then release the store's connection."""
        ...


def open_reading_store(engine: Engine, *, compact_readings: int = COMPACT_READINGS) -> ReadingStore:
    """The store for ``engine``'s database (SQLite file or PostgreSQL), tables already
    created. Opening rebuilds the newest minute of every tag from raw readings, so a crash
    loses no rollup; only one store may write to a database at a time.

    ``compact_readings``: readings in one part's log that make the next write compact it.
    """
    return Recorder(_backend(engine), compact_readings=compact_readings)


def read_rollups(
    engine: Engine, tag_ids: Sequence[int], start: Millis, end: Millis
) -> list[RollupArrays]:
    """The stored rollups of each tag whose minute overlaps ``[start, end)``, without opening
    a store: nothing is written, so this may run beside the platform that writes (it does
    not see the minutes that platform still holds open in memory)."""
    backend = _backend(engine)
    try:
        return [RollupArrays.of(backend.rollups(t, start, end)) for t in tag_ids]
    finally:
        backend.close()


def read_readings(engine: Engine, tag_ids: Sequence[int], start: Millis, end: Millis) -> Readings:
    """The stored readings of these tags with ``start <= ts < end``, each once, sorted by
    (tag, ts), with the time each was received; read-only like ``read_rollups``."""
    tag = np.unique(np.asarray(tag_ids, dtype=np.int32))
    if not len(tag) or start >= end:
        return Readings.empty()
    first = np.full(len(tag), start, dtype=np.int64)
    stop = np.full(len(tag), end, dtype=np.int64)
    backend = _backend(engine)
    try:
        return backend.read(tag, first, stop, writer=False).within(tag, first, stop).unique()
    finally:
        backend.close()


def _backend(engine: Engine) -> Backend:
    dialect = engine.dialect.name
    if dialect == "sqlite":
        return SqliteBackend(engine)
    if dialect == "postgresql":
        return PostgresBackend(engine)
    raise ValueError(f"no reading store for the {dialect} dialect")
