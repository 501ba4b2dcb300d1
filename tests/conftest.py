"""Fixtures shared by the whole suite.

Storage-backed tests take ``database_url``, which is parametrised over the embedded SQLite
backend and PostgreSQL, so the same test runs on both. PostgreSQL tests get a private schema
each (parallel-safe). Where PostgreSQL is not reachable they skip with a reason, unless
``HAZWATCH_REQUIRE_SERVICES=1`` (set by ``.ci/run``), where they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

import pytest

if TYPE_CHECKING:
    from hazwatch.storage.database import Database

PG_URL = os.environ.get("HAZWATCH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_SERVICES = os.environ.get("HAZWATCH_REQUIRE_SERVICES") == "1"


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def need_service(name: str, host: str, port: int) -> None:
    """Skip (or, in CI, fail) the calling test when a service is not listening."""
    if service_reachable(host, port):
        return
    message = f"{name} is not reachable on {host}:{port}"
    if REQUIRE_SERVICES:
        pytest.fail(f"{message} (HAZWATCH_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def _pg_plain_url() -> str:
    return PG_URL.replace("+psycopg", "")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'hazwatch.db'}"
        return
    need_service("PostgreSQL", "127.0.0.1", 5432)
    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(_pg_plain_url(), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(_pg_plain_url(), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A ``Database`` on ``database_url``, migrated to the newest revision, closed afterwards."""
    from hazwatch.storage.database import Database

    database = Database.open(database_url)
    database.upgrade()
    yield database
    database.close()
