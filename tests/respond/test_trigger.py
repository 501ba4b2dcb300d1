"""Which playbooks an alarm or a warning starts."""

from __future__ import annotations

from typing import Any

import pytest

from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import Colour
from hazwatch.respond.playbook import Playbook, Trigger, parse_playbook
from hazwatch.respond.trigger import Occurrence, matches, started_by

DETECTOR = "chlor.main.cl2-storage.gas-detection.at-103"


def _alarm(**fields: Any) -> Occurrence:
    values: dict[str, Any] = {
        "kind": "alarm",
        "key": DETECTOR,
        "installation": "chlor.main.cl2-storage",
        "park": "demo-park",
        "condition": ConditionKind.HH,
        "priority": Priority.HIGH,
    }
    return Occurrence(**(values | fields))


def _warning(**fields: Any) -> Occurrence:
    values: dict[str, Any] = {
        "kind": "warning",
        "key": "chlor.main.cl2-storage",
        "installation": "chlor.main.cl2-storage",
        "colour": Colour.ORANGE,
        "detector": "cva",
    }
    return Occurrence(**(values | fields))


TRIGGER = Trigger(
    event="alarm",
    conditions=(ConditionKind.H, ConditionKind.HH),
    min_priority=Priority.HIGH,
    tags=("*.gas-detection.*",),
    scope="chlor",
    park="demo-park",
)


@pytest.mark.parametrize(
    ("occurrence", "expected"),
    [
        (_alarm(), True),
        (_alarm(priority=Priority.CRITICAL), True),
        (_alarm(priority=Priority.MEDIUM), False),
        (_alarm(condition=ConditionKind.OFFLINE), False),
        (_alarm(key="chlor.main.cl2-storage.v-101.level"), False),
        (_alarm(installation="chlorx.main.unit", key="chlorx.main.unit.gas-detection.at-1"), False),
        (_alarm(park="other-park"), False),
        (_warning(), False),
    ],
)
def test_an_alarm_trigger_needs_every_criterion(occurrence: Occurrence, expected: bool) -> None:
    assert matches(TRIGGER, occurrence) is expected


def test_a_warning_trigger_compares_colours_by_rank() -> None:
    trigger = Trigger(event="warning", min_colour=Colour.ORANGE, detectors=("cva", "ttl"))
    assert matches(trigger, _warning(colour=Colour.RED))
    assert matches(trigger, _warning(colour=Colour.ORANGE))
    assert not matches(trigger, _warning(colour=Colour.YELLOW))
    assert not matches(trigger, _warning(detector="pca"))
    assert matches(Trigger(event="warning"), _warning(colour=Colour.BLUE))


def _playbook(name: str, trigger: dict[str, Any]) -> Playbook:
    doc = {"name": name, "version": 1, "trigger": trigger, "steps": [{"id": "x", "kind": "close"}]}
    return parse_playbook(doc, source=f"{name}.yaml")


def test_started_by_keeps_the_order_of_the_playbooks() -> None:
    books = [
        _playbook("any-alarm", {"event": "alarm"}),
        _playbook("warnings", {"event": "warning"}),
        _playbook("hh", {"event": "alarm", "conditions": ["HH"], "scope": "chlor.main"}),
    ]
    assert [p.name for p in started_by(books, _alarm())] == ["any-alarm", "hh"]
