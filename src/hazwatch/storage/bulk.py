"""Bulk work: inserting many rows, and building many Python objects, at full speed.

``insert_rows`` writes a list of rows with PostgreSQL's ``COPY`` (about ten times faster
than a pipelined ``executemany``) and with the SQLite driver's ``executemany``, inside the
caller's transaction either way.

``collector_paused``: loading or storing a 100,000-tag plant creates millions of short-lived
tuples, dicts and frozen values, and CPython's cycle collector then makes many full passes
over a heap that holds no cycles, which more than doubles the time. The context switches it
off for the duration (reference counting still frees everything) and restores it after. It
counts nested and concurrent users, so the collector comes back only when the last one
leaves, and only if it was on before the first one came.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Table, insert

# Below this many rows a COPY's set-up costs more than it saves.
COPY_FROM = 100

_lock = threading.Lock()
_users = 0
_was_enabled = False


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """Insert ``rows`` (each with the same keys, naming columns of ``table``) in bulk."""
    if not rows:
        return
    columns = list(rows[0])
    quote = conn.dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    values = [tuple(row[c] for c in columns) for row in rows]
    if conn.dialect.name == "sqlite":
        # The driver's own executemany: SQLAlchemy's per-row parameter processing would
        # cost more than SQLite's insert itself.
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})", values)
        return
    if len(rows) < COPY_FROM:
        conn.execute(insert(table), list(rows))
        return
    driver = conn.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
    ):
        for row in values:
            copy.write_row(row)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Switch the cycle collector off while the block runs (see the module docstring)."""
    global _users, _was_enabled  # noqa: PLW0603 - one process-wide switch, guarded by _lock
    with _lock:
        if _users == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _was_enabled:
                gc.enable()
