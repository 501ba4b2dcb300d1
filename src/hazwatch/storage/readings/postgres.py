"""The reading store's tables on PostgreSQL, written by binary COPY.

Raw readings go by ``COPY … FROM STDIN (FORMAT BINARY)`` into ``readings_recent`` (``pgcopy``
builds the payload from numpy columns without a Python object per reading) and move to the
day partitions of ``readings`` by ``INSERT … SELECT`` in tag order, then ``DELETE``. Day
partitions are created before the write transaction that first needs them, in a short
transaction of their own, since attaching one locks the parent.

Replays and writes that meet a stored reading take the careful path: the rows go by COPY
into a temporary table, then ``INSERT … ON CONFLICT DO NOTHING RETURNING`` tells which
were new. Rollups are merged the same way (COPY, then ``INSERT … ON CONFLICT DO UPDATE``).
Reads also use binary COPY (``COPY (SELECT …) TO STDOUT``), decoded by numpy.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import psycopg
from psycopg import sql
from sqlalchemy import Engine

from hazwatch.domain.batch import Batch, Mask, Quality, Stamps, TagIds
from hazwatch.domain.clock import DAY_MS, MINUTE_MS, Millis, from_millis, to_millis
from hazwatch.storage.readings import pgcopy
from hazwatch.storage.readings.arrays import HistoryArrays
from hazwatch.storage.readings.backend import DuplicateReadingError
from hazwatch.storage.readings.rollup import MinuteRows
from hazwatch.storage.readings.schema import RECENT_PARTS

Connection = psycopg.Connection[Any]

READING_FORMATS = (">i4", ">i8", ">f8", ">i2", ">i8")
ROLLUP_FORMATS = (">i4", ">i8", ">f8", ">f8", ">f8", ">i4", ">f8", ">i8")
PURGE_TAGS_PER_TRANSACTION = 5000
PARTITION = re.compile(r"readings_d(\d{4})(\d{2})(\d{2})")

_TEMP_TABLES = (
    """CREATE TEMP TABLE IF NOT EXISTS reading_stage (
        i integer NOT NULL, tag_id integer NOT NULL, ts bigint NOT NULL,
        value double precision, quality smallint NOT NULL, received bigint NOT NULL
    ) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS rollup_stage (
        tag_id integer NOT NULL, bucket bigint NOT NULL, min double precision NOT NULL,
        max double precision NOT NULL, sum double precision NOT NULL, count integer NOT NULL,
        last double precision NOT NULL, last_ts bigint NOT NULL
    ) ON COMMIT DELETE ROWS""",
    """CREATE TEMP TABLE IF NOT EXISTS rollup_rebuild (
        tag_id integer NOT NULL, bucket bigint NOT NULL
    ) ON COMMIT DELETE ROWS""",
)

_PARTITIONS = """SELECT c.relname FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'readings'::regclass"""

# One index seek per distinct tag instead of a scan of every row.
_TAGS = """WITH RECURSIVE tag(id) AS (
    SELECT min(tag_id) FROM {table}
    UNION ALL
    SELECT (SELECT min(tag_id) FROM {table} WHERE tag_id > tag.id) FROM tag
    WHERE tag.id IS NOT NULL
)"""

_NEWEST = (
    _TAGS
    + """ SELECT id, (SELECT max(ts) FROM {table} WHERE tag_id = tag.id) FROM tag
    WHERE id IS NOT NULL"""
)

# Rows already in ``readings`` are left out first; the insert into ``readings_recent`` then
# skips those a concurrent writer put there meanwhile.
_STAGED_INSERT = """WITH written AS (
        INSERT INTO readings_recent (tag_id, ts, value, quality, received)
        SELECT s.tag_id, s.ts, s.value, s.quality, s.received FROM pg_temp.reading_stage AS s
        WHERE NOT EXISTS (SELECT FROM readings AS r WHERE r.tag_id = s.tag_id AND r.ts = s.ts)
        ORDER BY s.tag_id, s.ts
        ON CONFLICT (tag_id, ts) DO NOTHING
        RETURNING tag_id, ts
    )
    SELECT s.i FROM pg_temp.reading_stage AS s JOIN written AS w USING (tag_id, ts)"""

_MOVE = """INSERT INTO readings (tag_id, ts, value, quality, received)
    SELECT tag_id, ts, value, quality, received FROM {part} ORDER BY tag_id, ts
    ON CONFLICT (tag_id, ts) DO NOTHING"""

_MERGE = """INSERT INTO rollups_1m AS r (tag_id, bucket, min, max, sum, count, last, last_ts)
    SELECT tag_id, bucket, min, max, sum, count, last, last_ts FROM pg_temp.rollup_stage
    ON CONFLICT (tag_id, bucket) DO UPDATE SET
        min = LEAST(r.min, EXCLUDED.min),
        max = GREATEST(r.max, EXCLUDED.max),
        sum = r.sum + EXCLUDED.sum,
        count = r.count + EXCLUDED.count,
        last = CASE WHEN EXCLUDED.last_ts >= r.last_ts THEN EXCLUDED.last ELSE r.last END,
        last_ts = GREATEST(r.last_ts, EXCLUDED.last_ts)"""

_AGGREGATE = f"""COPY (
    SELECT b.tag_id, b.bucket, min(r.value), max(r.value), sum(r.value), count(*)::integer,
           (array_agg(r.value ORDER BY r.ts DESC))[1], max(r.ts)
    FROM pg_temp.rollup_rebuild AS b
    JOIN (
        SELECT tag_id, ts, value, quality FROM readings WHERE ts >= {{lowest}}
        UNION ALL
        SELECT tag_id, ts, value, quality FROM readings_recent
    ) AS r
      ON r.tag_id = b.tag_id AND r.ts >= b.bucket AND r.ts < b.bucket + {MINUTE_MS}
    WHERE r.quality <> {Quality.BAD.value} AND r.value <> 'NaN'::float8
    GROUP BY b.tag_id, b.bucket
) TO STDOUT (FORMAT BINARY)"""

_RAW = """COPY (
    SELECT ts, COALESCE(value, 'NaN'::float8), quality FROM (
        SELECT ts, value, quality FROM readings
        WHERE tag_id = {tag} AND ts >= {start} AND ts < {end}
        UNION ALL
        SELECT ts, value, quality FROM readings_recent
        WHERE tag_id = {tag} AND ts >= {start} AND ts < {end}
    ) AS r
    ORDER BY ts LIMIT {limit}
) TO STDOUT (FORMAT BINARY)"""

_ROLLUPS = f"""COPY (
    SELECT tag_id, bucket, min, max, sum, count, last, last_ts FROM rollups_1m
    WHERE tag_id = {{}} AND bucket > {{}} - {MINUTE_MS} AND bucket < {{}} ORDER BY bucket
) TO STDOUT (FORMAT BINARY)"""


def partition_name(day: int) -> str:
    """The table holding readings of UTC day ``day`` (days since 1970-01-01)."""
    return f"readings_d{from_millis(day * DAY_MS):%Y%m%d}"


def partition_day(name: str) -> int | None:
    """The day of a partition named by ``partition_name``; None for any other table."""
    match = PARTITION.fullmatch(name)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    return to_millis(datetime(year, month, day, tzinfo=UTC)) // DAY_MS


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
        self._days = self._partition_days(self._conn)
        self._conn.commit()

    @contextmanager
    def _reader(self) -> Iterator[Connection]:
        fairy = self._engine.raw_connection()
        try:
            yield cast(Connection, fairy.driver_connection)
        finally:
            fairy.close()

    @staticmethod
    def _partition_days(conn: Connection) -> set[int]:
        days = (partition_day(name) for (name,) in conn.execute(_PARTITIONS))
        return {day for day in days if day is not None}

    def _copy_in(self, statement: sql.Composed | str, payload: bytes) -> None:
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            copy.write(payload)

    def newest(self) -> tuple[TagIds, Stamps]:
        tags: list[int] = []
        stamps: list[int] = []
        with self._reader() as conn:
            # Newest first: the first stamp found for a tag is its newest, unless
            # readings_recent has a newer one.
            days = sorted(self._partition_days(conn), reverse=True)
            recent = [f"readings_recent_p{part}" for part in range(RECENT_PARTS)]
            tables = [*recent, *(partition_name(day) for day in days)]
            for table in tables:
                query = sql.SQL(_NEWEST).format(table=sql.Identifier(table))
                for tag, ts in conn.execute(query):
                    tags.append(tag)
                    stamps.append(ts)
        tag_array = np.array(tags, dtype=np.int32)
        stamp_array = np.array(stamps, dtype=np.int64)
        order = np.lexsort((stamp_array, tag_array))
        last = np.ones(len(order), dtype=np.bool_)
        np.not_equal(tag_array[order][1:], tag_array[order][:-1], out=last[:-1])
        return tag_array[order][last], stamp_array[order][last]

    def prepare(self, ts: Stamps) -> None:
        missing = [int(d) for d in np.unique(ts // DAY_MS) if int(d) not in self._days]
        if not missing:
            return
        try:
            for day in missing:
                statement = sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} PARTITION OF readings"
                    " FOR VALUES FROM ({}) TO ({})"
                ).format(
                    sql.Identifier(partition_name(day)),
                    sql.Literal(day * DAY_MS),
                    sql.Literal((day + 1) * DAY_MS),
                )
                self._conn.execute(statement)
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        self._days.update(missing)

    def begin(self) -> None:
        return None  # psycopg opens a transaction with the first statement

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def insert(self, rows: Batch) -> None:
        try:
            self._copy_in(
                "COPY readings_recent (tag_id, ts, value, quality, received)"
                " FROM STDIN (FORMAT BINARY)",
                self._reading_payload(rows),
            )
        except psycopg.errors.UniqueViolation as error:
            raise DuplicateReadingError(str(error)) from error

    @staticmethod
    def _reading_payload(rows: Batch) -> bytes:
        received = np.full(len(rows), rows.received, dtype=np.int64)
        columns: list[pgcopy.Column] = [rows.tag, rows.ts, rows.value, rows.quality, received]
        return pgcopy.encode(columns, READING_FORMATS)

    def insert_missing(self, rows: Batch) -> Mask:
        index = np.arange(len(rows), dtype=np.int32)
        received = np.full(len(rows), rows.received, dtype=np.int64)
        columns: list[pgcopy.Column] = [
            index,
            rows.tag,
            rows.ts,
            rows.value,
            rows.quality,
            received,
        ]
        self._conn.execute("DELETE FROM pg_temp.reading_stage")
        self._copy_in(
            "COPY pg_temp.reading_stage (i, tag_id, ts, value, quality, received)"
            " FROM STDIN (FORMAT BINARY)",
            pgcopy.encode(columns, (">i4", *READING_FORMATS)),
        )
        written = [i for (i,) in self._conn.execute(_STAGED_INSERT)]
        stored = np.ones(len(rows), dtype=np.bool_)
        stored[written] = False
        return stored

    def recent_count(self) -> int:
        row = self._conn.execute("SELECT count(*) FROM readings_recent").fetchone()
        self._conn.commit()
        return int(row[0]) if row else 0

    @property
    def recent_parts(self) -> int:
        return RECENT_PARTS

    def move_recent(self, part: int) -> int:
        table = sql.Identifier(f"readings_recent_p{part}")
        try:
            moved = self._conn.execute(sql.SQL(_MOVE).format(part=table)).rowcount
            self._conn.execute(sql.SQL("TRUNCATE {}").format(table))
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        return moved

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

    def aggregate(self, tag: TagIds, bucket: Stamps) -> MinuteRows:
        self._load_keys(tag, bucket)
        lowest = int(bucket.min()) if len(bucket) else 0
        statement = sql.SQL(_AGGREGATE).format(lowest=sql.Literal(lowest))
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            payload = b"".join(bytes(chunk) for chunk in copy)
        return _minute_rows(pgcopy.decode(payload, ROLLUP_FORMATS))

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

    def raw(self, tag_id: int, start: Millis, end: Millis, limit: int) -> HistoryArrays:
        statement = sql.SQL(_RAW).format(
            tag=sql.Literal(tag_id),
            start=sql.Literal(start),
            end=sql.Literal(end),
            limit=sql.Literal(limit),
        )
        ts, value, quality = self._copy_out(statement, (">i8", ">f8", ">i2"))
        return HistoryArrays(ts=ts, value=value, quality=quality.astype(np.uint8))

    def rollups(self, tag_id: int, start: Millis, end: Millis) -> MinuteRows:
        statement = sql.SQL(_ROLLUPS).format(*(sql.Literal(v) for v in (tag_id, start, end)))
        return _minute_rows(self._copy_out(statement, ROLLUP_FORMATS))

    def purge_raw(self, older_than: Millis) -> int:
        """Whole days before ``older_than`` go by dropping their partition, counted by the
        planner's row estimate once the partition was analysed (exactly otherwise); the
        rest of the day of ``older_than`` by ``DELETE``."""
        deleted = 0
        for day in sorted(self._partition_days(self._conn)):
            table = sql.Identifier(partition_name(day))
            try:
                if (day + 1) * DAY_MS <= older_than:
                    deleted += self._row_count(table)
                    self._conn.execute(sql.SQL("DROP TABLE {}").format(table))
                    self._days.discard(day)
                elif day * DAY_MS < older_than:
                    statement = sql.SQL("DELETE FROM {} WHERE ts < {}").format(
                        table, sql.Literal(older_than)
                    )
                    deleted += self._conn.execute(statement).rowcount
                self._conn.commit()
            except BaseException:
                self._conn.rollback()
                raise
        try:
            statement = sql.SQL("DELETE FROM readings_recent WHERE ts < {}").format(
                sql.Literal(older_than)
            )
            deleted += self._conn.execute(statement).rowcount
            self._conn.commit()
        except BaseException:
            self._conn.rollback()
            raise
        return deleted

    def _row_count(self, table: sql.Identifier) -> int:
        estimate = self._conn.execute(
            sql.SQL("SELECT reltuples::bigint FROM pg_class WHERE oid = {}::regclass").format(
                sql.Literal(table.as_string(self._conn))
            )
        ).fetchone()
        if estimate is not None and estimate[0] >= 0:
            return int(estimate[0])
        counted = self._conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table)).fetchone()
        return int(counted[0]) if counted else 0

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
