"""What each database dialect provides to the reading store: rows of packed readings in and
out of its tables.

``Recorder`` holds the logic that is the same on every database (duplicate screening,
compaction, open minutes, recovery); a ``Backend`` only moves ``blocks`` rows in and out of
one dialect's tables, on one writer connection whose transaction the recorder drives
(``begin`` … ``commit``). ``read(…, writer=False)`` and ``rollups`` may run on other
connections of the engine, from any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hazwatch.domain.batch import Stamps, TagIds
from hazwatch.domain.clock import Millis
from hazwatch.storage.readings.blocks import BlockRow, LogRow, Readings
from hazwatch.storage.readings.rollup import MinuteRows


class DuplicateBlockError(Exception):
    """A new block met a stored block of the same tag and last timestamp (the reading at
    that timestamp is stored already); the transaction is unusable and must be rolled
    back."""


class Backend(Protocol):
    def newest(self) -> tuple[TagIds, Stamps]:
        """Every tag with readings and the timestamp of its newest one."""
        ...

    def pending(self) -> dict[int, int]:
        """Readings in ``reading_log`` per part."""
        ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def append(self, rows: Sequence[LogRow]) -> None:
        """Add rows to ``reading_log``."""
        ...

    def log(self, part: int) -> tuple[int, Readings]:
        """The newest log row id of ``part`` and the readings of its log rows (writer)."""
        ...

    def add_blocks(self, rows: Sequence[BlockRow]) -> None:
        """Add rows to ``reading_blocks``; ``DuplicateBlockError`` if a key is taken."""
        ...

    def drop_log(self, part: int, through: int) -> None:
        """Delete the log rows of ``part`` with ids up to ``through``."""
        ...

    def read(self, tag: TagIds, start: Stamps, end: Stamps, *, writer: bool = True) -> Readings:
        """Readings of the given tags (distinct) that may lie in their ``[start, end)``:
        every overlapping block and the log rows of their parts, unfiltered, possibly with
        a reading twice (filter with ``Readings.within`` and ``unique``). Blocks come first
        and log rows in the order they were written, so ``unique`` keeps the reading stored
        first. The log is read before the blocks, so a compaction committed in between
        repeats readings rather than hiding them. ``writer=False`` reads on a connection
        of its own."""
        ...

    def merge_rollups(self, rows: MinuteRows) -> None:
        """Merge rows (distinct keys) into the stored rollups (see ``rollup``)."""
        ...

    def delete_rollups(self, tag: TagIds, bucket: Stamps) -> None:
        """Delete the stored rollups of these (tag, minute) keys."""
        ...

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> MinuteRows: ...

    def purge_raw(self, older_than: Millis) -> int:
        """Delete readings before ``older_than`` from blocks and log, committing as it goes
        (rows partly before are rewritten without those readings); how many went."""
        ...

    def purge_rollups(self, older_than: Millis) -> int:
        """Delete rollups of minutes starting before ``older_than``, committing as it goes."""
        ...

    def close(self) -> None: ...
