"""The demo park, its tag ids, and one simulated hour of it (shared, read-only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest

from hazwatch.connectors.simulator import DEMO_PLANT_FILE, ParkSimulator, demo_plant_text
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import HOUR_MS
from hazwatch.domain.plant import PlantSpec, TagSpec
from hazwatch.plant import parse_plant

# An arbitrary instant that is not on a whole second (2023-11-14, 22:13 UTC).
START = 1_700_000_000_456

Floats = npt.NDArray[np.float64]


def find_tag(spec: PlantSpec, full_key: str) -> TagSpec:
    """The ``TagSpec`` of a full key ``enterprise.site.installation.equipment.tag``."""
    wanted = tuple(full_key.split("."))
    for park in spec.parks:
        for e in park.enterprises:
            for s in e.sites:
                for i in s.installations:
                    for q in i.equipment:
                        for t in q.tags:
                            if (e.key, s.key, i.key, q.key, t.key) == wanted:
                                return t
    raise KeyError(full_key)


@dataclass(frozen=True, slots=True)
class Run:
    """Readings of one simulation, with helpers to pick one tag's series."""

    spec: PlantSpec
    ids: dict[str, int]
    start: int
    batch: Batch

    def series(self, key: str) -> tuple[Floats, Floats]:
        """(minutes since start, values) of one tag, in time order."""
        mask = self.batch.tag == self.ids[key]
        order = np.argsort(self.batch.ts[mask], kind="stable")
        minutes = (self.batch.ts[mask][order] - self.start) / 60_000
        return minutes, self.batch.value[mask][order]

    def tag(self, key: str) -> TagSpec:
        return find_tag(self.spec, key)


@pytest.fixture
def start() -> int:
    return START


@pytest.fixture(scope="session")
def spec() -> PlantSpec:
    return parse_plant(demo_plant_text(), source=DEMO_PLANT_FILE)


@pytest.fixture(scope="session")
def ids(spec: PlantSpec) -> dict[str, int]:
    return {key: 100 + i for i, key in enumerate(spec.tag_keys())}


@pytest.fixture(scope="session")
def demo_hour(spec: PlantSpec, ids: dict[str, int]) -> Run:
    """The first simulated hour of the demo park with the demo incidents, seed 0."""
    sim = ParkSimulator(spec, ids, start=START, seed=0)
    return Run(spec=spec, ids=ids, start=START, batch=sim.step(START + HOUR_MS))
