"""Grading: the colour a detector's evidence deserves.

Three readings of the evidence, each optional, and the most severe wins:

* **severity of the score** — ``ratio = score / threshold`` (threshold > 0; flagged means
  ratio > 1). ``RatioBands`` give the lower bound of each colour, inclusive: with the
  defaults a ratio in (1, 1.5) is blue, [1.5, 2) yellow, [2, 3) orange, ≥ 3 red.
* **time to limit** — a forecast's time until a limit is crossed, in seconds, against the
  horizon the forecast looks ahead. ``TimeBands`` give the upper bound of each colour,
  inclusive: with the defaults ≤ 5 min red, ≤ 15 min orange, ≤ 30 min yellow, ≤ 60 min
  (the horizon) blue, beyond the horizon nothing. A time of 0 or less (the limit is reached
  already) is red.
* **limit priority** — the ISA-18.2 priority of the limit the forecast heads for (or the
  detector guards) sets a floor: by default a critical limit is at least orange, a high one
  at least yellow. Priority alone never raises a warning: it only lifts a graded one.

The bands are configurable per detector and their defaults are placeholders (the national
colour-triggering rules are not public; reference standards §2.3 and §7). A warning is
raised only when the score is flagged or the forecast falls within the horizon; otherwise
``grade`` returns ``None``.

``grade_ratios`` and ``most_severe_sample`` work on a whole ``Scores`` batch with numpy, so
that the pipeline builds Python objects only for the one sample that represents a batch.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour, most_severe
from hazwatch.warn.detector import Scores, Vector

Ranks = npt.NDArray[np.int8]
"""Colour ranks per sample: 0 no warning, 1 blue … 4 red (``Colour.of_rank``)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RatioBands:
    """Lower bounds (inclusive) of score / threshold per colour: 1 < yellow < orange < red."""

    yellow: float = 1.5
    orange: float = 2.0
    red: float = 3.0

    def __post_init__(self) -> None:
        bounds = (1.0, self.yellow, self.orange, self.red)
        if not all(math.isfinite(b) for b in bounds) or list(bounds) != sorted(set(bounds)):
            raise ValueError(f"ratio bands must rise strictly above 1: {bounds[1:]}")

    def grade(self, ratio: float) -> Colour | None:
        """The colour of one ratio; ``None`` unless ratio > 1."""
        if not ratio > 1.0:
            return None
        if ratio >= self.red:
            return Colour.RED
        if ratio >= self.orange:
            return Colour.ORANGE
        if ratio >= self.yellow:
            return Colour.YELLOW
        return Colour.BLUE


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeBands:
    """Upper bounds (inclusive), in seconds, of the time to limit per colour.

    ``0 < red_s < orange_s < yellow_s < horizon_s``.
    """

    horizon_s: float = 3600.0
    yellow_s: float = 1800.0
    orange_s: float = 900.0
    red_s: float = 300.0

    def __post_init__(self) -> None:
        bounds = (0.0, self.red_s, self.orange_s, self.yellow_s, self.horizon_s)
        if not all(math.isfinite(b) for b in bounds) or list(bounds) != sorted(set(bounds)):
            raise ValueError(f"time bands must rise strictly from 0: {bounds[1:]}")

    def grade(self, time_to_limit_s: float) -> Colour | None:
        """The colour of one forecast; ``None`` beyond the horizon (or NaN)."""
        if not time_to_limit_s <= self.horizon_s:
            return None
        if time_to_limit_s <= self.red_s:
            return Colour.RED
        if time_to_limit_s <= self.orange_s:
            return Colour.ORANGE
        if time_to_limit_s <= self.yellow_s:
            return Colour.YELLOW
        return Colour.BLUE


DEFAULT_PRIORITY_FLOOR: Mapping[Priority, Colour] = MappingProxyType(
    {
        Priority.LOW: Colour.BLUE,
        Priority.MEDIUM: Colour.BLUE,
        Priority.HIGH: Colour.YELLOW,
        Priority.CRITICAL: Colour.ORANGE,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grading:
    """A detector's grading configuration."""

    ratio: RatioBands = field(default_factory=RatioBands)
    time: TimeBands = field(default_factory=TimeBands)
    priority_floor: Mapping[Priority, Colour] = field(
        default_factory=lambda: DEFAULT_PRIORITY_FLOOR
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Evidence:
    """What a detector saw, in the units of its readings.

    ``score``/``threshold``: given together (higher score = more anomalous; threshold > 0);
    ``time_to_limit_s``: a forecast's time until the limit is crossed, seconds;
    ``limit``/``priority``: the limit concerned (``HH``) and its priority.
    """

    score: float | None = None
    threshold: float | None = None
    time_to_limit_s: float | None = None
    limit: str = ""
    priority: Priority | None = None

    def __post_init__(self) -> None:
        if (self.score is None) != (self.threshold is None):
            raise ValueError("score and threshold are given together")
        if self.threshold is not None and not self.threshold > 0:
            raise ValueError(f"threshold {self.threshold} must be positive to grade a ratio")


@dataclass(frozen=True, slots=True, kw_only=True)
class Grade:
    """The colour and, in a few words, why."""

    colour: Colour
    reason: str


def grade(evidence: Evidence, grading: Grading | None = None) -> Grade | None:
    """The colour the evidence deserves; ``None`` when it does not warrant a warning."""
    config = grading or Grading()
    colours: list[Colour] = []
    reasons: list[str] = []
    if evidence.score is not None and evidence.threshold is not None:
        ratio = evidence.score / evidence.threshold
        colour = config.ratio.grade(ratio)
        if colour is not None:
            colours.append(colour)
            reasons.append(
                f"score {_number(evidence.score)} is {ratio:.2f} × its limit "
                f"{_number(evidence.threshold)}"
            )
    if evidence.time_to_limit_s is not None:
        colour = config.time.grade(evidence.time_to_limit_s)
        if colour is not None:
            colours.append(colour)
            what = f"limit {evidence.limit}" if evidence.limit else "limit"
            reasons.append(
                f"{what} reached in {_seconds(evidence.time_to_limit_s)} "
                f"(horizon {_seconds(config.time.horizon_s)})"
            )
    if not colours:
        return None
    if evidence.priority is not None:
        floor = config.priority_floor.get(evidence.priority, Colour.BLUE)
        if floor.above(most_severe(*colours)):
            colours.append(floor)
            reasons.append(f"{evidence.priority} priority limit: at least {floor}")
    return Grade(colour=most_severe(*colours), reason="; ".join(reasons))


def grade_ratios(scores: Scores, bands: RatioBands | None = None) -> Ranks:
    """Colour rank of every sample of a batch by score / threshold (0 = no warning).

    Only ready, flagged samples are graded; their thresholds must be positive.
    """
    config = bands or RatioBands()
    live = scores.ready & scores.flagged
    ranks = np.zeros(len(scores), dtype=np.int8)
    if not live.any():
        return ranks
    threshold = scores.threshold[live]
    if not (threshold > 0).all():
        raise ValueError("grading a ratio needs positive thresholds on flagged samples")
    ratio = scores.score[live] / threshold
    edges = np.array([config.yellow, config.orange, config.red])
    graded = 1 + np.searchsorted(edges, ratio, side="right")
    ranks[live] = np.where(ratio > 1.0, graded, 0)
    return ranks


def most_severe_sample(scores: Scores) -> int | None:
    """Index of the ready, flagged sample with the largest score / threshold (the first of
    equals); ``None`` when no sample is flagged. It represents the batch in one observation.
    """
    live = scores.ready & scores.flagged
    if not live.any():
        return None
    ratio: Vector = np.full(len(scores), -np.inf)
    ratio[live] = scores.score[live] / scores.threshold[live]
    return int(np.argmax(ratio))


def _number(x: float) -> str:
    return f"{x:.4g}"


def _seconds(s: float) -> str:
    if s >= 3600 and s % 3600 == 0:
        return f"{s / 3600:g} h"
    if s >= 60:
        return f"{s / 60:.3g} min"
    return f"{s:.3g} s"
