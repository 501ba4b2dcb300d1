"""What each database dialect provides to the reading store: a handful of set operations.

``Recorder`` holds the logic that is the same on every database (duplicate screening, open
minutes, recovery); a ``Backend`` only moves columns in and out of one dialect's tables,
on one writer connection whose transaction the recorder drives (``begin`` … ``commit``).
Reads (``raw``, ``rollups``, ``newest``) may run on other connections of the engine.
"""

from __future__ import annotations

from typing import Protocol

from hazwatch.domain.batch import Batch, Mask, Stamps, TagIds
from hazwatch.domain.clock import Millis
from hazwatch.storage.readings.arrays import HistoryArrays
from hazwatch.storage.readings.rollup import MinuteRows


class DuplicateReadingError(Exception):
    """A plain insert met a stored reading of the same tag and timestamp; the transaction
    is unusable and must be rolled back."""


class Backend(Protocol):
    def newest(self) -> tuple[TagIds, Stamps]:
        """Every tag with raw readings and the timestamp of its newest one."""
        ...

    def prepare(self, ts: Stamps) -> None:
        """Make storage ready, outside any transaction, for readings at ``ts``."""
        ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def insert(self, rows: Batch) -> None:
        """Insert readings none of which is stored (into ``readings_recent``);
        ``DuplicateReadingError`` otherwise."""
        ...

    def insert_missing(self, rows: Batch) -> Mask:
        """Insert the readings not stored yet; True where a reading was already stored."""
        ...

    @property
    def recent_parts(self) -> int:
        """Into how many parts (sets of tags) ``readings_recent`` is moved, one at a time."""
        ...

    def recent_count(self) -> int:
        """How many readings wait in ``readings_recent``."""
        ...

    def move_recent(self, part: int) -> int:
        """Move part ``part`` (0 first) of ``readings_recent`` to ``readings``, sorted by
        (tag, ts), in one transaction of its own; how many readings moved."""
        ...

    def merge_rollups(self, rows: MinuteRows) -> None:
        """Merge rows (distinct keys) into the stored rollups (see ``rollup``)."""
        ...

    def aggregate(self, tag: TagIds, bucket: Stamps) -> MinuteRows:
        """Rollups of these (tag, minute) keys computed from raw readings, possibly in
        several parts per key (merge them with ``rollup.combine``); keys without a counted
        reading are missing."""
        ...

    def delete_rollups(self, tag: TagIds, bucket: Stamps) -> None:
        """Delete the stored rollups of these (tag, minute) keys."""
        ...

    def raw(self, tag_id: int, start: Millis, end: Millis, limit: int) -> HistoryArrays: ...

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> MinuteRows: ...

    def purge_raw(self, older_than: Millis) -> int:
        """Delete raw readings before ``older_than``, committing as it goes."""
        ...

    def purge_rollups(self, older_than: Millis) -> int:
        """Delete rollups of minutes starting before ``older_than``, committing as it goes."""
        ...

    def close(self) -> None: ...
