"""Tables of the reading store, per dialect; migrations ``0002_readings`` and
``0003_packed_readings`` create the same.

* ``reading_log``: the new readings of each write, one row per part of the tag ids it
  touches, as column blobs (see ``blocks``). Appending costs a row per part, not per
  reading. Keyed by an increasing ``id``; ``part`` is indexed so that one part's rows can be
  read and compacted alone.
* ``reading_blocks``: readings of one tag and one UTC day per row, as column blobs, keyed by
  ``(tag_id, t1)``; compaction moves a part's log rows here. ``t1`` is also indexed on its
  own, for retention.
* ``rollups_1m``: one-minute rollups, primary key ``(tag_id, bucket)``.

A reading is in the log or in a block, not both, except for the moment of a compaction
seen by a reader (see ``Backend.read``). Plain DDL rather than SQLAlchemy ``MetaData``
because each dialect gets its own types (SQLite ``BLOB`` and ``WITHOUT ROWID`` rollups,
PostgreSQL ``bytea`` and an identity column).
"""

from __future__ import annotations

from sqlalchemy import Engine

SQLITE_TABLES = (
    """CREATE TABLE IF NOT EXISTS reading_log (
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
    "CREATE INDEX IF NOT EXISTS reading_log_part ON reading_log (part, id)",
    """CREATE TABLE IF NOT EXISTS reading_blocks (
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
    "CREATE INDEX IF NOT EXISTS reading_blocks_t1 ON reading_blocks (t1)",
    """CREATE TABLE IF NOT EXISTS rollups_1m (
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

POSTGRESQL_TABLES = (
    """CREATE TABLE IF NOT EXISTS reading_log (
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
    "CREATE INDEX IF NOT EXISTS reading_log_part ON reading_log (part, id)",
    """CREATE TABLE IF NOT EXISTS reading_blocks (
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
    "CREATE INDEX IF NOT EXISTS reading_blocks_t1 ON reading_blocks (t1)",
    """CREATE TABLE IF NOT EXISTS rollups_1m (
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

TABLES = {"sqlite": SQLITE_TABLES, "postgresql": POSTGRESQL_TABLES}
NAMES = ("reading_log", "reading_blocks", "rollups_1m")


def create_tables(engine: Engine) -> None:
    """Create the reading store's tables if missing (what the migrations do)."""
    statements = TABLES.get(engine.dialect.name)
    if statements is None:
        raise ValueError(f"no reading tables for the {engine.dialect.name} dialect")
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
