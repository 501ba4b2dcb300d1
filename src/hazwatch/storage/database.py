"""One relational database: an engine, its backend, and its migrations.

``Database.open(url)`` accepts a SQLAlchemy URL for either backend:

* ``sqlite:///path/to/hazwatch.db`` — the embedded default. The parent folder is created;
  every connection runs in WAL mode with ``synchronous=NORMAL`` (durable at checkpoints, and
  never corrupt), waits up to 10 s for a lock, and enforces foreign keys.
* ``postgresql+psycopg://user@host:port/db`` (``postgresql://`` is read as psycopg 3).
  Tables live in the first schema of the connection's ``search_path``, for example
  ``...?options=-csearch_path%3Dtenant_a``; so does Alembic's version table.

Nothing is opened at import time: the caller builds a ``Database`` and closes it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_FILE = "hazwatch.db"

_SQLITE_PRAGMAS = (
    # Set before the first table exists, a no-op afterwards. Readings arrive one per tag
    # across thousands of tags, so each batch touches thousands of B-tree leaves; with 64 KiB
    # pages there are fewer leaves, splits and page headers per reading: 100,000 tags ingest
    # 1.5x faster than with the default 4 KiB (bench/results/README.md). The page cache is
    # sized in KiB, so memory stays bounded.
    "PRAGMA page_size=65536",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=10000",
    "PRAGMA foreign_keys=ON",
)


class Backend(StrEnum):
    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


def sqlite_url(data_dir: Path) -> str:
    """The URL of the default embedded database, ``hazwatch.db`` inside ``data_dir``."""
    return f"sqlite:///{Path(data_dir) / DEFAULT_FILE}"


class Database:
    """A SQLAlchemy engine bound to one hazwatch database."""

    def __init__(self, *, engine: Engine, backend: Backend) -> None:
        self._engine = engine
        self._backend = backend

    @classmethod
    def open(cls, url: str) -> Database:
        """Connect lazily to ``url`` (no connection is made until first use)."""
        parsed = _normalise(make_url(url))
        backend = Backend(parsed.get_backend_name())
        if backend is Backend.SQLITE:
            _create_parent(parsed)
            engine = create_engine(parsed)
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(parsed, pool_pre_ping=True)
        return cls(engine=engine, backend=backend)

    @property
    def engine(self) -> Engine:
        return self._engine

    @property
    def dialect(self) -> Backend:
        """``"sqlite"`` or ``"postgresql"`` (a ``StrEnum``, equal to those strings)."""
        return self._backend

    def upgrade(self, revision: str = "heads") -> None:
        """Migrate the schema to ``revision`` (default: the newest), in one transaction."""
        self._migrate(command.upgrade, revision)

    def downgrade(self, revision: str) -> None:
        """Migrate the schema back to ``revision``, in one transaction."""
        self._migrate(command.downgrade, revision)

    def _migrate(self, step: Callable[[Config, str], None], revision: str) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self._engine.begin() as connection:
            config.attributes["connection"] = connection
            step(config, revision)

    def close(self) -> None:
        """Close every pooled connection. The object must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _normalise(url: URL) -> URL:
    if url.drivername in ("postgresql", "postgres"):
        return url.set(drivername="postgresql+psycopg")
    return url


def _create_parent(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for pragma in _SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()
