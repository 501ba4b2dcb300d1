"""``INSERT … ON CONFLICT`` for the backend in use.

SQLite and PostgreSQL spell upserts the same way (``ON CONFLICT (cols) DO UPDATE/NOTHING``),
but SQLAlchemy builds them with each dialect's own ``insert``; this picks the right one.
"""

from __future__ import annotations

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite

from hazwatch.storage.database import Backend

Upsert = postgresql.Insert | sqlite.Insert


def upsert(backend: Backend, table: Table) -> Upsert:
    """An ``INSERT`` into ``table`` that accepts ``.on_conflict_do_update/nothing``."""
    if backend is Backend.POSTGRESQL:
        return postgresql.insert(table)
    return sqlite.insert(table)
