"""``hazwatch warn train`` on a small database filled with generated readings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from hazwatch.cli import app
from hazwatch.domain.batch import Batch
from hazwatch.domain.plant import PlantSpec
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import open_reading_store
from hazwatch.storage.warn_model_repository import WarnModelRepository
from hazwatch.warn.model import from_state

runner = CliRunner()
UNIT = "acme.north.cracker"
T0 = 1_798_761_600_000  # 2027-01-01T00:00:00Z
START, END = "2027-01-01T00:00:00", "2027-01-01T03:00:00+00:00"
STEADY = [f"t{i}" for i in range(5)]


def _plant() -> dict[str, Any]:
    tags = [{"key": k, "unit": "degC", "range": [-1000, 1000]} for k in [*STEADY, "sparse"]]
    unit = {"key": "cracker", "equipment": [{"key": "e", "tags": tags}]}
    site = {"key": "north", "installations": [unit]}
    return {
        "region": "r",
        "parks": [{"key": "p", "enterprises": [{"key": "acme", "sites": [site]}]}],
    }


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite database holding 3 h of 30-second readings of the installation's tags."""
    database_url = f"sqlite:///{tmp_path / 'hazwatch.db'}"
    with Database.open(database_url) as db:
        db.upgrade()
        plants = PlantRepository(db)
        plants.save(PlantSpec.model_validate(_plant()))
        ids = {t.key.rsplit(".", 1)[1]: t.id for t in plants.tags()}
        rng = np.random.default_rng(7)
        n = 3 * 120
        latent = rng.normal(size=(n, 2))
        mixing = rng.normal(size=(2, len(STEADY)))
        values = 100 + latent @ mixing * 5 + rng.normal(size=(n, len(STEADY)))
        store = open_reading_store(db.engine)
        try:
            for step in range(n):
                ts = T0 + step * 30_000
                keys = STEADY + (["sparse"] if step % 40 == 0 else [])
                row = [*values[step], 1.0][: len(keys)]
                store.write(
                    Batch.of(
                        tag=[ids[k] for k in keys], ts=[ts] * len(keys), value=row, received=ts
                    )
                )
        finally:
            store.close()
    return database_url


def _train(url: str, *args: str) -> Any:
    return runner.invoke(
        app,
        [
            "warn",
            "train",
            "--installation",
            UNIT,
            "--start",
            START,
            "--end",
            END,
            "--database-url",
            url,
            *args,
        ],
    )


def test_train_saves_a_new_version_from_the_stored_history(url: str) -> None:
    first = _train(url, "--method", "pca")
    assert first.exit_code == 0, first.output
    assert f"trained {UNIT} version 1: pca, 60 s periods" in first.output
    assert "samples: 180 of 180 periods" in first.output
    assert "variables used (5)" in first.output
    assert f"{UNIT}.e.sparse: values in 9 of 180 periods" in first.output

    second = _train(url, "--method", "cva", "--period-s", "120")
    assert second.exit_code == 0, second.output
    assert "version 2: cva, 120 s periods" in second.output
    with Database.open(url) as db:
        stored = WarnModelRepository(db).load(UNIT)
        assert stored is not None
        assert stored.version.variables == tuple(f"{UNIT}.e.{k}" for k in STEADY)
        assert (stored.version.method, stored.version.period_ms) == ("cva", 120_000)
        assert stored.version.samples == 90 and stored.version.trained_from == T0
        monitor = from_state(stored.state)
        assert monitor.score(np.full((5, 5), 100.0)).ready.any()


def test_an_unknown_installation_is_an_error(url: str) -> None:
    result = runner.invoke(
        app,
        [
            "warn",
            "train",
            "--installation",
            "acme.north.nowhere",
            "--start",
            START,
            "--end",
            END,
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 2
    assert "no installation 'acme.north.nowhere'" in result.output


def test_a_range_without_history_is_too_little_data(url: str) -> None:
    result = runner.invoke(
        app,
        [
            "warn",
            "train",
            "--installation",
            UNIT,
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-02",
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 2
    assert "too little data" in result.output
    with Database.open(url) as db:
        assert WarnModelRepository(db).latest_versions() == {}


def test_a_period_that_is_not_whole_minutes_is_refused(url: str) -> None:
    result = _train(url, "--period-s", "90")
    assert result.exit_code == 2
    assert "multiple of 60" in result.output
