"""Alembic environment for hazwatch.

``Database.upgrade`` passes an open connection in ``config.attributes["connection"]``; the
``alembic`` command line may instead give ``sqlalchemy.url``. On PostgreSQL the version table
is kept in the connection's current schema, beside the tables it versions, so that several
hazwatch databases can share one PostgreSQL database in separate schemas.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from hazwatch.storage.schema import metadata


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite can alter a table only by copying it: batch mode does that.
        render_as_batch=sqlite,
        version_table_schema=None if sqlite else connection.dialect.default_schema_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic: give a connection or sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.begin() as own:
            _run(own)
    finally:
        engine.dispose()


def _offline() -> None:
    context.configure(
        url=context.config.get_main_option("sqlalchemy.url"),
        target_metadata=metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _offline()
else:
    _online()
