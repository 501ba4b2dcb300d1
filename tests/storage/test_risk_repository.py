"""Risk colour history and the facts it starts from, on both backends: an enterprise's
assessment score survives import and export, changes are kept with their explanation, read
back by node and period inside the caller's grant, and the newest per node."""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from typing import Any

from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.domain.warning import Colour
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.risk_repository import NodeFacts, RiskChange, RiskRepository

T0 = 1_800_000_000_000


def _scored(plant_data: dict[str, Any], acid: float | None = 82.5) -> PlantSpec:
    enterprises = plant_data["parks"][0]["enterprises"]
    assert enterprises[0]["key"] == "acid"
    enterprises[0]["assessment_score"] = acid
    storage = enterprises[0]["sites"][0]["installations"][0]
    storage["people_within_500m"] = 30
    return PlantSpec.model_validate(plant_data)


def _node_id(db: Database, *keys: str) -> int:
    node = PlantRepository(db).node_by_keys(["jiangsu", *keys])
    assert node is not None
    return node.id


def test_assessment_score_round_trips_and_a_change_updates_the_node(
    db: Database, plant_data: dict[str, Any]
) -> None:
    plants = PlantRepository(db)
    spec = _scored(deepcopy(plant_data))
    plants.save(spec)
    assert plants.export() == spec
    assert not plants.save(spec).changed
    summary = plants.save(_scored(deepcopy(plant_data), acid=59.5))
    assert summary.nodes_updated == 1
    assert plants.export().parks[0].enterprises[0].assessment_score == 59.5
    plants.save(_scored(deepcopy(plant_data), acid=None))
    assert plants.export().parks[0].enterprises[0].assessment_score is None


def test_facts_hold_scores_and_people_of_the_nodes_that_declare_them(
    db: Database, plant_data: dict[str, Any]
) -> None:
    PlantRepository(db).save(_scored(plant_data))
    facts = RiskRepository(db).facts()
    acid = _node_id(db, "east", "acid")
    storage = _node_id(db, "east", "acid", "main", "storage")
    assert facts == {
        acid: NodeFacts(assessment_score=82.5),
        storage: NodeFacts(people_within_500m=30),
    }


def _change(scope_id: int, at: int, colour: Colour, previous: Colour | None) -> RiskChange:
    return RiskChange(
        scope_id=scope_id,
        at=at,
        colour=colour,
        previous=previous,
        explanation={"colour": colour.value, "contributions": [{"factor": "alarms", "steps": 1}]},
    )


def test_changes_are_kept_and_read_by_node_and_period(
    db: Database, stored_tags: object, grant_on: Callable[..., Grant]
) -> None:
    risk = RiskRepository(db)
    acid, salt = _node_id(db, "east", "acid"), _node_id(db, "east", "salt")
    risk.record(
        [
            _change(acid, T0, Colour.YELLOW, None),
            _change(salt, T0, Colour.BLUE, None),
            _change(acid, T0 + 60_000, Colour.ORANGE, Colour.YELLOW),
            _change(acid, T0 + 120_000, Colour.YELLOW, Colour.ORANGE),
        ]
    )
    everything = Grant.everything()
    found = risk.history(everything, acid)
    assert [(c.at, c.colour, c.previous) for c in found] == [
        (T0, Colour.YELLOW, None),
        (T0 + 60_000, Colour.ORANGE, Colour.YELLOW),
        (T0 + 120_000, Colour.YELLOW, Colour.ORANGE),
    ]
    assert found[1].explanation == {
        "colour": "orange",
        "contributions": [{"factor": "alarms", "steps": 1}],
    }
    # start ≤ at < end
    window = risk.history(everything, acid, start=T0 + 60_000, end=T0 + 120_000)
    assert [c.at for c in window] == [T0 + 60_000]
    assert [c.at for c in risk.history(everything, acid, limit=2)] == [T0, T0 + 60_000]
    # inside the caller's grant only
    assert [c.colour for c in risk.history(grant_on("east", "acid"), acid)] == [
        Colour.YELLOW,
        Colour.ORANGE,
        Colour.YELLOW,
    ]
    assert risk.history(grant_on("east", "salt"), acid) == []
    assert risk.history(grant_on("west"), acid) == []
    assert risk.history(Grant(()), acid) == []


def test_latest_is_the_newest_change_of_each_node(db: Database, stored_tags: object) -> None:
    risk = RiskRepository(db)
    assert risk.latest() == {}
    acid, salt = _node_id(db, "east", "acid"), _node_id(db, "east", "salt")
    risk.record([_change(acid, T0, Colour.YELLOW, None), _change(salt, T0, Colour.BLUE, None)])
    risk.record([_change(acid, T0 + 1, Colour.RED, Colour.YELLOW)])
    risk.record([])
    latest = risk.latest()
    assert set(latest) == {acid, salt}
    assert (latest[acid].colour, latest[acid].previous) == (Colour.RED, Colour.YELLOW)
    assert latest[salt].colour is Colour.BLUE and latest[salt].previous is None
