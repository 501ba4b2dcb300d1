"""Migrations build exactly the tables ``schema.metadata`` declares, on both backends."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, inspect

from hazwatch.storage.database import Database
from hazwatch.storage.schema import metadata

# Tables of the reading store have their own migrations and tests.
FOREIGN_PREFIXES = ("reading", "rollup")


def _ours(name: str | None, type_: str, _parent: Any) -> bool:
    return not (type_ == "table" and name is not None and name.startswith(FOREIGN_PREFIXES))


def _differences(db: Database, target: MetaData) -> list[Any]:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={"compare_type": True, "compare_server_default": True, "include_name": _ours},
        )
        return list(compare_metadata(context, target))


def test_upgrade_creates_every_table_on_an_empty_database(database_url: str) -> None:
    with Database.open(database_url) as db:
        with db.engine.connect() as conn:
            assert not set(metadata.tables) & set(inspect(conn).get_table_names())
        db.upgrade()
        with db.engine.connect() as conn:
            assert set(metadata.tables) <= set(inspect(conn).get_table_names())


def test_migrated_schema_equals_the_metadata(db: Database) -> None:
    assert _differences(db, metadata) == []


def test_the_comparison_would_see_a_difference(db: Database) -> None:
    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["tags"].append_column(Column("extra", Integer, nullable=True))
    found = _differences(db, changed)
    assert [(d[0], d[3].name) for d in found if d[0] == "add_column"] == [("add_column", "extra")]
