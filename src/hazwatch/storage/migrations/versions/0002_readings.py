"""Reading store: raw readings and one-minute rollups, with a layout per dialect.

New readings land in ``readings_recent`` and move to ``readings`` in bulk (see
``hazwatch.storage.readings.schema``). SQLite keeps the tables ``WITHOUT ROWID`` (rows
live in the primary key's B-tree).
PostgreSQL partitions ``readings`` by range of ``ts``; the reading store creates one
partition per UTC day when it first writes there, and retention drops whole days.
``readings_recent`` has eight hash partitions by ``tag_id``, moved one at a time.

Revision ID: 0002_readings
Revises: 0001_core
Create Date: 2025-01-01 00:00:01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002_readings"
down_revision: str | None = "0001_core"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = (
    """CREATE TABLE readings (
    tag_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (tag_id, ts)
) WITHOUT ROWID""",
    """CREATE TABLE readings_recent (
    tag_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (tag_id, ts)
) WITHOUT ROWID""",
    """CREATE TABLE rollups_1m (
    tag_id INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    min REAL NOT NULL,
    max REAL NOT NULL,
    sum REAL NOT NULL,
    count INTEGER NOT NULL,
    last REAL NOT NULL,
    last_ts INTEGER NOT NULL,
    PRIMARY KEY (tag_id, bucket)
) WITHOUT ROWID""",
)

POSTGRESQL = (
    """CREATE TABLE readings (
    tag_id integer NOT NULL,
    ts bigint NOT NULL,
    value double precision,
    quality smallint NOT NULL,
    received bigint NOT NULL,
    CONSTRAINT readings_pkey PRIMARY KEY (tag_id, ts)
) PARTITION BY RANGE (ts)""",
    """CREATE TABLE readings_recent (
    tag_id integer NOT NULL,
    ts bigint NOT NULL,
    value double precision,
    quality smallint NOT NULL,
    received bigint NOT NULL,
    CONSTRAINT readings_recent_pkey PRIMARY KEY (tag_id, ts)
) PARTITION BY HASH (tag_id)""",
    *(
        f"""CREATE TABLE readings_recent_p{part} PARTITION OF readings_recent
    FOR VALUES WITH (MODULUS 8, REMAINDER {part})"""
        for part in range(8)
    ),
    """CREATE TABLE rollups_1m (
    tag_id integer NOT NULL,
    bucket bigint NOT NULL,
    min double precision NOT NULL,
    max double precision NOT NULL,
    sum double precision NOT NULL,
    count integer NOT NULL,
    last double precision NOT NULL,
    last_ts bigint NOT NULL,
    CONSTRAINT rollups_1m_pkey PRIMARY KEY (tag_id, bucket)
)""",
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in SQLITE if dialect == "sqlite" else POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    # On PostgreSQL dropping the parent drops every day partition with it.
    op.execute("DROP TABLE rollups_1m")
    op.execute("DROP TABLE readings_recent")
    op.execute("DROP TABLE readings")
