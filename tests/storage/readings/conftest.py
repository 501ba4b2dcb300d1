"""A reading store on each backend, on tables made by ``create_tables``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine

from hazwatch.storage.readings.schema import create_tables
from hazwatch.storage.readings.store import ReadingStore, open_reading_store


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    create_tables(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Iterator[ReadingStore]:
    """A store that compacts its log every few hundred readings, so that every test also
    reads and screens across log and blocks."""
    store = open_reading_store(engine, compact_readings=300)
    yield store
    store.close()
