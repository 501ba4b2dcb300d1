"""Playbooks: what happens, step by step, when an alarm or a warning calls for a response.

A playbook is declared in YAML, versioned, and validated before use; every problem of a
file is reported at once, naming the step and the field
(``steps[1] (wait-shift).timeout_s: Input should be greater than 0``)::

    name: chlorine-leak
    version: 3
    title: 液氯泄漏 / chlorine release
    trigger:
      event: alarm                    # alarm | warning
      conditions: [H, HH]             # alarms: which conditions (default: any)
      min_priority: high              # alarms: at least this priority
      tags: ["*.gas-detection.*"]     # tag keys (globs): a class of tags
      scope: chlor                    # a key prefix: enterprise, site or installation
      park: demo-park                 # the park's key
    steps:
      - id: notify-shift
        kind: notify
        to: [position:shift-operator@installation]
        channels: [webhook, email]
      - id: wait-shift
        kind: wait_ack
        timeout_s: 120
        next: {acknowledged: incident}  # outcome → next step (default: the next in the list)
      - id: notify-park
        kind: notify
        to: [position:emergency-office@park]
      - id: incident
        kind: open_incident
        plan: chlorine-release
      - id: plume
        kind: park_linkage
        chemical: chlorine
        rate_g_s: estimate
        wind_speed_tag: chlor.main.weather.mast.wind-speed
        wind_direction_tag: chlor.main.weather.mast.wind-direction
        stability: D
      - id: resources
        kind: suggest_resources
        kinds: [fire-brigade, medical-team]
      - id: close
        kind: close
        report: [html, pdf]

Steps are small typed units; each ends with one ``StepOutcome``, and ``next`` maps outcomes
to the next step (``end`` stops the run); the key is not ``on:``, which YAML 1.1 reads as
``true``. Recipients are ``user:<name>`` or ``position:<position>@<level>``, the level
(installation … region) taken relative to the scope of what triggered the run. Parsing and
checks only; no I/O beyond reading the file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

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
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import Colour
from hazwatch.respond.problems import problem_of

END = "end"
"""The target of ``next`` that ends the run."""


class StepOutcome(StrEnum):
    """How a step ended."""

    DONE = "done"
    ACKNOWLEDGED = "acknowledged"
    TIMED_OUT = "timed_out"
    FAILED = "failed"
    SKIPPED = "skipped"


class Level(StrEnum):
    """Where a position sits, relative to the scope that triggered the run."""

    INSTALLATION = "installation"
    SITE = "site"
    ENTERPRISE = "enterprise"
    PARK = "park"
    REGION = "region"


RECIPIENT = re.compile(rf"^(user:[\w.@-]+|position:{SEGMENT}@(?:{'|'.join(Level)}))$")
_KEY_PREFIX = re.compile(rf"^{SEGMENT}(\.{SEGMENT}){{0,2}}$")
_GLOB = re.compile(r"^[a-z0-9_.*?-]+$")


class PlaybookError(Exception):
    """A playbook that cannot be used; ``problems`` name the step and the field each."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        super().__init__("\n".join(f"{source}: {p}" for p in self.problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Trigger(_Model):
    """Which alarms or warnings start the playbook; every given criterion must hold."""

    event: Literal["alarm", "warning"]
    conditions: tuple[ConditionKind, ...] = Field(
        default=(), description="alarms: the conditions that trigger (default: any)"
    )
    min_priority: Priority | None = Field(default=None, description="alarms: at least")
    min_colour: Colour | None = Field(default=None, description="warnings: at least")
    detectors: tuple[str, ...] = Field(default=(), description="warnings: detector names")
    tags: tuple[str, ...] = Field(default=(), description="tag key globs (a class of tags)")
    scope: str | None = Field(
        default=None, description="a key prefix: enterprise, site or installation key"
    )
    park: str | None = Field(
        default=None, pattern=rf"^{SEGMENT}$", description="the park's key: its whole park"
    )

    @field_validator("tags")
    @classmethod
    def _globs(cls, tags: tuple[str, ...]) -> tuple[str, ...]:
        for glob in tags:
            if not _GLOB.fullmatch(glob):
                raise ValueError(f"{glob!r} is not a tag key glob (a-z, 0-9, . _ - * ?)")
        return tags

    @field_validator("scope")
    @classmethod
    def _scope(cls, scope: str | None) -> str | None:
        if scope is not None and not _KEY_PREFIX.fullmatch(scope):
            raise ValueError(f"{scope!r} is not an enterprise, site or installation key")
        return scope

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.event == "alarm" and (self.min_colour is not None or self.detectors):
            raise ValueError("min_colour and detectors apply to warnings, not alarms")
        if self.event == "warning" and (self.conditions or self.min_priority is not None):
            raise ValueError("conditions and min_priority apply to alarms, not warnings")
        return self


class _Step(_Model):
    id: str = Field(pattern=rf"^{SEGMENT}$", description="unique in the playbook")
    next: dict[StepOutcome, str] = Field(
        default_factory=dict, description="outcome → next step id, or 'end'"
    )


class Notify(_Step):
    """Send a message to people, over their channels or the ones named."""

    kind: Literal["notify"]
    to: tuple[str, ...] = Field(min_length=1)
    channels: tuple[str, ...] = Field(default=(), description="default: each person's own")
    message: str | None = Field(default=None, description="template; default: the event")

    @field_validator("to")
    @classmethod
    def _recipients(cls, to: tuple[str, ...]) -> tuple[str, ...]:
        return _check_recipients(to)


def _check_recipients(names: tuple[str, ...]) -> tuple[str, ...]:
    for recipient in names:
        if not RECIPIENT.fullmatch(recipient):
            raise ValueError(
                f"{recipient!r} is not user:<name> or position:<position>@<level>"
                f" (level: {', '.join(Level)})"
            )
    return names


class WaitAck(_Step):
    """Wait until someone acknowledges the alarm or warning: ``acknowledged`` or
    ``timed_out``."""

    kind: Literal["wait_ack"]
    timeout_s: float = Field(gt=0)


class OpenIncident(_Step):
    """Open an incident from an emergency-plan template (预案), with its checklist."""

    kind: Literal["open_incident"]
    plan: str = Field(min_length=1)


class ParkLinkage(_Step):
    """Compute the plume and warn enterprises and sensitive places inside its footprint.

    ``warn``: who is told for each place reached, levels taken relative to the place: the
    enterprise a place belongs to, the park it lies in. ``rate_g_s: estimate`` inverts the
    model at the alarm's reading, ``detector_distance_m`` downwind of the release.
    """

    kind: Literal["park_linkage"]
    chemical: str = Field(min_length=1)
    rate_g_s: float | Literal["estimate"] = Field(description="release rate, or from the alarm")
    detector_distance_m: float = Field(default=10.0, gt=0)
    warn: tuple[str, ...] = Field(
        default=("position:safety-officer@enterprise", "position:emergency-office@park"),
        min_length=1,
    )
    wind_speed_tag: str | None = None
    wind_direction_tag: str | None = None
    wind_m_s: float | None = Field(default=None, gt=0)
    wind_from_deg: float | None = Field(default=None, ge=0, lt=360)
    stability: Literal["A", "B", "C", "D", "E", "F", "auto"] = Field(
        default="D", description="Pasquill class, or auto: from the wind and the weather tags"
    )
    solar_radiation_tag: str | None = None
    cloud_cover_tag: str | None = None
    height_m: float = Field(default=0.0, ge=0)

    @field_validator("warn")
    @classmethod
    def _recipients(cls, warn: tuple[str, ...]) -> tuple[str, ...]:
        return _check_recipients(warn)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if isinstance(self.rate_g_s, float) and self.rate_g_s <= 0:
            raise ValueError("rate_g_s must be positive")
        if (self.wind_speed_tag is None) == (self.wind_m_s is None):
            raise ValueError("give wind_speed_tag or wind_m_s (one of them)")
        if (self.wind_direction_tag is None) == (self.wind_from_deg is None):
            raise ValueError("give wind_direction_tag or wind_from_deg (one of them)")
        if self.stability == "auto" and self.solar_radiation_tag is None:
            raise ValueError("stability auto needs solar_radiation_tag (and cloud_cover_tag)")
        return self


class SuggestResources(_Step):
    """Name the nearest suitable emergency resources."""

    kind: Literal["suggest_resources"]
    kinds: tuple[str, ...] = Field(min_length=1)
    count: int = Field(default=3, ge=1, le=50)


class Close(_Step):
    """End the run; write the incident report."""

    kind: Literal["close"]
    report: tuple[Literal["html", "pdf"], ...] = ()


Step = Annotated[
    Notify | WaitAck | OpenIncident | ParkLinkage | SuggestResources | Close,
    Field(discriminator="kind"),
]


class Playbook(_Model):
    """One version of a playbook."""

    name: str = Field(pattern=rf"^{SEGMENT}$")
    version: int = Field(ge=1)
    title: str = ""
    enabled: bool = Field(
        default=True, description="a version with false retires the playbook; runs finish"
    )
    trigger: Trigger
    steps: tuple[Step, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [s.id for s in self.steps]
        for index, step in enumerate(self.steps):
            if step.id in ids[:index]:
                raise ValueError(f"steps[{index}] ({step.id}).id: used by an earlier step")
            for outcome, target in step.next.items():
                if target != END and target not in ids:
                    raise ValueError(
                        f"steps[{index}] ({step.id}).next.{outcome}: no step {target!r}"
                    )
        return self

    def step(self, step_id: str) -> Step:
        return next(s for s in self.steps if s.id == step_id)

    def next_step(self, step_id: str, outcome: StepOutcome) -> str | None:
        """The step after ``step_id`` ended with ``outcome``; None when the run ends."""
        current = self.step(step_id)
        target = current.next.get(outcome)
        if target is not None:
            return None if target == END else target
        index = [s.id for s in self.steps].index(step_id)
        return self.steps[index + 1].id if index + 1 < len(self.steps) else None


def example_playbook(name: str) -> Playbook:
    """A playbook shipped with hazwatch as an example (``respond/playbooks/<name>.yaml``)."""
    item = resources.files(__package__).joinpath("playbooks", f"{name}.yaml")
    data = yaml.safe_load(item.read_text(encoding="utf-8"))
    return parse_playbook(data, source=f"{name}.yaml")


def load_playbook(path: Path) -> Playbook:
    """The playbook of a YAML file; ``PlaybookError`` with every problem."""
    source = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlaybookError(source, [f"cannot read: {exc.strerror or exc}"]) from exc
    except yaml.YAMLError as exc:
        raise PlaybookError(source, [f"not valid YAML: {exc}"]) from exc
    return parse_playbook(data, source=source)


def parse_playbook(data: object, *, source: str) -> Playbook:
    """Validate a playbook document (a mapping); ``PlaybookError`` with every problem."""
    if not isinstance(data, dict):
        raise PlaybookError(source, ["expected a mapping with name, version, trigger, steps"])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        raise PlaybookError(
            source,
            [problem_of(e, data, items="steps", label="id", skip=_KINDS) for e in exc.errors()],
        ) from exc


_KINDS = frozenset(
    {"notify", "wait_ack", "open_incident", "park_linkage", "suggest_resources", "close"}
)
