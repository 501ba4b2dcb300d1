"""Emergency-plan templates: validated before use, every problem named by task and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hazwatch.domain.warning import Colour
from hazwatch.respond.plan import PlanError, builtin_plans, load_plan, parse_plan, parse_plan_text
from hazwatch.respond.playbook import RECIPIENT

GOOD = """
name: chlorine-release
version: 2
title: 液氯泄漏应急处置 / chlorine release
scenario: a tank leaks
chemicals: [chlorine]
severity: red
tasks:
  - {key: isolate, title: 关闭阀门 / isolate, assignee: position:shift-operator@installation,
     due_min: 5}
  - {key: inform-park, title: inform the park, assignee: user:zhang.wei, due_min: 12.5}
notes: wear SCBA
"""


def _doc(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(GOOD)
    doc.update(changes)
    return doc


def test_a_good_plan_is_read_with_its_checklist(tmp_path: Path) -> None:
    path = tmp_path / "chlorine.yaml"
    path.write_text(GOOD, encoding="utf-8")
    plan = load_plan(path)
    assert (plan.name, plan.version, plan.severity) == ("chlorine-release", 2, Colour.RED)
    assert [t.key for t in plan.tasks] == ["isolate", "inform-park"]
    assert plan.tasks[1].due_min == 12.5
    assert plan.title.startswith("液氯泄漏")


def test_every_problem_is_named_by_task_and_field() -> None:
    doc = _doc()
    doc["tasks"][0]["assignee"] = "boss"
    doc["tasks"][1]["due_min"] = -1
    doc["severity"] = "purple"
    doc["owner"] = "me"
    with pytest.raises(PlanError) as caught:
        parse_plan(doc, source="p.yaml")
    problems = caught.value.problems
    assert any(p.startswith("severity: ") for p in problems)
    assert any(
        p.startswith("tasks[0] (isolate).assignee: 'boss' is not user:<name>") for p in problems
    )
    assert any(p.startswith("tasks[1] (inform-park).due_min: ") for p in problems)
    assert any(p.startswith("owner: Extra inputs") for p in problems)
    assert str(caught.value).startswith("p.yaml: ")


def test_task_keys_are_unique_and_a_plan_has_tasks() -> None:
    doc = _doc()
    doc["tasks"][1]["key"] = "isolate"
    with pytest.raises(PlanError, match=r"tasks\[1\] \(isolate\)\.key: used by an earlier task"):
        parse_plan(doc, source="p")
    with pytest.raises(PlanError, match="tasks: Tuple should have at least 1 item"):
        parse_plan(_doc(tasks=[]), source="p")


def test_text_that_is_not_a_plan_is_refused_plainly(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="not valid YAML"):
        parse_plan_text("name: [x", source="p")
    with pytest.raises(PlanError, match="expected a mapping"):
        parse_plan_text("- a\n- b\n", source="p")
    with pytest.raises(PlanError, match="cannot read"):
        load_plan(tmp_path / "missing.yaml")


def test_the_builtin_plans_are_valid_and_bilingual() -> None:
    plans = builtin_plans()
    assert {"chlorine-release", "ammonia-release", "lpg-fire"} <= set(plans)
    chlorine = plans["chlorine-release"]
    keys = [t.key for t in chlorine.tasks]
    # the chlorine-specific measures and the ones every release needs
    assert {"isolate", "scrubber", "water-curtain", "evacuate", "headcount", "inform-park"} <= set(
        keys
    )
    for plan in plans.values():
        assert plan.chemicals
        for task in plan.tasks:
            assert RECIPIENT.fullmatch(task.assignee)
            assert " / " in task.title, f"{plan.name}.{task.key}: Chinese / English"
            assert any("\u4e00" <= c <= "\u9fff" for c in task.title)
