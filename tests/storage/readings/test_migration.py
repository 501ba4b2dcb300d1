"""Migration 0002_readings builds the same tables as ``create_tables``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, inspect

from hazwatch.domain.batch import Batch
from hazwatch.storage.database import Database
from hazwatch.storage.readings.schema import NAMES, create_tables
from hazwatch.storage.readings.store import open_reading_store


def shape(engine: Engine) -> dict[str, Any]:
    inspector = inspect(engine)
    tables = sorted(t for t in inspector.get_table_names() if t.startswith(("readings", "rollup")))
    return {"tables": tables} | {
        name: (
            [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(name)],
            inspector.get_pk_constraint(name)["constrained_columns"],
        )
        for name in NAMES
    }


def test_the_migration_equals_create_tables(database_url: str, engine: Engine) -> None:
    made = shape(engine)
    with engine.begin() as conn:
        for name in reversed(NAMES):
            conn.exec_driver_sql(f"DROP TABLE {name}")
    with Database.open(database_url) as db:
        db.upgrade()
        assert shape(db.engine) == made
        store = open_reading_store(db.engine)
        try:
            batch = Batch.of(tag=[1, 2], ts=[0, 60_000], value=[1.0, 2.0], received=0)
            assert not store.write(batch).any()
            assert store.write(batch).all()
        finally:
            store.close()


def test_create_tables_can_run_twice(database_url: str, engine: Engine) -> None:
    other = create_engine(database_url)
    try:
        create_tables(other)
    finally:
        other.dispose()
    create_tables(engine)
    assert set(NAMES) <= set(inspect(engine).get_table_names())
