"""Tables of the reading store, per dialect; migration ``0002_readings`` creates the same.

* ``readings``: raw readings, primary key ``(tag_id, ts)``.
* ``readings_recent``: the same columns and key. New readings land here and move to
  ``readings`` in bulk, one part of the tags at a time. Once each of many tags has B-tree
  pages of its own, a batch with one reading per tag dirties one page per reading and every
  commit writes them all: at 100,000 tags, direct inserts fall to a fraction of the rate of a
  small table. A move writes each tag's pages once for all readings gathered since the last
  one. A reading is in exactly one of the two tables.
* ``rollups_1m``: one-minute rollups, primary key ``(tag_id, bucket)``.

They are plain DDL rather than SQLAlchemy ``MetaData`` because each dialect gets its own
physical layout:

* SQLite: ``WITHOUT ROWID`` tables, so rows are stored in the primary key's B-tree (a tag's
  readings sit together, and no second index is maintained).
* PostgreSQL: ``readings`` is partitioned by range of ``ts``, one partition per UTC day,
  created when a batch first needs it (``readings_dYYYYMMDD``) and dropped whole by
  retention. The parent has no partitions of its own until then. ``readings_recent`` is
  partitioned by hash of ``tag_id``: a part moves by ``INSERT … SELECT`` then ``TRUNCATE``,
  which leaves no dead rows behind, unlike ``DELETE``.

``value`` may be NULL on SQLite, which stores a NaN as NULL; both are read back as NaN.
"""

from __future__ import annotations

from sqlalchemy import Engine

RECENT_PARTS = 8
"""PostgreSQL: hash partitions of ``readings_recent`` by tag; one moves at a time."""

SQLITE_TABLES = (
    """CREATE TABLE IF NOT EXISTS readings (
    tag_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (tag_id, ts)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS readings_recent (
    tag_id INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    value REAL,
    quality INTEGER NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (tag_id, ts)
) WITHOUT ROWID""",
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
    """CREATE TABLE IF NOT EXISTS readings (
    tag_id integer NOT NULL,
    ts bigint NOT NULL,
    value double precision,
    quality smallint NOT NULL,
    received bigint NOT NULL,
    CONSTRAINT readings_pkey PRIMARY KEY (tag_id, ts)
) PARTITION BY RANGE (ts)""",
    """CREATE TABLE IF NOT EXISTS readings_recent (
    tag_id integer NOT NULL,
    ts bigint NOT NULL,
    value double precision,
    quality smallint NOT NULL,
    received bigint NOT NULL,
    CONSTRAINT readings_recent_pkey PRIMARY KEY (tag_id, ts)
) PARTITION BY HASH (tag_id)""",
    *(
        f"""CREATE TABLE IF NOT EXISTS readings_recent_p{part} PARTITION OF readings_recent
    FOR VALUES WITH (MODULUS {RECENT_PARTS}, REMAINDER {part})"""
        for part in range(RECENT_PARTS)
    ),
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
NAMES = ("readings", "readings_recent", "rollups_1m")


def create_tables(engine: Engine) -> None:
    """Create the reading store's tables if missing (what migration ``0002_readings`` does)."""
    statements = TABLES.get(engine.dialect.name)
    if statements is None:
        raise ValueError(f"no reading tables for the {engine.dialect.name} dialect")
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
