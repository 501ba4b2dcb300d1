"""Trained models: versions 1, 2, … per installation, loaded back equal, on both backends."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from hazwatch.domain.plant import PlantSpec
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.warn_model_repository import (
    UnknownInstallationError,
    WarnModelRepository,
)
from hazwatch.warn.model import ModelState, build, from_state, to_state

UNITS = ("cracker", "reformer")


def _plant() -> dict[str, Any]:
    def unit(key: str) -> dict[str, Any]:
        tags = [{"key": f"t{i}", "unit": "degC", "range": [0, 900]} for i in range(3)]
        return {"key": key, "equipment": [{"key": "e", "tags": tags}]}

    site = {"key": "north", "installations": [unit(k) for k in UNITS]}
    return {
        "region": "r",
        "parks": [{"key": "p", "enterprises": [{"key": "acme", "sites": [site]}]}],
    }


@pytest.fixture
def repo(db: Database) -> WarnModelRepository:
    PlantRepository(db).save(PlantSpec.model_validate(_plant()))
    return WarnModelRepository(db)


def _state(seed: int) -> ModelState:
    monitor = build("pca")
    monitor.fit(np.random.default_rng(seed).normal(size=(200, 3)))
    return to_state(monitor)


def _save(repo: WarnModelRepository, unit: str, seed: int, method: str = "pca") -> int:
    return repo.save(
        installation=f"acme.north.{unit}",
        method=method,
        period_ms=60_000,
        variables=[f"acme.north.{unit}.e.t{i}" for i in range(3)],
        trained_from=1_000,
        trained_to=2_000 + seed,
        samples=200,
        created_at=3_000 + seed,
        state=_state(seed),
    ).version


def test_each_save_is_the_next_version_of_its_installation(repo: WarnModelRepository) -> None:
    assert [_save(repo, "cracker", s) for s in (1, 2, 3)] == [1, 2, 3]
    assert _save(repo, "reformer", 4) == 1
    assert repo.latest_versions() == {"acme.north.cracker": 3, "acme.north.reformer": 1}
    listed = repo.versions("acme.north.cracker")
    assert [(v.version, v.trained_to, v.created_at) for v in listed] == [
        (1, 2_001, 3_001),
        (2, 2_002, 3_002),
        (3, 2_003, 3_003),
    ]
    assert listed[0].variables == tuple(f"acme.north.cracker.e.t{i}" for i in range(3))


def test_a_loaded_model_scores_as_the_saved_one(repo: WarnModelRepository) -> None:
    _save(repo, "cracker", 1)
    _save(repo, "cracker", 2)
    newest, first = repo.load("acme.north.cracker"), repo.load("acme.north.cracker", 1)
    assert newest is not None and first is not None
    assert (newest.version.version, first.version.version) == (2, 1)
    samples = np.random.default_rng(9).normal(size=(20, 3))
    for stored, seed in ((newest, 2), (first, 1)):
        expected = from_state(_state(seed)).score(samples).score
        np.testing.assert_array_equal(from_state(stored.state).score(samples).score, expected)
    assert repo.load("acme.north.reformer") is None
    assert repo.load("acme.north.cracker", 7) is None


def test_a_model_of_an_unknown_installation_is_refused(repo: WarnModelRepository) -> None:
    with pytest.raises(UnknownInstallationError):
        _save(repo, "nowhere", 1)
    assert repo.latest_versions() == {}


def test_the_migration_goes_down_and_up_again(db: Database, repo: WarnModelRepository) -> None:
    _save(repo, "cracker", 1)
    db.downgrade("0004_warnings")
    db.upgrade()
    assert WarnModelRepository(db).latest_versions() == {}
