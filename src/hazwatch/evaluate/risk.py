"""The dynamic risk colour (动态风险四色) of installations, enterprises and parks.

Pure: the live state of one scope node comes in as ``RiskInputs``, the configurable rules
as ``RiskRules``; ``assess`` answers a ``RiskAssessment`` — the colour, the baseline it
started from, and one ``Contribution`` per factor saying what it added and why, so that
the colour can always be explained. No I/O, no clock: instants are worked out by the
caller (``risk_inputs``).

The colours are the MEM four (``domain.warning.Colour``): red/orange/yellow/blue = 重大 /
较大 / 一般 / 较低 risk. The rules are our design on the references' proposal (reference
standards §2.3), not a national rule: every number is a setting.

**Baseline** — the more severe of:

* the GB 18218-2018 grade (``RiskRules.grades``; default I red, II orange, III yellow, IV
  blue; an installation that is not a major hazard: ``not_major_hazard``, blue). The
  standard does not map grades to colours; this default follows the order of both scales
  (一级 is the most hazardous grade, red the most severe colour).
* for an enterprise, its static assessment score on the MEM 100-point scale (危险化学品生产
  储存企业安全风险评估诊断分级指南(试行), 2018): red below 60, orange below 75, yellow
  below 90, blue from 90 (``ScoreBands``; a score exactly on a bound takes the better
  colour: 60 is orange, 59.9 red, 90 blue).

A factor without data (``None``: not assessed, not tracked by this product) sets nothing
and is listed as *not tracked*.

**Adjustments** — each factor present (its count at least ``Adjustment.at_least``) adds its
``steps`` and may set a ``floor``:

    colour = most severe of (baseline raised by min(Σ steps, max_steps), every floor)

Factors: active process alarms by priority; alarms left unacknowledged past their limit;
open, active early warnings by colour; overdue hidden dangers; special work in progress;
a missing daily safety commitment (enterprise); a data online rate below
``online_rate_below`` (enterprise). Each priority and colour is its own contribution, so
steps of different priorities add up (capped by ``max_steps``).

**Enterprise** — ``RiskInputs.combine``: its installations' tallies added up, the most
severe grade among them, and its own score, commitment and online rate. Every adjustment
only grows with its count, so an enterprise is never less severe than any of its
installations. **Park** — ``assess_park``: the most severe of its enterprises' colours,
raised when ``ParkRule.enterprises`` of them are at ``ParkRule.at_least`` or above at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hazwatch.domain.scope import ScopeKind
from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import COLOURS, Colour, most_severe
from hazwatch.evaluate.risk_inputs import NONE, PRIORITIES, RiskInputs, Tally
from hazwatch.evaluate.risk_rules import DEFAULT_RULES, INERT, Adjustment, RiskRules, ScoreBands

__all__ = [
    "Contribution",
    "Factor",
    "RiskAssessment",
    "RiskInputs",
    "RiskRules",
    "assess",
    "assess_park",
    "raised",
]


class Factor(StrEnum):
    GRADE = "grade"
    ASSESSMENT = "assessment"
    ALARMS = "alarms"
    UNACKNOWLEDGED = "unacknowledged"
    WARNINGS = "warnings"
    HIDDEN_DANGERS = "hidden_dangers"
    SPECIAL_WORK = "special_work"
    COMMITMENT = "commitment"
    ONLINE_RATE = "online_rate"
    ENTERPRISE = "enterprise"
    """park: one enterprise's colour"""
    CONCURRENT = "concurrent"
    """park: several enterprises severe at once"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribution:
    """What one factor did. ``value``: the count, score, grade, rate or colour it looked at
    (``None``: not tracked); ``level``: the priority or colour within the factor, or the
    enterprise of a park; ``sets``: the baseline colour it gives (baseline factors);
    ``steps``/``floor``: the adjustment it applied (0 / ``None`` when none)."""

    factor: Factor
    text: str
    value: float | str | None
    level: str = ""
    sets: Colour | None = None
    steps: int = 0
    floor: Colour | None = None
    subjects: tuple[str, ...] = ()

    @property
    def tracked(self) -> bool:
        return self.value is not None

    def as_json(self) -> dict[str, Any]:
        return {
            "factor": self.factor.value,
            "level": self.level,
            "value": self.value,
            "tracked": self.tracked,
            "sets": None if self.sets is None else self.sets.value,
            "steps": self.steps,
            "floor": None if self.floor is None else self.floor.value,
            "subjects": list(self.subjects),
            "text": self.text,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskAssessment:
    """The colour of one node: ``baseline`` raised by ``steps`` (the contributions' steps
    added up, ``requested_steps``, capped at the rules' ``max_steps``), then held at least
    at every floor."""

    colour: Colour
    baseline: Colour
    steps: int
    requested_steps: int
    contributions: tuple[Contribution, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "colour": self.colour.value,
            "baseline": self.baseline.value,
            "steps": self.steps,
            "requested_steps": self.requested_steps,
            "contributions": [c.as_json() for c in self.contributions],
        }


def raised(colour: Colour, steps: int) -> Colour:
    """``colour`` ``steps`` colours more severe, at most red."""
    return Colour.of_rank(min(len(COLOURS), colour.rank + steps))


def assess(
    inputs: RiskInputs,
    rules: RiskRules = DEFAULT_RULES,
    *,
    kind: ScopeKind = ScopeKind.INSTALLATION,
) -> RiskAssessment:
    """The colour of an installation (``kind`` INSTALLATION) or an enterprise (ENTERPRISE:
    the assessment score, the daily commitment and the online rate count too)."""
    enterprise = kind is ScopeKind.ENTERPRISE
    found = [_grade(inputs, rules)]
    if enterprise:
        found.append(_assessment(inputs.score, rules.score_bands))
    for priority in PRIORITIES:
        found.append(_alarms(priority, inputs.alarms.get(priority, NONE), rules))
    found.append(
        _counted(
            Factor.UNACKNOWLEDGED,
            inputs.unacknowledged,
            rules.unacknowledged,
            "alarm(s) unacknowledged past their limit",
        )
    )
    for colour in reversed(COLOURS):
        tally = inputs.warnings.get(colour, NONE)
        adjustment = rules.warnings.get(colour, INERT)
        what = f"{colour.value} early warning(s) active"
        found.append(_counted(Factor.WARNINGS, tally, adjustment, what, level=colour.value))
    found.append(
        _counted(
            Factor.HIDDEN_DANGERS,
            inputs.hidden_dangers_overdue,
            rules.hidden_dangers,
            "hidden danger(s) overdue for rectification",
        )
    )
    found.append(
        _counted(
            Factor.SPECIAL_WORK, inputs.special_work, rules.special_work, "special work in progress"
        )
    )
    if enterprise:
        found.append(_commitment(inputs.commitment_missing, rules))
        found.append(_online(inputs.online_rate, rules))
    return _combine(found, rules)


def assess_park(
    enterprises: Sequence[tuple[str, Colour]], rules: RiskRules = DEFAULT_RULES
) -> RiskAssessment:
    """The colour of a park from its enterprises' ``(key, colour)``: the most severe, raised
    by ``rules.park`` when enough of them are severe at once. A park without enterprises
    is blue."""
    found = [
        Contribution(
            factor=Factor.ENTERPRISE,
            level=key,
            value=colour.value,
            sets=colour,
            text=f"enterprise {key} is {colour.value}",
        )
        for key, colour in sorted(enterprises, key=lambda e: (-e[1].rank, e[0]))
    ]
    rule = rules.park
    severe = Tally.of(key for key, colour in enterprises if colour.rank >= rule.at_least.rank)
    found.append(
        _counted(
            Factor.CONCURRENT,
            severe,
            Adjustment(
                steps=rule.adjustment.steps, floor=rule.adjustment.floor, at_least=rule.enterprises
            ),
            f"enterprise(s) at {rule.at_least.value} or above",
        )
    )
    return _combine(found, rules)


def _combine(found: Sequence[Contribution], rules: RiskRules) -> RiskAssessment:
    baseline = most_severe(Colour.BLUE, *(c.sets for c in found if c.sets is not None))
    requested = sum(c.steps for c in found)
    steps = min(requested, rules.max_steps)
    floors = [c.floor for c in found if c.floor is not None]
    return RiskAssessment(
        colour=most_severe(raised(baseline, steps), *floors),
        baseline=baseline,
        steps=steps,
        requested_steps=requested,
        contributions=tuple(found),
    )


def _grade(inputs: RiskInputs, rules: RiskRules) -> Contribution:
    if not inputs.graded:
        return Contribution(
            factor=Factor.GRADE,
            value=None,
            text=f"GB 18218 grade not worked out ({inputs.grade_problem}): not tracked",
        )
    colour = rules.grade_colour(inputs.grade)
    where = f" ({inputs.grade_of})" if inputs.grade_of else ""
    also = f"; not worked out for {inputs.grade_problem}" if inputs.grade_problem else ""
    if inputs.grade is None:
        return Contribution(
            factor=Factor.GRADE,
            value="none",
            sets=colour,
            text=f"no major hazard installation (GB 18218): {colour.value}{also}",
        )
    return Contribution(
        factor=Factor.GRADE,
        value=inputs.grade.value,
        sets=colour,
        text=f"GB 18218 grade {inputs.grade.value}{where}: {colour.value}{also}",
    )


def _assessment(score: float | None, bands: ScoreBands) -> Contribution:
    if score is None:
        return Contribution(
            factor=Factor.ASSESSMENT, value=None, text="no assessment score: not tracked"
        )
    colour = bands.colour(score)
    return Contribution(
        factor=Factor.ASSESSMENT,
        value=score,
        sets=colour,
        text=f"assessment score {score:g} of 100: {colour.value}",
    )


def _alarms(priority: Priority, tally: Tally, rules: RiskRules) -> Contribution:
    return _counted(
        Factor.ALARMS,
        tally,
        rules.alarms.get(priority, INERT),
        f"{priority.value}-priority alarm(s) active",
        level=priority.value,
    )


def _counted(
    factor: Factor, tally: Tally | None, rule: Adjustment, what: str, *, level: str = ""
) -> Contribution:
    if tally is None:
        return Contribution(factor=factor, level=level, value=None, text=f"{what}: not tracked")
    applies = tally.count >= rule.at_least
    named = f" ({', '.join(tally.subjects)}{', …' if tally.count > len(tally.subjects) else ''})"
    text = f"{tally.count} {what}{named if tally.subjects else ''}"
    return Contribution(
        factor=factor,
        level=level,
        value=tally.count,
        steps=rule.steps if applies else 0,
        floor=rule.floor if applies else None,
        subjects=tally.subjects,
        text=text + _effect(rule, applies, tally.count),
    )


def _effect(rule: Adjustment, applies: bool, count: int) -> str:
    if not applies:
        return f": no effect below {rule.at_least}" if count and rule.at_least > count else ""
    parts = [f"+{rule.steps}"] if rule.steps else []
    if rule.floor is not None:
        parts.append(f"at least {rule.floor.value}")
    return f": {', '.join(parts)}" if parts else ""


def _commitment(missing: bool | None, rules: RiskRules) -> Contribution:
    if missing is None:
        return Contribution(
            factor=Factor.COMMITMENT, value=None, text="daily safety commitment: not tracked"
        )
    if not missing:
        return Contribution(
            factor=Factor.COMMITMENT, value="made", text="daily safety commitment made"
        )
    rule = rules.commitment_missing
    return Contribution(
        factor=Factor.COMMITMENT,
        value="missing",
        steps=rule.steps,
        floor=rule.floor,
        text="daily safety commitment missing" + _effect(rule, True, 1),
    )


def _online(rate: float | None, rules: RiskRules) -> Contribution:
    if rate is None:
        return Contribution(factor=Factor.ONLINE_RATE, value=None, text="online rate: not tracked")
    low = rate < rules.online_rate_below
    rule = rules.online_rate
    text = f"data online rate {rate:.1%}"
    if low:
        text += f", below {rules.online_rate_below:.0%}" + _effect(rule, True, 1)
    return Contribution(
        factor=Factor.ONLINE_RATE,
        value=rate,
        steps=rule.steps if low else 0,
        floor=rule.floor if low else None,
        text=text,
    )
