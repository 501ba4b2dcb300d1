"""The tables of packed readings, ``reading_log`` and ``reading_blocks``, in SQL that both
dialects speak; each backend hands in how to run a statement on its connection.

Blocks are keyed by ``(tag_id, t1)``: readings are unique per (tag, ts), so no two blocks of
a tag end at the same timestamp, and the blocks that may hold ``[start, end)`` are found by
seeking to ``t1 >= start`` in the key and keeping those with ``t0 < end``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hazwatch.domain.batch import Batch, Stamps, TagIds
from hazwatch.domain.clock import DAY_MS, Millis
from hazwatch.storage.readings.blocks import (
    BlockRow,
    LogRow,
    Readings,
    block_rows,
    from_blocks,
    from_log,
    log_rows,
    part_of,
)

Rows = list[tuple[Any, ...]]
Execute = Callable[[str, Sequence[object]], Rows]
ExecuteMany = Callable[[str, Sequence[Sequence[object]]], None]

TAGS_PER_QUERY = 500
"""Tags named in one ``IN`` list (SQLite allows 32,766 parameters, PostgreSQL 65,535)."""

_LOG_COLUMNS = "received, tag, ts, value, quality, server"
_BLOCK_COLUMNS = "tag_id, ts, value, quality, received, server"

_APPEND = """INSERT INTO reading_log (part, received, n, t0, t1, tag, ts, value, quality, server)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""
_ADD_BLOCK = """INSERT INTO reading_blocks
    (tag_id, t1, t0, n, ts, value, quality, received, server)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"""


@dataclass(frozen=True, slots=True)
class Statements:
    """How to run SQL (written with ``?`` placeholders) on one connection."""

    execute: Execute
    executemany: ExecuteMany


class PackedTables:
    """Reads and writes of ``reading_log`` and ``reading_blocks`` on one connection."""

    def __init__(self, run: Statements, *, placeholder: str = "?") -> None:
        self._run = run
        self._mark = placeholder

    def _sql(self, statement: str) -> str:
        return statement if self._mark == "?" else statement.replace("?", self._mark)

    def _execute(self, statement: str, params: Sequence[object] = ()) -> Rows:
        return self._run.execute(self._sql(statement), params)

    def newest(self) -> tuple[TagIds, Stamps]:
        """Every tag with readings and its newest timestamp: one index seek per tag with
        blocks, and a scan of the log."""
        pairs = self._execute(
            """WITH RECURSIVE tag(id) AS (
                SELECT (SELECT min(tag_id) FROM reading_blocks)
                UNION ALL
                SELECT (SELECT min(tag_id) FROM reading_blocks WHERE tag_id > tag.id)
                FROM tag WHERE tag.id IS NOT NULL
            ) SELECT id, (SELECT max(t1) FROM reading_blocks WHERE tag_id = tag.id)
            FROM tag WHERE id IS NOT NULL"""
        )
        logged = from_log(self._execute(f"SELECT {_LOG_COLUMNS} FROM reading_log"))
        tag = np.concatenate([np.array([p[0] for p in pairs], dtype=np.int32), logged.tag])
        ts = np.concatenate([np.array([p[1] for p in pairs], dtype=np.int64), logged.ts])
        order = np.lexsort((ts, tag))
        last = np.ones(len(order), dtype=np.bool_)
        np.not_equal(tag[order][1:], tag[order][:-1], out=last[:-1])
        return tag[order][last], ts[order][last]

    def pending(self) -> dict[int, int]:
        rows = self._execute("SELECT part, sum(n) FROM reading_log GROUP BY part")
        return {int(part): int(n) for part, n in rows}

    def append(self, rows: Sequence[LogRow]) -> None:
        self._run.executemany(
            self._sql(_APPEND),
            [
                (r.part, r.received, r.n, r.t0, r.t1, r.tag, r.ts, r.value, r.quality, r.server)
                for r in rows
            ],
        )

    def log(self, part: int) -> tuple[int, Readings]:
        rows = self._execute(
            f"SELECT id, {_LOG_COLUMNS} FROM reading_log WHERE part = ? ORDER BY id", (part,)
        )
        if not rows:
            return -1, Readings.empty()
        return int(rows[-1][0]), from_log([r[1:] for r in rows])

    def add_blocks(self, rows: Sequence[BlockRow]) -> None:
        self._run.executemany(
            self._sql(_ADD_BLOCK),
            [
                (r.tag, r.t1, r.t0, r.n, r.ts, r.value, r.quality, r.received, r.server)
                for r in rows
            ],
        )

    def drop_log(self, part: int, through: int) -> None:
        self._execute("DELETE FROM reading_log WHERE part = ? AND id <= ?", (part, through))

    def read(self, tag: TagIds, start: Stamps, end: Stamps) -> Readings:
        """See ``Backend.read``. Tags are queried in groups of similar ``start`` so that a
        tag whose range lies far back does not widen the query of the others."""
        if not len(tag):
            return Readings.empty()
        parts = np.unique(part_of(tag)).tolist()
        lo, hi = int(start.min()), int(end.max())
        logged = from_log(
            [
                row
                for first in range(0, len(parts), TAGS_PER_QUERY)
                for row in self._execute(
                    "SELECT {} FROM reading_log WHERE part IN ({}) AND t1 >= ? AND t0 < ?"
                    " ORDER BY id".format(
                        _LOG_COLUMNS, ", ".join("?" * len(parts[first : first + TAGS_PER_QUERY]))
                    ),
                    [*parts[first : first + TAGS_PER_QUERY], lo, hi],
                )
            ]
        )
        order = np.argsort(start, kind="stable")
        blocks: Rows = []
        for first in range(0, len(order), TAGS_PER_QUERY):
            group = order[first : first + TAGS_PER_QUERY]
            names = tag[group].tolist()
            if len(names) == 1:
                condition, params = "tag_id = ?", names
            else:
                condition, params = f"tag_id IN ({', '.join('?' * len(names))})", names
            blocks += self._execute(
                f"SELECT {_BLOCK_COLUMNS} FROM reading_blocks"
                f" WHERE {condition} AND t1 >= ? AND t0 < ?",
                [*params, int(start[group].min()), int(end[group].max())],
            )
        return Readings.concat([from_blocks(blocks), logged])

    def purge(self, older_than: Millis, commit: Callable[[], None]) -> int:
        """Delete readings before ``older_than``; rows partly before are rewritten. Blocks
        never cross a UTC day, so only blocks ending on the day of ``older_than`` can hold
        readings on both sides of it."""
        day_end = older_than - older_than % DAY_MS + DAY_MS
        deleted = 0
        for t1, *block in self._execute(
            f"SELECT t1, {_BLOCK_COLUMNS} FROM reading_blocks WHERE t1 >= ? AND t1 < ? AND t0 < ?",
            (older_than, day_end, older_than),
        ):
            readings = from_blocks([tuple(block)])
            (kept,) = block_rows(readings.select(readings.ts >= older_than))
            deleted += len(readings) - kept.n
            self._execute(
                """UPDATE reading_blocks SET t0 = ?, n = ?, ts = ?, value = ?, quality = ?,
                    received = ?, server = ? WHERE tag_id = ? AND t1 = ?""",
                (
                    kept.t0,
                    kept.n,
                    kept.ts,
                    kept.value,
                    kept.quality,
                    kept.received,
                    kept.server,
                    kept.tag,
                    t1,
                ),
            )
        deleted += self._count("reading_blocks", older_than)
        self._execute("DELETE FROM reading_blocks WHERE t1 < ?", (older_than,))
        commit()
        for row_id, *logged in self._execute(
            f"SELECT id, {_LOG_COLUMNS} FROM reading_log WHERE t0 < ? AND t1 >= ?",
            (older_than, older_than),
        ):
            readings = from_log([tuple(logged)])
            kept_readings = readings.select(readings.ts >= older_than)
            deleted += len(readings) - len(kept_readings)
            (row,) = log_rows(
                Batch(
                    tag=kept_readings.tag,
                    ts=kept_readings.ts,
                    value=kept_readings.value,
                    quality=kept_readings.quality,
                    received=int(logged[0]),
                    server_ts=kept_readings.server,
                )
            )
            self._execute(
                "UPDATE reading_log SET n = ?, t0 = ?, t1 = ?, tag = ?, ts = ?, value = ?,"
                " quality = ?, server = ? WHERE id = ?",
                (
                    row.n,
                    row.t0,
                    row.t1,
                    row.tag,
                    row.ts,
                    row.value,
                    row.quality,
                    row.server,
                    row_id,
                ),
            )
        deleted += self._count("reading_log", older_than)
        self._execute("DELETE FROM reading_log WHERE t1 < ?", (older_than,))
        commit()
        return deleted

    def _count(self, table: str, older_than: Millis) -> int:
        rows = self._execute(f"SELECT sum(n) FROM {table} WHERE t1 < ?", (older_than,))
        return int(rows[0][0] or 0) if rows else 0
