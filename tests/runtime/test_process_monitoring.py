"""The pipeline monitors installations with the newest trained model, loaded without a
restart, and turns a fault into a warning in the warning book."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import HOUR_MS
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.warning import WarningKey
from hazwatch.ingest.validation import Admission
from hazwatch.runtime.metrics import Metrics
from hazwatch.runtime.models import ModelLoader
from hazwatch.runtime.pipeline import Pipeline
from hazwatch.runtime.warn_stage import WarnStage
from hazwatch.runtime.warnings import WarningBook
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import open_reading_store
from hazwatch.storage.warn_model_repository import WarnModelRepository
from hazwatch.storage.warning_repository import WarningRepository
from hazwatch.warn.model import build, to_state

UNIT = "acme.north.cracker"
T0 = 1_800_000_000_000
PERIOD = 10_000
TAGS = [f"t{i}" for i in range(6)]
KEY = WarningKey(detector="pca", installation=UNIT)


def _plant() -> dict[str, Any]:
    tags = [{"key": k, "unit": "bar", "range": [-1000, 1000]} for k in TAGS]
    unit = {"key": "cracker", "equipment": [{"key": "e", "tags": tags}]}
    site = {"key": "north", "installations": [unit]}
    return {
        "region": "r",
        "parks": [{"key": "p", "enterprises": [{"key": "acme", "sites": [site]}]}],
    }


class Plant:
    def __init__(self, db: Database) -> None:
        plants = PlantRepository(db)
        plants.save(PlantSpec.model_validate(_plant()))
        self.models = WarnModelRepository(db)
        self.book = WarningBook(WarningRepository(db))
        tags = plants.tags()
        self.store = open_reading_store(db.engine)
        self.ids = np.array([next(t.id for t in tags if t.key.endswith(k)) for k in TAGS])
        self.pipeline = Pipeline(
            tags=tags,
            store=self.store,
            alarms=AlarmRepository(db),
            dead_letters=DeadLetterRepository(db),
            admission=Admission(),
            rollup_retention_ms=HOUR_MS,
            metrics=Metrics(),
            now=T0,
            warn=WarnStage(self.book, models=ModelLoader(self.models, check_every_ms=30_000)),
        )
        rng = np.random.default_rng(3)
        self.mixing = rng.normal(size=(2, len(TAGS)))
        self.rng = rng
        self.t = T0

    def normal(self, n: int) -> np.ndarray:
        latent = self.rng.normal(size=(n, 2))
        data: np.ndarray = 50 + latent @ self.mixing + 0.1 * self.rng.normal(size=(n, len(TAGS)))
        return data

    def train(self) -> int:
        monitor = build("pca")
        monitor.fit(self.normal(2000))
        return self.models.save(
            installation=UNIT,
            method="pca",
            period_ms=PERIOD,
            variables=[f"{UNIT}.e.{k}" for k in TAGS],
            trained_from=T0 - HOUR_MS,
            trained_to=T0,
            samples=2000,
            created_at=T0,
            state=to_state(monitor),
        ).version

    def run(self, periods: int, *, fault: float = 0.0) -> None:
        """One reading of every tag per period; ``fault`` is added to the third tag."""
        values = self.normal(periods)
        values[:, 2] += fault
        for row in values:
            self.t += PERIOD
            batch = Batch.of(tag=self.ids, ts=[self.t] * len(TAGS), value=row, received=self.t)
            self.pipeline.process(batch, source="test", now=self.t + 100)
            self.pipeline.tick(self.t + 100)


@pytest.fixture
def plant(db: Database) -> Iterator[Plant]:
    made = Plant(db)
    yield made
    made.store.close()


def test_a_saved_model_is_picked_up_and_a_fault_raises_an_explained_warning(
    plant: Plant,
) -> None:
    plant.run(3, fault=30.0)
    assert plant.book.latest(KEY) is None  # no model yet
    assert plant.train() == 1
    plant.run(3)  # the loader looks again within 30 s of plant time
    assert plant.pipeline.warn.monitors.versions() == {UNIT: 1}
    plant.run(5)
    assert plant.book.latest(KEY) is None
    plant.run(3, fault=30.0)
    stored = plant.book.latest(KEY)
    assert stored is not None and stored.warning.is_open and stored.warning.active
    top = stored.warning.explanation.contributions[0]
    assert top.variable == f"{UNIT}.e.t2"
    plant.run(3)
    stored = plant.book.latest(KEY)
    assert stored is not None and not stored.warning.active


def test_a_newer_version_replaces_the_model_in_use(plant: Plant) -> None:
    plant.train()
    plant.run(2)
    assert plant.pipeline.warn.monitors.versions() == {}  # checked at start, next after 30 s
    plant.run(1)
    assert plant.pipeline.warn.monitors.versions() == {UNIT: 1}
    assert plant.train() == 2
    plant.run(3)
    assert plant.pipeline.warn.monitors.versions() == {UNIT: 2}


def test_a_pipeline_starts_with_the_newest_stored_models(db: Database, plant: Plant) -> None:
    plant.train()
    plant.train()
    restarted = Plant(db)
    try:
        assert restarted.pipeline.warn.monitors.versions() == {UNIT: 2}
    finally:
        restarted.store.close()


def test_after_a_restart_a_clean_run_subsides_the_open_warning(db: Database, plant: Plant) -> None:
    plant.train()
    plant.run(3)
    plant.run(3, fault=30.0)
    raised = plant.book.latest(KEY)
    assert raised is not None and raised.warning.active
    plant.store.close()
    restarted = Plant(db)
    try:
        restarted.t = plant.t
        restarted.run(4)
        stored = restarted.book.latest(KEY)
        assert stored is not None and stored.warning.id == raised.warning.id
        assert not stored.warning.active
    finally:
        restarted.store.close()
