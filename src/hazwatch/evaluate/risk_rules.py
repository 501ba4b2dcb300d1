"""The configurable rules of the dynamic risk colour (``evaluate.risk``).

Frozen values built from the ``risk:`` settings (``hazwatch.settings.RiskSettings``) or
used as they are: the defaults are placeholders of our design (reference standards §2.3
proposes the kind of rule, not the numbers; docs/evaluation.md lists them), except the
score bands, which are those of the MEM 2018 enterprise assessment guide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour
from hazwatch.evaluate.gb18218_tables import Grade


def _frozen(mapping: Mapping[Any, Any]) -> Any:
    return field(default_factory=lambda: MappingProxyType(dict(mapping)))


@dataclass(frozen=True, slots=True, kw_only=True)
class Adjustment:
    """What a factor does once its count reaches ``at_least``: ``steps`` colours up (0 … 3)
    and/or at least the colour ``floor``."""

    steps: int = 0
    floor: Colour | None = None
    at_least: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.steps <= 3:
            raise ValueError(f"steps {self.steps} outside 0 … 3")
        if self.at_least < 1:
            raise ValueError(f"at_least {self.at_least} must be at least 1")


INERT = Adjustment()


@dataclass(frozen=True, slots=True, kw_only=True)
class ScoreBands:
    """MEM assessment score (0 … 100) → colour: red below ``red_below``, orange below
    ``orange_below``, yellow below ``yellow_below``, blue from there."""

    red_below: float = 60
    orange_below: float = 75
    yellow_below: float = 90

    def __post_init__(self) -> None:
        if not 0 <= self.red_below <= self.orange_below <= self.yellow_below <= 100:
            raise ValueError("score bands must satisfy 0 ≤ red ≤ orange ≤ yellow ≤ 100")

    def colour(self, score: float) -> Colour:
        if score < self.red_below:
            return Colour.RED
        if score < self.orange_below:
            return Colour.ORANGE
        if score < self.yellow_below:
            return Colour.YELLOW
        return Colour.BLUE


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkRule:
    """A park rises by ``adjustment`` when ``enterprises`` or more of its enterprises are at
    ``at_least`` or above at once."""

    enterprises: int = 2
    at_least: Colour = Colour.ORANGE
    adjustment: Adjustment = Adjustment(steps=1)

    def __post_init__(self) -> None:
        if self.enterprises < 1:
            raise ValueError(f"enterprises {self.enterprises} must be at least 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskRules:
    """The rules of the colour (``evaluate.risk``). Defaults are placeholders of our
    design (docs/evaluation.md): set the ones the supervising authority prescribes."""

    grades: Mapping[Grade, Colour] = _frozen(
        {
            Grade.I: Colour.RED,
            Grade.II: Colour.ORANGE,
            Grade.III: Colour.YELLOW,
            Grade.IV: Colour.BLUE,
        }
    )
    not_major_hazard: Colour = Colour.BLUE
    score_bands: ScoreBands = ScoreBands()
    alarms: Mapping[Priority, Adjustment] = _frozen(
        {
            Priority.CRITICAL: Adjustment(steps=1, floor=Colour.ORANGE),
            Priority.HIGH: Adjustment(steps=1),
            Priority.MEDIUM: INERT,
            Priority.LOW: INERT,
        }
    )
    unacknowledged: Adjustment = Adjustment(steps=1)
    unacknowledged_after_ms: Mapping[Priority, Millis] = _frozen(
        {
            Priority.CRITICAL: 10 * MINUTE_MS,
            Priority.HIGH: 10 * MINUTE_MS,
            Priority.MEDIUM: 30 * MINUTE_MS,
            Priority.LOW: 60 * MINUTE_MS,
        }
    )
    """an active alarm still unacknowledged longer than this after it became active counts
    as unacknowledged past its limit (a priority left out: never)"""
    warnings: Mapping[Colour, Adjustment] = _frozen(
        {
            Colour.RED: Adjustment(steps=1, floor=Colour.ORANGE),
            Colour.ORANGE: Adjustment(steps=1),
            Colour.YELLOW: INERT,
            Colour.BLUE: INERT,
        }
    )
    hidden_dangers: Adjustment = Adjustment(steps=1)
    special_work: Adjustment = Adjustment(steps=1)
    commitment_missing: Adjustment = Adjustment(steps=1)
    online_rate_below: float = 0.9
    online_rate: Adjustment = Adjustment(steps=1)
    max_steps: int = 2
    park: ParkRule = ParkRule()

    def __post_init__(self) -> None:
        if not 0 <= self.max_steps <= 3:
            raise ValueError(f"max_steps {self.max_steps} outside 0 … 3")
        if not 0 < self.online_rate_below <= 1:
            raise ValueError(f"online_rate_below {self.online_rate_below} outside (0, 1]")
        missing = [g.value for g in Grade if g not in self.grades]
        if missing:
            raise ValueError(f"grades: give the colour of grade {', '.join(missing)}")
        for priority, after in self.unacknowledged_after_ms.items():
            if after < 0:
                raise ValueError(f"unacknowledged_after_ms[{priority}] is negative")

    def grade_colour(self, grade: Grade | None) -> Colour:
        return self.not_major_hazard if grade is None else self.grades[grade]


DEFAULT_RULES = RiskRules()
