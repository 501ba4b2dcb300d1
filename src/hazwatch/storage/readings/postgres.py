"""The reading store's tables on PostgreSQL (psycopg 3).

Readings go in and out as rows of column blobs (``packed``; ``bytea`` here). Rollups are
merged by binary ``COPY`` into a temporary table (``pgcopy`` builds the payload from numpy
columns without a Python object per row), then ``INSERT … ON CONFLICT DO UPDATE``, and read
back by ``COPY (SELECT …) TO STDOUT``, decoded by numpy.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import Engine

from hazwatch.domain.batch import Stamps, TagIds
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.storage.readings import pgcopy
from hazwatch.storage.readings.backend import DuplicateBlockError
from hazwatch.storage.readings.blocks import BlockRow, LogRow, Readings
from hazwatch.storage.readings.packed import PackedTables, Rows, Statements
from hazwatch.storage.readings.rollup import MinuteRows

Connection = psycopg.Connection[Any]

ROLLUP_FORMATS = (">i4", ">i8", ">f8", ">f8", ">f8", ">i4", ">f8", ">i8")
PURGE_TAGS_PER_TRANSACTION = 5000

_TEMP_TABLES = (
    """CREATE TEMP TABLE IF NOT EXISTS rollup_stage (
        tag_id integer NOT NULL, bucket bigint NOT NULL, min double precision NOT NULL,
        max double precision NOT NULL, sum double precision NOT NULL, count integer NOT NULL,
        last double precision NOT NULL, last_ts bigint NOT NULL
    ) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS rollup_rebuild (
        tag_id integer NOT NULL, bucket bigint NOT NULL
    ) ON COMMIT DELETE ROWS""",
)

# One index seek per distinct tag instead of a scan of every row.
_TAGS = """WITH RECURSIVE tag(id) AS (
    SELECT min(tag_id) FROM {table}
    UNION ALL
    SELECT (SELECT min(tag_id) FROM {table} WHERE tag_id > tag.id) FROM tag
    WHERE tag.id IS NOT NULL
)"""

_MERGE = """INSERT INTO rollups_1m AS r (tag_id, bucket, min, max, sum, count, last, last_ts)
    SELECT tag_id, bucket, min, max, sum, count, last, last_ts FROM pg_temp.rollup_stage
    ON CONFLICT (tag_id, bucket) DO UPDATE SET
        min = LEAST(r.min, EXCLUDED.min),
        max = GREATEST(r.max, EXCLUDED.max),
        sum = r.sum + EXCLUDED.sum,
        count = r.count + EXCLUDED.count,
        last = CASE WHEN EXCLUDED.last_ts >= r.last_ts THEN EXCLUDED.last ELSE r.last END,
        last_ts = GREATEST(r.last_ts, EXCLUDED.last_ts)"""

_ROLLUPS = f"""COPY (
    SELECT tag_id, bucket, min, max, sum, count, last, last_ts FROM rollups_1m
    WHERE tag_id = {{}} AND bucket > {{}} - {MINUTE_MS} AND bucket < {{}} ORDER BY bucket
) TO STDOUT (FORMAT BINARY)"""


class PostgresBackend:
    """``Backend`` for PostgreSQL (psycopg 3)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        fairy = engine.raw_connection()
        self._conn = cast(Connection, fairy.driver_connection)
        fairy.detach()  # the writer's temporary tables belong to this session only
        self._fairy = fairy
        self._conn.rollback()
        self._conn.autocommit = False
        for statement in _TEMP_TABLES:
            self._conn.execute(statement)
        self._conn.commit()
        self._packed = _packed(self._conn)

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        fairy = self._engine.raw_connection()
        try:
            yield cast(Connection, fairy.driver_connection)
        finally:
            fairy.close()

    def _copy_in(self, statement: sql.Composed | str, payload: bytes) -> None:
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(payload)

    def newest(self) -> tuple[TagIds, Stamps]:
        try:
            return self._packed.newest()
        finally:
            self._conn.rollback()

    def pending(self) -> dict[int, int]:
        try:
            return self._packed.pending()
        finally:
            self._conn.rollback()

    def begin(self) -> None:
        return None  # psycopg opens a transaction with the first statement

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def append(self, rows: Sequence[LogRow]) -> None:
        self._packed.append(rows)

    def log(self, part: int) -> tuple[int, Readings]:
        return self._packed.log(part)

    def add_blocks(self, rows: Sequence[BlockRow]) -> None:
        try:
            self._packed.add_blocks(rows)
        except psycopg.errors.UniqueViolation as error:
            raise DuplicateBlockError(str(error)) from error

    def drop_log(self, part: int, through: int) -> None:
        self._packed.drop_log(part, through)

    def read(self, tag: TagIds, start: Stamps, end: Stamps, *, writer: bool = True) -> Readings:
        if writer:
            return self._packed.read(tag, start, end)
        with self._reader() as conn:
            return _packed(conn).read(tag, start, end)

    def merge_rollups(self, rows: MinuteRows) -> None:
        columns: list[pgcopy.Column] = [
            rows.tag,
            rows.bucket,
            rows.min,
            rows.max,
            rows.sum,
            rows.count,
            rows.last,
            rows.last_ts,
        ]
        self._conn.execute("DELETE FROM pg_temp.rollup_stage")
        self._copy_in(
            "COPY pg_temp.rollup_stage (tag_id, bucket, min, max, sum, count, last, last_ts)"
            " FROM STDIN (FORMAT BINARY)",
            pgcopy.encode(columns, ROLLUP_FORMATS),
        )
        self._conn.execute(_MERGE)

    def _load_keys(self, tag: TagIds, bucket: Stamps) -> None:
        self._conn.execute("DELETE FROM pg_temp.rollup_rebuild")
        self._copy_in(
            "COPY pg_temp.rollup_rebuild (tag_id, bucket) FROM STDIN (FORMAT BINARY)",
            pgcopy.encode([tag, bucket], (">i4", ">i8")),
        )
        # Row counts let the planner pick index lookups into the big tables.
        self._conn.execute("ANALYZE pg_temp.rollup_rebuild")

    def delete_rollups(self, tag: TagIds, bucket: Stamps) -> None:
        self._load_keys(tag, bucket)
        self._conn.execute(
            """DELETE FROM rollups_1m AS r USING pg_temp.rollup_rebuild AS b
            WHERE r.tag_id = b.tag_id AND r.bucket = b.bucket"""
        )

    def _copy_out(self, statement: sql.Composed, formats: Sequence[str]) -> list[Any]:
        with self._reader() as conn, conn.cursor() as cursor, cursor.copy(statement) as copy:
            payload = b"".join(bytes(chunk) for chunk in copy)
        return pgcopy.decode(payload, formats)

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> MinuteRows:
        statement = sql.SQL(_ROLLUPS).format(*(sql.Literal(v) for v in (tag_id, start, end)))
        return _minute_rows(self._copy_out(statement, ROLLUP_FORMATS))

    def purge_raw(self, older_than: Millis) -> int:
        try:
            return self._packed.purge(older_than, self._conn.commit)
        finally:
            self._conn.rollback()

    def purge_rollups(self, older_than: Millis) -> int:
        query = sql.SQL(_TAGS + " SELECT id FROM tag WHERE id IS NOT NULL").format(
            table=sql.Identifier("rollups_1m")
        )
        tags = [t for (t,) in self._conn.execute(query)]
        deleted = 0
        for first in range(0, len(tags), PURGE_TAGS_PER_TRANSACTION):
            chunk = tags[first : first + PURGE_TAGS_PER_TRANSACTION]
            try:
                cursor = self._conn.execute(
                    "DELETE FROM rollups_1m WHERE tag_id = ANY(%s) AND bucket < %s",
                    (chunk, older_than),
                )
                deleted += cursor.rowcount
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
        self._conn.commit()
        return deleted

    def close(self) -> None:
        self._conn.close()


def _packed(conn: Connection) -> PackedTables:
    def execute(statement: str, params: Sequence[object]) -> Rows:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description is not None else []

    def executemany(statement: str, rows: Sequence[Sequence[object]]) -> None:
        with conn.cursor() as cursor:
            cursor.executemany(statement, rows)

    return PackedTables(Statements(execute=execute, executemany=executemany), placeholder="%s")


def _minute_rows(columns: list[Any]) -> MinuteRows:
    tag, bucket, lo, hi, total, count, last, last_ts = columns
    return MinuteRows(
        tag=tag,
        bucket=bucket,
        min=lo,
        max=hi,
        sum=total,
        count=count.astype(np.int64),
        last=last,
        last_ts=last_ts,
    )
