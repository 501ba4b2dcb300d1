"""The ``risk:`` settings: the defaults are the rules' defaults (and the documented ones),
maps merge onto them, and a bad value is refused naming the field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour
from hazwatch.evaluate.gb18218_tables import Grade
from hazwatch.evaluate.risk_rules import DEFAULT_RULES, Adjustment
from hazwatch.settings import ConfigError, Settings, load_settings

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_the_default_settings_give_the_default_rules() -> None:
    assert Settings().risk.rules() == DEFAULT_RULES
    assert Settings().risk.every_s == 60


def test_the_documented_risk_section_is_the_default() -> None:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"\n(risk:.*\n(?:  .*\n)+)", text)
    assert block, "docs/configuration.md documents risk:"
    documented = Settings.model_validate({"risk": yaml.safe_load(block.group(1))["risk"]})
    assert documented.risk == Settings().risk


def test_maps_merge_onto_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "hazwatch.yaml"
    path.write_text(
        "risk:\n"
        "  grades: {II: red}\n"
        "  alarms: {medium: {steps: 1, at_least: 3}}\n"
        "  unacknowledged_after_min: {high: 5}\n"
        "  online_rate: {below: 0.95, floor: yellow}\n"
        "  park: {enterprises: 3, at_colour: red, steps: 0, floor: red}\n"
        "  max_steps: 3\n"
        "  every_s: 30\n"
    )
    risk = load_settings(path).risk
    rules = risk.rules()
    assert rules.grades[Grade.II] is Colour.RED and rules.grades[Grade.I] is Colour.RED
    assert rules.grades[Grade.III] is Colour.YELLOW
    assert rules.alarms[Priority.MEDIUM] == Adjustment(steps=1, at_least=3)
    assert rules.alarms[Priority.CRITICAL] == Adjustment(steps=1, floor=Colour.ORANGE)
    assert rules.unacknowledged_after_ms[Priority.HIGH] == 5 * 60_000
    assert rules.unacknowledged_after_ms[Priority.LOW] == 60 * 60_000
    assert rules.online_rate_below == 0.95
    assert rules.online_rate == Adjustment(steps=1, floor=Colour.YELLOW)
    assert rules.park.enterprises == 3 and rules.park.at_least is Colour.RED
    assert rules.park.adjustment == Adjustment(floor=Colour.RED)
    assert rules.max_steps == 3 and risk.every_s == 30


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("risk:\n  score_bands: {red_below: 80}\n", "risk.score_bands"),
        ("risk:\n  alarms: {urgent: {steps: 1}}\n", "risk.alarms.urgent"),
        ("risk:\n  alarms: {high: {steps: 4}}\n", "risk.alarms.high.steps"),
        ("risk:\n  warnings: {red: {floor: purple}}\n", "risk.warnings.red.floor"),
        ("risk:\n  grades: {V: red}\n", "risk.grades.V"),
        ("risk:\n  unacknowledged_after_min: {high: -1}\n", "risk.unacknowledged_after_min.high"),
        ("risk:\n  online_rate: {below: 1.5}\n", "risk.online_rate.below"),
        ("risk:\n  online_rate: {at_least: 2}\n", "risk.online_rate.at_least"),
        ("risk:\n  park: {enterprises: 0}\n", "risk.park.enterprises"),
        ("risk:\n  max_steps: 5\n", "risk.max_steps"),
        ("risk:\n  every_s: 0\n", "risk.every_s"),
    ],
)
def test_a_bad_risk_setting_names_the_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert expected in str(info.value)
