"""Metric and equipment names to tag key segments."""

from __future__ import annotations

import re

import pytest

from hazwatch.connectors.sparkplug.keys import equipment_key, tag_key
from hazwatch.domain.keys import slug

SEGMENT = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Level", "level"),
        ("Temperature/PV", "temperature-pv"),
        ("Tank 1 // Level (PV)", "tank-1-level-pv"),
        ("--Pump_A--", "pump_a"),
        ("_hidden", "hidden"),
        ("Température", "temperature"),
        ("a.b.c", "a-b-c"),
        ("x" * 64, "x" * 64),
    ],
)
def test_slug(name: str, expected: str) -> None:
    assert slug(name) == expected


def test_names_without_an_ascii_spelling_keep_apart_by_a_hash() -> None:
    level, temperature = slug("1号罐/液位"), slug("1号罐/温度")
    assert level != temperature
    assert level.startswith("1-") and len(level) == len("1-") + 8
    assert re.fullmatch(r"[0-9a-f]{8}", slug("液位"))
    assert slug("液位") == slug("液位")  # stable


def test_long_names_are_cut_with_a_hash_so_they_stay_apart() -> None:
    first, second = slug("a" * 70 + "1"), slug("a" * 70 + "2")
    assert first != second
    assert len(first) == 64 and first.startswith("a" * 55 + "-")


@pytest.mark.parametrize("name", ["", "///", "??", "-", "温", "A" * 300, "é/é", "_-_"])
def test_every_slug_is_a_key_segment(name: str) -> None:
    made = slug(name)
    assert SEGMENT.match(made) and len(made) <= 64


def test_keys_of_node_and_device_metrics() -> None:
    node = equipment_key("lpg.main.sphere-farm", "GW 1")
    device = equipment_key("lpg.main.sphere-farm", "GW 1", "TK/201")
    assert node == "lpg.main.sphere-farm.gw-1"
    assert device == "lpg.main.sphere-farm.gw-1-tk-201"
    assert tag_key(device, "Level/PV") == "lpg.main.sphere-farm.gw-1-tk-201.level-pv"
