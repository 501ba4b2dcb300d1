"""The reading store's tables on SQLite (a database file in WAL mode).

The writer is one connection taken out of the engine's pool, in autocommit mode so that
transactions are explicit (``BEGIN IMMEDIATE`` takes the write lock up front rather than
failing on upgrade). Readings go in and out as rows of column blobs (``packed``); rollups
by ``executemany`` over columns turned into lists. Reads use pooled connections, which WAL
lets run beside the writer.

Memory: the writer's page cache is bounded (``CACHE_KIB``); temporary tables and statement
journals stay in memory, and are bounded by a batch or one compaction; memory-mapped I/O is
off, since mapped pages count as resident.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import cast

import numpy as np
from sqlalchemy import Engine

from hazwatch.domain.batch import Stamps, TagIds
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.storage.readings.backend import DuplicateBlockError
from hazwatch.storage.readings.blocks import BlockRow, LogRow, Readings
from hazwatch.storage.readings.packed import PackedTables, Rows, Statements
from hazwatch.storage.readings.rollup import MinuteRows

CACHE_KIB = 64 * 1024
PURGE_TAGS_PER_TRANSACTION = 1000

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    f"PRAGMA cache_size=-{CACHE_KIB}",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA mmap_size=0",
)

# One index seek per distinct tag instead of a scan of every row.
_TAGS = """WITH RECURSIVE tag(id) AS (
    SELECT (SELECT min(tag_id) FROM {table})
    UNION ALL
    SELECT (SELECT min(tag_id) FROM {table} WHERE tag_id > tag.id) FROM tag
    WHERE tag.id IS NOT NULL
)"""

_MERGE = """INSERT INTO rollups_1m (tag_id, bucket, min, max, sum, count, last, last_ts)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (tag_id, bucket) DO UPDATE SET
        min = min(rollups_1m.min, excluded.min),
        max = max(rollups_1m.max, excluded.max),
        sum = rollups_1m.sum + excluded.sum,
        count = rollups_1m.count + excluded.count,
        last = CASE WHEN excluded.last_ts >= rollups_1m.last_ts
                    THEN excluded.last ELSE rollups_1m.last END,
        last_ts = max(rollups_1m.last_ts, excluded.last_ts)"""

_ROLLUPS = f"""SELECT tag_id, bucket, min, max, sum, count, last, last_ts FROM rollups_1m
    WHERE tag_id = ? AND bucket > ? - {MINUTE_MS} AND bucket < ? ORDER BY bucket"""


class SqliteBackend:
    """``Backend`` for a SQLite database file."""

    def __init__(self, engine: Engine) -> None:
        if engine.url.database in (None, "", ":memory:"):
            raise ValueError("the reading store needs a SQLite database file")
        self._engine = engine
        fairy = engine.raw_connection()
        self._conn = cast(sqlite3.Connection, fairy.driver_connection)
        fairy.detach()  # the writer's settings must not leak back into the pool
        self._fairy = fairy
        self._conn.isolation_level = None
        for statement in _PRAGMAS:
            self._conn.execute(statement)
        self._packed = _packed(self._conn)

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        fairy = self._engine.raw_connection()
        try:
            yield cast(sqlite3.Connection, fairy.driver_connection)
        finally:
            fairy.close()

    def newest(self) -> tuple[TagIds, Stamps]:
        return self._packed.newest()

    def pending(self) -> dict[int, int]:
        return self._packed.pending()

    def begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def append(self, rows: Sequence[LogRow]) -> None:
        self._packed.append(rows)

    def log(self, part: int) -> tuple[int, Readings]:
        return self._packed.log(part)

    def add_blocks(self, rows: Sequence[BlockRow]) -> None:
        try:
            self._packed.add_blocks(rows)
        except sqlite3.IntegrityError as error:
            raise DuplicateBlockError(str(error)) from error

    def drop_log(self, part: int, through: int) -> None:
        self._packed.drop_log(part, through)

    def read(self, tag: TagIds, start: Stamps, end: Stamps, *, writer: bool = True) -> Readings:
        if writer:
            return self._packed.read(tag, start, end)
        with self._reader() as conn:
            return _packed(conn).read(tag, start, end)

    def merge_rollups(self, rows: MinuteRows) -> None:
        self._conn.executemany(
            _MERGE,
            zip(
                rows.tag.tolist(),
                rows.bucket.tolist(),
                rows.min.tolist(),
                rows.max.tolist(),
                rows.sum.tolist(),
                rows.count.tolist(),
                rows.last.tolist(),
                rows.last_ts.tolist(),
                strict=True,
            ),
        )

    def delete_rollups(self, tag: TagIds, bucket: Stamps) -> None:
        self._conn.executemany(
            "DELETE FROM rollups_1m WHERE tag_id = ? AND bucket = ?",
            zip(tag.tolist(), bucket.tolist(), strict=True),
        )

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> MinuteRows:
        with self._reader() as conn:
            return _minute_rows(conn.execute(_ROLLUPS, (tag_id, start, end)).fetchall())

    def _purge(self, table: str, column: str, older_than: Millis) -> int:
        query = _TAGS.format(table=table) + " SELECT id FROM tag WHERE id IS NOT NULL"
        tags = [t for (t,) in self._conn.execute(query)]
        statement = f"DELETE FROM {table} WHERE tag_id = ? AND {column} < ?"
        deleted = 0
        for first in range(0, len(tags), PURGE_TAGS_PER_TRANSACTION):
            chunk = tags[first : first + PURGE_TAGS_PER_TRANSACTION]
            before = self._conn.total_changes
            self.begin()
            try:
                self._conn.executemany(statement, ((t, older_than) for t in chunk))
                self.commit()
            except BaseException:
                self.rollback()
                raise
            deleted += self._conn.total_changes - before
        return deleted

    def purge_raw(self, older_than: Millis) -> int:
        self.begin()
        try:
            return self._packed.purge(older_than, self._recommit)
        finally:
            self.rollback()

    def _recommit(self) -> None:
        self.commit()
        self.begin()

    def purge_rollups(self, older_than: Millis) -> int:
        return self._purge("rollups_1m", "bucket", older_than)

    def close(self) -> None:
        self._conn.close()


def _packed(conn: sqlite3.Connection) -> PackedTables:
    def execute(statement: str, params: Sequence[object]) -> Rows:
        return conn.execute(statement, params).fetchall()

    def executemany(statement: str, rows: Sequence[Sequence[object]]) -> None:
        conn.executemany(statement, rows)

    return PackedTables(Statements(execute=execute, executemany=executemany))


def _minute_rows(rows: list[tuple[int, int, float, float, float, int, float, int]]) -> MinuteRows:
    if not rows:
        return MinuteRows.empty()
    tag, bucket, lo, hi, total, count, last, last_ts = zip(*rows, strict=True)
    return MinuteRows(
        tag=np.array(tag, dtype=np.int32),
        bucket=np.array(bucket, dtype=np.int64),
        min=np.array(lo, dtype=np.float64),
        max=np.array(hi, dtype=np.float64),
        sum=np.array(total, dtype=np.float64),
        count=np.array(count, dtype=np.int64),
        last=np.array(last, dtype=np.float64),
        last_ts=np.array(last_ts, dtype=np.int64),
    )
