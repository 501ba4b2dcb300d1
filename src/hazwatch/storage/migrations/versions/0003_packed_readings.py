"""Readings packed as column blobs: ``reading_log`` and ``reading_blocks`` replace
``readings`` and ``readings_recent`` (see ``hazwatch.storage.readings.schema``).

Stored readings are carried over: read tag range by tag range in (tag, ts) order and
packed one block per tag and UTC day. The downgrade unpacks them again.

Revision ID: 0003_packed_readings
Revises: 0002_readings
Create Date: 2026-11-28 00:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from alembic import op
from sqlalchemy import Connection, text

from hazwatch.storage.readings.blocks import (
    PART_TAGS,
    Readings,
    block_rows,
    from_blocks,
    from_log,
)

revision: str = "0003_packed_readings"
down_revision: str | None = "0002_readings"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE = (
    """CREATE TABLE reading_log (
    id INTEGER PRIMARY KEY,
    part INTEGER NOT NULL,
    received INTEGER NOT NULL,
    n INTEGER NOT NULL,
    t0 INTEGER NOT NULL,
    t1 INTEGER NOT NULL,
    tag BLOB NOT NULL,
    ts BLOB NOT NULL,
    value BLOB NOT NULL,
    quality BLOB NOT NULL,
    server BLOB
)""",
    "CREATE INDEX reading_log_part ON reading_log (part, id)",
    """CREATE TABLE reading_blocks (
    tag_id INTEGER NOT NULL,
    t1 INTEGER NOT NULL,
    t0 INTEGER NOT NULL,
    n INTEGER NOT NULL,
    ts BLOB NOT NULL,
    value BLOB NOT NULL,
    quality BLOB NOT NULL,
    received BLOB NOT NULL,
    server BLOB,
    PRIMARY KEY (tag_id, t1)
)""",
    "CREATE INDEX reading_blocks_t1 ON reading_blocks (t1)",
)

POSTGRESQL = (
    """CREATE TABLE reading_log (
    id bigint GENERATED ALWAYS AS IDENTITY,
    part integer NOT NULL,
    received bigint NOT NULL,
    n integer NOT NULL,
    t0 bigint NOT NULL,
    t1 bigint NOT NULL,
    tag bytea NOT NULL,
    ts bytea NOT NULL,
    value bytea NOT NULL,
    quality bytea NOT NULL,
    server bytea,
    CONSTRAINT reading_log_pkey PRIMARY KEY (id)
)""",
    "CREATE INDEX reading_log_part ON reading_log (part, id)",
    """CREATE TABLE reading_blocks (
    tag_id integer NOT NULL,
    t1 bigint NOT NULL,
    t0 bigint NOT NULL,
    n integer NOT NULL,
    ts bytea NOT NULL,
    value bytea NOT NULL,
    quality bytea NOT NULL,
    received bytea NOT NULL,
    server bytea,
    CONSTRAINT reading_blocks_pkey PRIMARY KEY (tag_id, t1)
)""",
    "CREATE INDEX reading_blocks_t1 ON reading_blocks (t1)",
)

# The layout of 0002_readings, for the downgrade.
OLD_SQLITE = tuple(
    f"""CREATE TABLE {name} (
    tag_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (tag_id, ts)
) WITHOUT ROWID"""
    for name in ("readings", "readings_recent")
)
OLD_POSTGRESQL = (
    *(
        f"""CREATE TABLE {name} (
    tag_id integer NOT NULL,
    ts bigint NOT NULL,
    value double precision,
    quality smallint NOT NULL,
    received bigint NOT NULL,
    CONSTRAINT {name}_pkey PRIMARY KEY (tag_id, ts)
) PARTITION BY {scheme}"""
        for name, scheme in (("readings", "RANGE (ts)"), ("readings_recent", "HASH (tag_id)"))
    ),
    *(
        f"""CREATE TABLE readings_recent_p{part} PARTITION OF readings_recent
    FOR VALUES WITH (MODULUS 8, REMAINDER {part})"""
        for part in range(8)
    ),
)


def _ranges(conn: Connection, table: str) -> Sequence[tuple[int, int]]:
    top = conn.execute(text(f"SELECT max(tag_id) FROM {table}")).scalar()
    return [] if top is None else [(t, t + PART_TAGS) for t in range(0, top + 1, PART_TAGS)]


def upgrade() -> None:
    conn = op.get_bind()
    for statement in SQLITE if conn.dialect.name == "sqlite" else POSTGRESQL:
        op.execute(statement)
    for low, high in _ranges(conn, "readings_recent"):
        conn.execute(
            text(
                "INSERT INTO readings (tag_id, ts, value, quality, received)"
                " SELECT tag_id, ts, value, quality, received FROM readings_recent"
                " WHERE tag_id >= :low AND tag_id < :high ON CONFLICT DO NOTHING"
            ),
            {"low": low, "high": high},
        )
    for low, high in _ranges(conn, "readings"):
        rows = conn.execute(
            text(
                "SELECT tag_id, ts, value, quality, received FROM readings"
                " WHERE tag_id >= :low AND tag_id < :high ORDER BY tag_id, ts"
            ),
            {"low": low, "high": high},
        ).all()
        if not rows:
            continue
        tag, ts, value, quality, received = zip(*rows, strict=True)
        readings = Readings(
            tag=np.array(tag, dtype=np.int32),
            ts=np.array(ts, dtype=np.int64),
            value=np.array([np.nan if v is None else v for v in value], dtype=np.float64),
            quality=np.array(quality, dtype=np.uint8),
            received=np.array(received, dtype=np.int64),
            server=np.zeros(len(tag), dtype=np.int64),
        )
        conn.execute(
            text(
                "INSERT INTO reading_blocks (tag_id, t1, t0, n, ts, value, quality, received)"
                " VALUES (:tag, :t1, :t0, :n, :ts, :value, :quality, :received)"
                # Readings before 0003 carried no server timestamp: ``server`` stays NULL.
            ),
            [
                {
                    "tag": b.tag,
                    "t1": b.t1,
                    "t0": b.t0,
                    "n": b.n,
                    "ts": b.ts,
                    "value": b.value,
                    "quality": b.quality,
                    "received": b.received,
                }
                for b in block_rows(readings)
            ],
        )
    # On PostgreSQL dropping the parent drops every day partition with it.
    op.execute("DROP TABLE readings_recent")
    op.execute("DROP TABLE readings")


def downgrade() -> None:
    """Every reading goes to ``readings_recent``, from where that version moves it on; the
    server timestamps, which that version did not keep, are lost."""
    conn = op.get_bind()
    for statement in OLD_SQLITE if conn.dialect.name == "sqlite" else OLD_POSTGRESQL:
        op.execute(statement)
    logged = conn.execute(text("SELECT received, tag, ts, value, quality, server FROM reading_log"))
    parts = [from_log([tuple(r) for r in logged.all()])]
    for low, high in _ranges(conn, "reading_blocks"):
        rows = conn.execute(
            text(
                "SELECT tag_id, ts, value, quality, received, server FROM reading_blocks"
                " WHERE tag_id >= :low AND tag_id < :high"
            ),
            {"low": low, "high": high},
        ).all()
        parts.append(from_blocks([tuple(r) for r in rows]))
    readings = Readings.concat(parts).unique()
    if len(readings):
        conn.execute(
            text(
                "INSERT INTO readings_recent (tag_id, ts, value, quality, received)"
                " VALUES (:tag, :ts, :value, :quality, :received)"
            ),
            [
                {"tag": t, "ts": s, "value": v, "quality": q, "received": r}
                for t, s, v, q, r in zip(
                    readings.tag.tolist(),
                    readings.ts.tolist(),
                    readings.value.tolist(),
                    readings.quality.tolist(),
                    readings.received.tolist(),
                    strict=True,
                )
            ],
        )
    op.execute("DROP TABLE reading_blocks")
    op.execute("DROP TABLE reading_log")
