"""Emergency-plan templates (应急预案): the checklist an incident opens with.

A plan is declared in YAML, versioned, and validated before use; every problem of a file is
reported at once, naming the task and the field
(``tasks[1] (isolate).assignee: 'boss' is not user:<name> or position:<position>@<level>``)::

    name: chlorine-release
    version: 1
    title: 液氯泄漏应急处置 / chlorine release response
    scenario: 液氯储罐或管线泄漏 / a liquid-chlorine tank or line leaks
    chemicals: [chlorine]
    severity: red                     # red | orange | yellow | blue (level 1 … 4)
    tasks:
      - key: isolate
        title: 关闭泄漏点上下游阀门 / isolate the leak
        assignee: position:shift-operator@installation
        due_min: 5                    # minutes after the incident opens
    notes: |
      Free text shown with the plan.

Assignees use the recipient syntax of playbooks (``user:<name>`` or
``position:<position>@<level>``, ``respond.playbook.RECIPIENT``). The plans shipped with
hazwatch (``builtin_plans``) live beside this module in ``plans/``; an uploaded plan of the
same name takes their place (``storage.plan_repository``). Parsing and checks only; no I/O
beyond reading the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from hazwatch.domain.keys import SEGMENT
from hazwatch.domain.warning import Colour
from hazwatch.respond.playbook import RECIPIENT, Level
from hazwatch.respond.problems import problem_of

MAX_DUE_MIN = 7 * 24 * 60
"""A task falls due at most a week after the incident opens."""


class PlanError(Exception):
    """A plan that cannot be used; ``problems`` name the task and the field each."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def check_assignee(assignee: str) -> str:
    """``assignee`` when it is ``user:<name>`` or ``position:<position>@<level>``;
    ``ValueError`` saying the syntax otherwise."""
    if not RECIPIENT.fullmatch(assignee):
        raise ValueError(
            f"{assignee!r} is not user:<name> or position:<position>@<level>"
            f" (level: {', '.join(Level)})"
        )
    return assignee


class PlanTask(_Model):
    """One checklist item: who does what, and how soon after the incident opens."""

    key: str = Field(pattern=rf"^{SEGMENT}$", description="unique in the plan")
    title: str = Field(min_length=1)
    assignee: str = Field(description="user:<name> or position:<position>@<level>")
    due_min: float = Field(ge=0, le=MAX_DUE_MIN, description="minutes after opening")

    @field_validator("assignee")
    @classmethod
    def _assignee(cls, assignee: str) -> str:
        return check_assignee(assignee)


class Plan(_Model):
    """One version of an emergency-plan template."""

    name: str = Field(pattern=rf"^{SEGMENT}$")
    version: int = Field(ge=1)
    title: str = Field(min_length=1)
    scenario: str = ""
    chemicals: tuple[str, ...] = ()
    severity: Colour = Field(description="the response level the plan is written for")
    tasks: tuple[PlanTask, ...] = Field(min_length=1)
    notes: str = ""

    @model_validator(mode="after")
    def _unique_tasks(self) -> Self:
        keys = [t.key for t in self.tasks]
        for index, key in enumerate(keys):
            if key in keys[:index]:
                raise ValueError(f"tasks[{index}] ({key}).key: used by an earlier task")
        return self


def load_plan(path: Path) -> Plan:
    """The plan of a YAML file; ``PlanError`` with every problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(source, [f"cannot read: {exc.strerror or exc}"]) from exc
    return parse_plan_text(text, source=source)


def parse_plan_text(text: str, *, source: str) -> Plan:
    """The plan of YAML (or JSON) text; ``PlanError`` with every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PlanError(source, [f"not valid YAML: {exc}"]) from exc
    return parse_plan(data, source=source)


def parse_plan(data: object, *, source: str) -> Plan:
    """Validate a plan document (a mapping); ``PlanError`` with every problem."""
    if not isinstance(data, dict):
        raise PlanError(source, ["expected a mapping with name, version, title, severity, tasks"])
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        raise PlanError(
            source, [problem_of(e, data, items="tasks", label="key") for e in exc.errors()]
        ) from exc


def builtin_plans() -> dict[str, Plan]:
    """The plans shipped with hazwatch, by name (read from the package each call)."""
    found: dict[str, Plan] = {}
    folder = resources.files(__package__).joinpath("plans")
    for item in sorted(folder.iterdir(), key=lambda i: i.name):
        if item.name.endswith(".yaml"):
            plan = parse_plan_text(item.read_text(encoding="utf-8"), source=item.name)
            found[plan.name] = plan
    return found
