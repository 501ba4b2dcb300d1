"""The migrations build the same tables as ``create_tables``."""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Engine, create_engine, inspect, text

from hazwatch.domain.batch import Batch
from hazwatch.storage.database import Database
from hazwatch.storage.readings.schema import NAMES, create_tables
from hazwatch.storage.readings.store import open_reading_store


def shape(engine: Engine) -> dict[str, Any]:
    inspector = inspect(engine)
    tables = sorted(t for t in inspector.get_table_names() if t.startswith(("reading", "rollup")))
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


def test_readings_stored_before_packing_are_carried_over_and_back(database_url: str) -> None:
    """0003 packs the readings of ``readings`` and ``readings_recent`` into blocks; its
    downgrade puts every reading back."""
    with Database.open(database_url) as db:
        db.upgrade("0002_readings")
        old = [(1, 1000, 1.5, 0, 7), (1, 2000, None, 2, 7), (2, 1000, 3.0, 1, 8)]
        recent = [(1, 3000, 4.5, 0, 9), (2000, 5000, -1.0, 0, 9)]
        with db.engine.begin() as conn:
            # 0002 on PostgreSQL partitions ``readings`` by day: give it day 0.
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql(
                    "CREATE TABLE readings_d19700101 PARTITION OF readings"
                    " FOR VALUES FROM (0) TO (86400000)"
                )
            for table, rows in (("readings", old), ("readings_recent", recent)):
                conn.execute(
                    text(
                        f"INSERT INTO {table} (tag_id, ts, value, quality, received)"
                        " VALUES (:t, :s, :v, :q, :r)"
                    ),
                    [dict(zip("tsvqr", row, strict=True)) for row in rows],
                )
        db.upgrade()
        store = open_reading_store(db.engine)
        try:
            one = store.raw(1, 0, 10_000, 10)
            assert one.ts.tolist() == [1000, 2000, 3000]
            assert one.quality.tolist() == [0, 2, 0]
            assert one.value[0] == 1.5 and math.isnan(one.value[1]) and one.value[2] == 4.5
            assert store.raw(2000, 0, 10_000, 10).value.tolist() == [-1.0]
            assert store.last_timestamps() == {1: 3000, 2: 1000, 2000: 5000}
            assert store.write(Batch.of(tag=[2], ts=[1000], value=[0.0], received=0)).all()
        finally:
            store.close()
        db.downgrade("0002_readings")
        with db.engine.connect() as conn:
            back = conn.execute(
                text(
                    "SELECT tag_id, ts, value, quality, received FROM readings_recent"
                    " ORDER BY tag_id, ts"
                )
            ).all()
        # A missing value comes back as NULL or NaN, as that version read either.
        assert [
            (t, s, None if v is None or math.isnan(v) else v, q, r) for t, s, v, q, r in back
        ] == sorted(old + recent)
