"""Plants to store: a small hand-written one, and a generator for large ones."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import Tag
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository


def small_plant() -> dict[str, Any]:
    """Two parks, three enterprises; enterprise ``acid`` and ``salt`` share park ``east``."""
    return {
        "region": "jiangsu",
        "region_name": "Jiangsu",
        "parks": [
            {
                "key": "east",
                "name": "East Chemical Park",
                "location": {"lat": 31.5, "lon": 120.25},
                "enterprises": [
                    {
                        "key": "acid",
                        "name": "Acid Works",
                        "location": {"lat": 31.51, "lon": 120.26},
                        "sites": [
                            {
                                "key": "main",
                                "installations": [
                                    {
                                        "key": "storage",
                                        "name": "Tank farm",
                                        "inventories": [
                                            {
                                                "chemical": "chlorine",
                                                "cas": "7782-50-5",
                                                "tonnes": 12.5,
                                            },
                                            {
                                                "chemical": "ammonia",
                                                "volume_m3": 100.0,
                                                "density_t_per_m3": 0.68,
                                            },
                                        ],
                                        "equipment": [
                                            {
                                                "key": "t101",
                                                "name": "Tank 101",
                                                "tags": [
                                                    {
                                                        "key": "level",
                                                        "name": "Level",
                                                        "unit": "m",
                                                        "range": [0, 12],
                                                        "period_s": 2,
                                                        "limits": {
                                                            "HH": {"value": 11, "priority": "high"},
                                                            "H": {"value": 10, "deadband": 0.2},
                                                            "L": {"value": 1, "on_delay_s": 5},
                                                        },
                                                        "frozen_after_s": 600,
                                                    },
                                                    {
                                                        "key": "temp",
                                                        "unit": "degC",
                                                        "range": [-20, 80],
                                                        "offline_after_s": 30,
                                                    },
                                                ],
                                            },
                                            {
                                                "key": "g1",
                                                "name": "Gas detector",
                                                "tags": [
                                                    {
                                                        "key": "cl2",
                                                        "unit": "ppm",
                                                        "range": [0, 20],
                                                        "limits": {
                                                            "H": {"value": 1, "priority": "high"},
                                                            "HH": {
                                                                "value": 5,
                                                                "priority": "critical",
                                                                "off_delay_s": 10,
                                                            },
                                                        },
                                                    }
                                                ],
                                            },
                                        ],
                                    }
                                ],
                            }
                        ],
                    },
                    {
                        "key": "salt",
                        "name": "Salt Co",
                        "sites": [
                            {
                                "key": "main",
                                "installations": [
                                    {
                                        "key": "brine",
                                        "equipment": [
                                            {
                                                "key": "p1",
                                                "tags": [
                                                    {
                                                        "key": "pressure",
                                                        "unit": "MPa",
                                                        "range": [0, 4],
                                                        "limits": {"LL": {"value": 0.2}},
                                                    }
                                                ],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    },
                ],
            },
            {
                "key": "west",
                "name": "West Park",
                "enterprises": [
                    {
                        "key": "steel",
                        "sites": [
                            {
                                "key": "mill",
                                "installations": [
                                    {
                                        "key": "furnace",
                                        "inventories": [{"chemical": "gas", "tonnes": 3}],
                                        "equipment": [
                                            {
                                                "key": "bf1",
                                                "tags": [
                                                    {
                                                        "key": "co",
                                                        "unit": "ppm",
                                                        "range": [0, 1000],
                                                        "limits": {"H": {"value": 24}},
                                                    }
                                                ],
                                            }
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
        ],
    }


def generated_plant(*, enterprises: int, equipment: int, tags: int) -> PlantSpec:
    """A plant of ``enterprises × equipment × tags`` tags, every tag with H and HH limits."""
    return PlantSpec.model_validate(
        {
            "region": "gen",
            "parks": [
                {
                    "key": "park",
                    "enterprises": [
                        {
                            "key": f"e{e}",
                            "sites": [
                                {
                                    "key": "s",
                                    "installations": [
                                        {
                                            "key": "i",
                                            "equipment": [
                                                {
                                                    "key": f"q{q}",
                                                    "tags": [
                                                        {
                                                            "key": f"t{t}",
                                                            "unit": "bar",
                                                            "range": [0, 100 + t],
                                                            "limits": {
                                                                "H": {"value": 80},
                                                                "HH": {"value": 90 + t % 10},
                                                            },
                                                        }
                                                        for t in range(tags)
                                                    ],
                                                }
                                                for q in range(equipment)
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                        for e in range(enterprises)
                    ],
                }
            ],
        }
    )


@pytest.fixture
def plant_data() -> dict[str, Any]:
    """The small plant as plain data, fresh for each test (to edit, then validate)."""
    return small_plant()


@pytest.fixture
def spec() -> PlantSpec:
    """The small plant, validated."""
    return PlantSpec.model_validate(small_plant())


@pytest.fixture
def make_plant() -> Callable[..., PlantSpec]:
    """``generated_plant``, for tests that need a large plant."""
    return generated_plant


@pytest.fixture
def stored_tags(db: Database, spec: PlantSpec) -> dict[str, Tag]:
    """The small plant saved in ``db``: its tags by full key."""
    repo = PlantRepository(db)
    repo.save(spec)
    return {tag.key: tag for tag in repo.tags()}


@pytest.fixture
def grant_on(db: Database) -> Callable[..., Grant]:
    """``grant_on("east", "acid")``: the grant of a role bound to that node of the small plant."""

    def grant(*keys: str) -> Grant:
        node = PlantRepository(db).node_by_keys(["jiangsu", *keys])
        assert node is not None
        return Grant((node.path,))

    return grant
