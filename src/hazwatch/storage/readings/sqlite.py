"""The reading store's tables on SQLite (a database file in WAL mode).

The writer is one connection taken out of the engine's pool, in autocommit mode so that
transactions are explicit (``BEGIN IMMEDIATE`` takes the write lock up front rather than
failing on upgrade). Bulk writes are ``executemany`` over columns turned into lists: SQLite
has no faster bulk path from Python. Reads use pooled connections, which WAL lets run beside
the writer.

Memory: the writer's page cache is bounded (``CACHE_KIB``); temporary tables and statement
journals stay in memory, and are bounded by a batch or one move of a tag range; memory-mapped
I/O is off, since mapped pages count as resident.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import numpy as np
from sqlalchemy import Engine

from hazwatch.domain.batch import Batch, Mask, Quality, Stamps, TagIds
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.storage.readings.arrays import HistoryArrays
from hazwatch.storage.readings.backend import DuplicateReadingError
from hazwatch.storage.readings.rollup import MinuteRows

CACHE_KIB = 64 * 1024
RECENT_RANGES = 8
PURGE_TAGS_PER_TRANSACTION = 1000

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    f"PRAGMA cache_size=-{CACHE_KIB}",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA mmap_size=0",
)

_TEMP_TABLES = (
    """CREATE TEMP TABLE IF NOT EXISTS reading_probe (
        i INTEGER PRIMARY KEY, tag_id INTEGER NOT NULL, ts INTEGER NOT NULL)""",
    """CREATE TEMP TABLE IF NOT EXISTS rollup_rebuild (
        tag_id INTEGER NOT NULL, bucket INTEGER NOT NULL, PRIMARY KEY (tag_id, bucket)
    ) WITHOUT ROWID""",
)

# One index seek per distinct tag instead of a scan of every row.
_TAGS = """WITH RECURSIVE tag(id) AS (
    SELECT (SELECT min(tag_id) FROM {table})
    UNION ALL
    SELECT (SELECT min(tag_id) FROM {table} WHERE tag_id > tag.id) FROM tag
    WHERE tag.id IS NOT NULL
)"""

_NEWEST = (
    _TAGS + " SELECT id, (SELECT max(ts) FROM {table} WHERE tag_id = tag.id) FROM tag"
    " WHERE id IS NOT NULL"
)

RAW_TABLES = ("readings", "readings_recent")

_INSERT = (
    "INSERT INTO readings_recent (tag_id, ts, value, quality, received) VALUES (?, ?, ?, ?, {})"
)

_PROBE = """SELECT p.i FROM temp.reading_probe AS p CROSS JOIN {table} AS r
    WHERE r.tag_id = p.tag_id AND r.ts = p.ts"""

_MOVE = """INSERT OR IGNORE INTO readings (tag_id, ts, value, quality, received)
    SELECT tag_id, ts, value, quality, received FROM readings_recent
    WHERE tag_id >= ? AND tag_id < ?"""  # in key order: no sort needed

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

_AGGREGATE = f"""SELECT g.tag_id, g.bucket, g.lo, g.hi, g.total, g.n, r.value, g.newest
    FROM (
        SELECT b.tag_id AS tag_id, b.bucket AS bucket, min(r.value) AS lo,
               max(r.value) AS hi, sum(r.value) AS total, count(*) AS n, max(r.ts) AS newest
        FROM temp.rollup_rebuild AS b CROSS JOIN {{table}} AS r
        WHERE r.tag_id = b.tag_id AND r.ts >= b.bucket AND r.ts < b.bucket + {MINUTE_MS}
          AND r.quality <> {Quality.BAD.value} AND r.value IS NOT NULL
        GROUP BY b.tag_id, b.bucket
    ) AS g CROSS JOIN {{table}} AS r
    WHERE r.tag_id = g.tag_id AND r.ts = g.newest"""

_RAW = """SELECT ts, value, quality FROM readings
        WHERE tag_id = :tag AND ts >= :start AND ts < :end
    UNION ALL
    SELECT ts, value, quality FROM readings_recent
        WHERE tag_id = :tag AND ts >= :start AND ts < :end
    ORDER BY ts LIMIT :limit"""

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
        for statement in _PRAGMAS + _TEMP_TABLES:
            self._conn.execute(statement)
        self._part_width = 1

    @contextmanager
    def _reader(self) -> Iterator[sqlite3.Connection]:
        fairy = self._engine.raw_connection()
        try:
            yield cast(sqlite3.Connection, fairy.driver_connection)
        finally:
            fairy.close()

    def newest(self) -> tuple[TagIds, Stamps]:
        rows = [r for table in RAW_TABLES for r in self._conn.execute(_NEWEST.format(table=table))]
        tag = np.array([r[0] for r in rows], dtype=np.int32)
        ts = np.array([r[1] for r in rows], dtype=np.int64)
        order = np.lexsort((ts, tag))
        last = np.ones(len(order), dtype=np.bool_)
        np.not_equal(tag[order][1:], tag[order][:-1], out=last[:-1])
        return tag[order][last], ts[order][last]

    def prepare(self, ts: Stamps) -> None:
        return None

    def begin(self) -> None:
        self._conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self._conn.execute("COMMIT")

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")

    def insert(self, rows: Batch) -> None:
        columns = zip(
            rows.tag.tolist(),
            rows.ts.tolist(),
            rows.value.tolist(),
            rows.quality.tolist(),
            strict=True,
        )
        try:
            self._conn.executemany(_INSERT.format(int(rows.received)), columns)
        except sqlite3.IntegrityError as error:
            raise DuplicateReadingError(str(error)) from error

    def insert_missing(self, rows: Batch) -> Mask:
        self._conn.execute("DELETE FROM temp.reading_probe")
        self._conn.executemany(
            "INSERT INTO temp.reading_probe (i, tag_id, ts) VALUES (?, ?, ?)",
            zip(range(len(rows)), rows.tag.tolist(), rows.ts.tolist(), strict=True),
        )
        stored = np.zeros(len(rows), dtype=np.bool_)
        for table in RAW_TABLES:
            stored[[i for (i,) in self._conn.execute(_PROBE.format(table=table))]] = True
        if not stored.all():
            self.insert(rows.select(~stored))
        return stored

    @property
    def recent_parts(self) -> int:
        return RECENT_RANGES

    def recent_count(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM readings_recent").fetchone()
        return int(row[0]) if row else 0

    def move_recent(self, part: int) -> int:
        """Parts are equal ranges of tag ids, fixed when part 0 moves; the last is open."""
        if part == 0:
            row = self._conn.execute("SELECT max(tag_id) FROM readings_recent").fetchone()
            top = int(row[0]) + 1 if row and row[0] is not None else 1
            self._part_width = -(-top // RECENT_RANGES)
        low = part * self._part_width
        high = low + self._part_width if part + 1 < RECENT_RANGES else 2**63 - 1
        self.begin()
        try:
            self._conn.execute(_MOVE, (low, high))
            moved = self._conn.execute(
                "DELETE FROM readings_recent WHERE tag_id >= ? AND tag_id < ?", (low, high)
            ).rowcount
            self.commit()
        except BaseException:
            self.rollback()
            raise
        return moved

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

    def aggregate(self, tag: TagIds, bucket: Stamps) -> MinuteRows:
        self._conn.execute("DELETE FROM temp.rollup_rebuild")
        self._conn.executemany(
            "INSERT OR IGNORE INTO temp.rollup_rebuild VALUES (?, ?)",
            zip(tag.tolist(), bucket.tolist(), strict=True),
        )
        rows = [r for t in RAW_TABLES for r in self._conn.execute(_AGGREGATE.format(table=t))]
        return _minute_rows(rows)

    def delete_rollups(self, tag: TagIds, bucket: Stamps) -> None:
        self._conn.executemany(
            "DELETE FROM rollups_1m WHERE tag_id = ? AND bucket = ?",
            zip(tag.tolist(), bucket.tolist(), strict=True),
        )

    def raw(self, tag_id: int, start: Millis, end: Millis, limit: int) -> HistoryArrays:
        with self._reader() as conn:
            arguments = {"tag": tag_id, "start": start, "end": end, "limit": limit}
            rows = conn.execute(_RAW, arguments).fetchall()
        if not rows:
            return HistoryArrays.empty()
        ts, value, quality = zip(*rows, strict=True)
        return HistoryArrays(
            ts=np.array(ts, dtype=np.int64),
            value=np.array(value, dtype=np.float64),  # NULL (a stored NaN) becomes NaN
            quality=np.array(quality, dtype=np.uint8),
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
        deleted = self._purge("readings", "ts", older_than)
        self.begin()
        try:
            cursor = self._conn.execute("DELETE FROM readings_recent WHERE ts < ?", (older_than,))
            self.commit()
        except BaseException:
            self.rollback()
            raise
        return deleted + cursor.rowcount

    def purge_rollups(self, older_than: Millis) -> int:
        return self._purge("rollups_1m", "bucket", older_than)

    def close(self) -> None:
        self._conn.close()


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
