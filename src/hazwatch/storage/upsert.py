"""``INSERT … ON CONFLICT`` for the backend in use.

SQLite and PostgreSQL spell upserts the same way (``ON CONFLICT (cols) DO UPDATE/NOTHING``),
but SQLAlchemy builds them with each dialect's own ``insert``; this picks the right one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from hazwatch.storage.database import Backend, Database

Upsert = postgresql.Insert | sqlite.Insert


def upsert(backend: Backend, table: Table) -> Upsert:
    """An ``INSERT`` into ``table`` that accepts ``.on_conflict_do_update/nothing``."""
    if backend is Backend.POSTGRESQL:
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_new(db: Database, table: Table, row: Mapping[str, object], keys: Sequence[str]) -> bool:
    """Insert ``row`` unless a row with the same ``keys`` is stored; whether it was."""
    statement = (
        upsert(db.dialect, table)
        .on_conflict_do_nothing(index_elements=list(keys))
        .returning(*(table.c[k] for k in keys))
    )
    with db.engine.begin() as conn:
        return conn.execute(statement, dict(row)).first() is not None
