"""Playbooks: validated before use, every problem named by step and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hazwatch.respond.playbook import (
    Notify,
    ParkLinkage,
    PlaybookError,
    StepOutcome,
    WaitAck,
    load_playbook,
    parse_playbook,
)

GOOD = """
name: chlorine-leak
version: 3
title: 液氯泄漏 / chlorine release
trigger:
  event: alarm
  conditions: [H, HH]
  min_priority: high
  tags: ["*.gas-detection.*"]
  scope: chlor
steps:
  - id: notify-shift
    kind: notify
    to: [position:shift-operator@installation]
    channels: [webhook, email]
  - {id: wait-shift, kind: wait_ack, timeout_s: 120, next: {acknowledged: incident}}
  - {id: notify-park, kind: notify, to: ["position:emergency-office@park", "user:zhang.wei"]}
  - {id: incident, kind: open_incident, plan: chlorine-release}
  - id: plume
    kind: park_linkage
    chemical: chlorine
    rate_g_s: estimate
    wind_speed_tag: chlor.main.weather.mast.wind-speed
    wind_from_deg: 90
    stability: D
  - {id: resources, kind: suggest_resources, kinds: [fire-brigade, medical-team]}
  - {id: close, kind: close, report: [html, pdf]}
"""


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(GOOD)
    doc.update(changes)
    return doc


def test_a_playbook_file_is_read_with_typed_steps(tmp_path: Path) -> None:
    path = tmp_path / "chlorine.yaml"
    path.write_text(GOOD, encoding="utf-8")
    playbook = load_playbook(path)
    assert (playbook.name, playbook.version) == ("chlorine-leak", 3)
    assert [s.kind for s in playbook.steps] == [
        "notify", "wait_ack", "notify", "open_incident", "park_linkage",
        "suggest_resources", "close",
    ]  # fmt: skip
    assert isinstance(playbook.steps[0], Notify) and playbook.steps[0].channels == (
        "webhook",
        "email",
    )
    assert isinstance(playbook.steps[1], WaitAck) and playbook.steps[1].timeout_s == 120
    assert isinstance(playbook.steps[4], ParkLinkage) and playbook.steps[4].rate_g_s == "estimate"


def test_outcomes_lead_to_the_next_step_or_where_on_says() -> None:
    playbook = parse_playbook(_doc(), source="p.yaml")
    assert playbook.next_step("wait-shift", StepOutcome.TIMED_OUT) == "notify-park"
    assert playbook.next_step("wait-shift", StepOutcome.ACKNOWLEDGED) == "incident"
    assert playbook.next_step("close", StepOutcome.DONE) is None
    ended = _doc()
    ended["steps"][1]["next"] = {"acknowledged": "end"}
    assert (
        parse_playbook(ended, source="p.yaml").next_step("wait-shift", StepOutcome.ACKNOWLEDGED)
        is None
    )


def _problems(doc: object) -> list[str]:
    with pytest.raises(PlaybookError) as info:
        parse_playbook(doc, source="p.yaml")
    assert str(info.value).startswith("p.yaml: ")
    return list(info.value.problems)


def test_every_problem_names_its_step_and_field() -> None:
    doc = _doc()
    doc["steps"][1]["timeout_s"] = 0
    doc["steps"][2]["to"] = ["boss"]
    doc["steps"][5]["kinds"] = []
    problems = _problems(doc)
    assert len(problems) == 3
    assert problems[0].startswith("steps[1] (wait-shift).timeout_s: ")
    assert problems[1].startswith("steps[2] (notify-park).to: ")
    assert "user:<name> or position:<position>@<level>" in problems[1]
    assert problems[2].startswith("steps[5] (resources).kinds: ")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"version": 0}, "version: "),
        ({"name": "Chlorine Leak"}, "name: "),
        ({"steps": []}, "steps: "),
        ({"trigger": {"event": "alarm", "min_colour": "red"}}, "apply to warnings"),
        ({"trigger": {"event": "warning", "conditions": ["HH"]}}, "apply to alarms"),
        ({"trigger": {"event": "alarm", "scope": "Chlor/Main"}}, "trigger.scope: "),
        ({"trigger": {"event": "alarm", "tags": ["Level PV"]}}, "trigger.tags: "),
        ({"trigger": {"event": "fire"}}, "trigger.event: "),
    ],
)
def test_bad_playbooks_are_refused_with_the_field_named(
    change: dict[str, Any], expected: str
) -> None:
    assert any(expected in p for p in _problems(_doc(**change)))


def test_step_references_and_ids_are_checked() -> None:
    doc = _doc()
    doc["steps"][1]["next"] = {"timed_out": "nowhere"}
    assert _problems(doc) == ["steps[1] (wait-shift).next.timed_out: no step 'nowhere'"]
    doc = _doc()
    doc["steps"][2]["id"] = "notify-shift"
    assert _problems(doc) == ["steps[2] (notify-shift).id: used by an earlier step"]


def test_an_unknown_step_kind_and_a_wind_given_twice_are_refused() -> None:
    doc = _doc()
    doc["steps"][3]["kind"] = "call_fire_brigade"
    doc["steps"][4]["wind_m_s"] = 3.0
    problems = _problems(doc)
    assert problems[0].startswith("steps[3] (incident): ")
    assert (
        problems[1].startswith("steps[4] (plume): ") and "wind_speed_tag or wind_m_s" in problems[1]
    )


def test_a_file_that_is_not_yaml_or_missing_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [x\n")
    with pytest.raises(PlaybookError, match=r"broken\.yaml: not valid YAML"):
        load_playbook(broken)
    with pytest.raises(PlaybookError, match="cannot read"):
        load_playbook(tmp_path / "missing.yaml")
    with pytest.raises(PlaybookError, match="expected a mapping"):
        parse_playbook(["steps"], source="list.yaml")
