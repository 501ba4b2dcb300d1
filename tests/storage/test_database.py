"""Opening databases: SQLite settings, PostgreSQL schemas, and repeatable upgrades."""

from __future__ import annotations

from pathlib import Path

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from hazwatch.storage.database import MIGRATIONS, Backend, Database, sqlite_url
from hazwatch.storage.schema import metadata


def test_sqlite_creates_its_folder_and_sets_every_pragma(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "data" / "deeper")
    assert url.endswith("hazwatch.db")
    with Database.open(url) as db:
        assert (tmp_path / "data" / "deeper").is_dir()
        with db.engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 1,
        "busy_timeout": 10000,
        "foreign_keys": 1,
    }
    assert (tmp_path / "data" / "deeper" / "hazwatch.db").exists()


def test_dialect_names_the_backend(database_url: str) -> None:
    with Database.open(database_url) as db:
        expected = "sqlite" if database_url.startswith("sqlite") else "postgresql"
        assert db.dialect == expected
        assert db.dialect is Backend(expected)
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar() == 1


def test_plain_postgresql_url_uses_psycopg_3() -> None:
    db = Database.open("postgresql://nobody@127.0.0.1:1/none")
    try:
        assert db.dialect == "postgresql"
        assert db.engine.dialect.driver == "psycopg"
    finally:
        db.close()


def test_upgrade_reaches_the_head_and_repeating_it_changes_nothing(db: Database) -> None:
    heads = set(ScriptDirectory(str(MIGRATIONS)).get_heads())
    db.upgrade()
    with db.engine.connect() as conn:
        assert set(MigrationContext.configure(conn).get_current_heads()) == heads
        tables = set(inspect(conn).get_table_names())
    assert set(metadata.tables) <= tables


def test_postgresql_tables_and_version_live_in_the_search_path_schema(db: Database) -> None:
    if db.dialect != "postgresql":
        return
    with db.engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        placed = set(
            conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalars()
        )
    assert schema.startswith("t_")
    assert {"alembic_version", *metadata.tables} <= placed
