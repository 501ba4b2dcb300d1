"""Warnings: early-warning records, graded in four colours, distinct from alarms.

An *alarm* says a limit is crossed now (ISA-18.2, ``domain.alarm``). A *warning* says a
detector of early warning (a time-to-limit forecast, multivariate monitoring, an anomaly
score) sees the process heading towards trouble. Warnings are graded in the four colours
of the MEM monitoring and early-warning system — 红/橙/黄/蓝 = 重大/较大/一般/较低 (major,
larger, general, low) — carry an explanation, are deduplicated by ``WarningKey``, and
follow their own lifecycle (``hazwatch.warn.lifecycle``): raised → acknowledged → closed
(消警) with a cause and feedback.

Every change of a warning is one ``WarningTransition`` with a sequence number, the instant,
who or what caused it and why; the journal is keyed by ``(warning_id, seq)`` so that a
replayed transition changes nothing.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from hazwatch.domain.clock import Millis
from hazwatch.domain.keys import INSTALLATION_KEY


class Colour(StrEnum):
    """The four warning grades, most severe first (一级 red … 四级 blue)."""

    RED = "red"
    ORANGE = "orange"
    YELLOW = "yellow"
    BLUE = "blue"

    @property
    def rank(self) -> int:
        """Severity, 1 (blue) … 4 (red): compare colours by rank, never as strings."""
        return _RANK[self]

    @property
    def level(self) -> int:
        """The official level number: 1 (一级, red) … 4 (四级, blue)."""
        return 5 - _RANK[self]

    @property
    def chinese(self) -> str:
        """The colour's name as the MEM system writes it: 红, 橙, 黄, 蓝."""
        return _CHINESE[self]

    @property
    def meaning(self) -> str:
        """What the grade means: major, larger, general, low (risk warning)."""
        return _MEANING[self]

    @property
    def meaning_chinese(self) -> str:
        """重大, 较大, 一般, 较低 (风险预警)."""
        return _MEANING_CHINESE[self]

    def above(self, other: Colour) -> bool:
        """True when this colour is more severe than ``other``."""
        return self.rank > other.rank

    def up(self, ceiling: Colour | None = None) -> Colour:
        """One colour more severe, never beyond ``ceiling`` (default red)."""
        top = COLOURS[-1] if ceiling is None else ceiling
        return self if self.rank >= top.rank else COLOURS[self.rank]

    @classmethod
    def of_rank(cls, rank: int) -> Colour:
        """The colour of a rank 1 … 4."""
        if not 1 <= rank <= len(COLOURS):
            raise ValueError(f"colour rank {rank} outside 1 … {len(COLOURS)}")
        return COLOURS[rank - 1]


_RANK = {Colour.BLUE: 1, Colour.YELLOW: 2, Colour.ORANGE: 3, Colour.RED: 4}
_CHINESE = {Colour.RED: "红", Colour.ORANGE: "橙", Colour.YELLOW: "黄", Colour.BLUE: "蓝"}
_MEANING = {
    Colour.RED: "major",
    Colour.ORANGE: "larger",
    Colour.YELLOW: "general",
    Colour.BLUE: "low",
}
_MEANING_CHINESE = {
    Colour.RED: "重大",
    Colour.ORANGE: "较大",
    Colour.YELLOW: "一般",
    Colour.BLUE: "较低",
}

COLOURS: tuple[Colour, ...] = (Colour.BLUE, Colour.YELLOW, Colour.ORANGE, Colour.RED)
"""The colours from least to most severe (``COLOURS[rank - 1]``)."""


def most_severe(*colours: Colour) -> Colour:
    """The most severe of one or more colours."""
    return max(colours, key=lambda c: c.rank)


class WarningState(StrEnum):
    RAISED = "raised"
    """Open, awaiting acknowledgement (new, or re-annunciated by a higher colour)."""
    ACKNOWLEDGED = "acknowledged"
    """Open, someone has taken charge."""
    CLOSED = "closed"
    """Ended (消警) with a cause and feedback; final."""


class WarningInput(StrEnum):
    """What can happen to a warning."""

    RAISE = "raise"
    """A detector's first observation for a key without an open warning."""
    OBSERVE = "observe"
    """Another observation for the key of an open warning (deduplicated into it)."""
    SUBSIDE = "subside"
    """The detector no longer sees the condition (the evidence is gone)."""
    ACKNOWLEDGE = "acknowledge"
    ESCALATE = "escalate"
    """One or more colours up, by an escalation rule or a command."""
    CLOSE = "close"


class Feedback(StrEnum):
    """What the warning turned out to be, given when it is closed (labels for detectors)."""

    TRUE_POSITIVE = "true_positive"
    """A real abnormal condition."""
    FALSE_POSITIVE = "false_positive"
    """Nothing abnormal: a detector, model or data error."""
    EXPECTED = "expected"
    """A real but planned deviation: start-up, shut-down, maintenance, a test run."""


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningKey:
    """What makes two observations the same warning (deduplication).

    ``detector``: the detector's name (``pca-t2``, ``ttl``); ``installation``: the
    installation key (``enterprise.site.installation``), the *area* for agreement between
    detectors; ``subject``: what inside it is watched — a tag key for a univariate detector,
    ``""`` for the installation as a whole.
    """

    detector: str
    installation: str
    subject: str = ""

    def __post_init__(self) -> None:
        if not self.detector or ":" in self.detector:
            raise ValueError(f"detector name {self.detector!r} is empty or holds ':'")
        if not INSTALLATION_KEY.fullmatch(self.installation):
            raise ValueError(f"{self.installation!r} is not an installation key")

    @property
    def text(self) -> str:
        """``detector:installation[:subject]`` — one string for storage and the API."""
        base = f"{self.detector}:{self.installation}"
        return f"{base}:{self.subject}" if self.subject else base


@dataclass(frozen=True, slots=True, kw_only=True)
class Contribution:
    """One variable's share of a detector's score, 0 … 1."""

    variable: str
    share: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError(f"share {self.share} of {self.variable!r} outside 0 … 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class Explanation:
    """Why a warning was raised: a short text and the top contributing variables.

    ``contributions`` are ordered by share, largest first; their shares add up to at most 1
    (the variables left out hold the rest).
    """

    text: str
    contributions: tuple[Contribution, ...] = ()

    def __post_init__(self) -> None:
        shares = [c.share for c in self.contributions]
        if shares != sorted(shares, reverse=True):
            raise ValueError("contributions must be ordered by share, largest first")
        if math.fsum(shares) > 1.0 + 1e-9:
            raise ValueError("contribution shares add up to more than 1")

    @classmethod
    def of(
        cls, text: str, variables: Sequence[str], shares: Sequence[float], *, top: int = 3
    ) -> Explanation:
        """The explanation naming the ``top`` variables with the largest positive shares.

        ``shares`` is one row of a detector's contributions (``Scores.contributions``),
        aligned with ``variables``; ties keep the variables' order; shares that are not
        positive (or NaN) are left out.
        """
        if len(variables) != len(shares):
            raise ValueError("one share per variable")
        # a normalised row can exceed 1 by a rounding error; NaN (warm-up) is never > 0
        ranked = sorted(
            ((min(float(s), 1.0), i) for i, s in enumerate(shares) if s > 0),
            key=lambda p: (-p[0], p[1]),
        )
        picked = tuple(Contribution(variable=variables[i], share=s) for s, i in ranked[:top])
        return cls(text=text, contributions=picked)


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """A detector's graded verdict on its key at instant ``at`` (epoch ms).

    The detector (through ``hazwatch.warn.grading``) has already decided that this is
    abnormal and how severe: ``colour``.
    """

    key: WarningKey
    at: Millis
    colour: Colour
    explanation: Explanation


@dataclass(frozen=True, slots=True, kw_only=True)
class Escalation:
    """One rise of a warning's colour and the rule that caused it."""

    at: Millis
    from_colour: Colour
    to_colour: Colour
    rule: str
    cause: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Closure:
    """How a warning was closed (消警): by whom, why, and what it turned out to be."""

    at: Millis
    actor: str
    cause: str
    feedback: Feedback


@dataclass(frozen=True, slots=True, kw_only=True)
class EarlyWarning:
    """One warning (named so as not to shadow Python's built-in ``Warning``).

    Fields (all instants epoch ms, UTC):

    ``id``: stable identity (``warning_id(key, raised_at)``); ``seq``: the number of its
    last transition (1 after raising); ``colour``: current grade, ``raised_colour``: the
    grade it was raised with; ``colour_since``: when the current colour was reached (raise,
    escalation); ``explanation``: of the most recent observation; ``observations``: how
    many observations were deduplicated into it (≥ 1); ``last_observed_at``: instant of the
    latest; ``active``: the detector still sees the condition, ``active_since``: when it
    last started to; ``acknowledged_at``/``acknowledged_by``: the last acknowledgement,
    reset when a higher colour re-annunciates the warning; ``closure``: set once closed;
    ``escalations``: every colour rise, oldest first; ``updated_at``: the ``now`` of the
    last change.
    """

    id: str
    key: WarningKey
    state: WarningState
    seq: int
    colour: Colour
    raised_colour: Colour
    colour_since: Millis
    explanation: Explanation
    raised_at: Millis
    updated_at: Millis
    last_observed_at: Millis
    observations: int = 1
    active: bool = True
    active_since: Millis
    acknowledged_at: Millis | None = None
    acknowledged_by: str | None = None
    closure: Closure | None = None
    escalations: tuple[Escalation, ...] = field(default=())

    @property
    def detector(self) -> str:
        return self.key.detector

    @property
    def is_open(self) -> bool:
        return self.state is not WarningState.CLOSED


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningTransition:
    """One journaled change of a warning.

    ``from_state``/``from_colour`` are ``None`` for the transition that raised it. ``at``
    is when it happened (an observation's instant, a rule's due instant, or the ``now`` of
    a command). ``rule`` names the escalation rule for ``ESCALATE`` (and ``"grading"`` when
    an observation's own colour raised the grade); ``feedback`` is set for ``CLOSE``.
    """

    warning_id: str
    seq: int
    at: Millis
    input: WarningInput
    from_state: WarningState | None
    to_state: WarningState
    from_colour: Colour | None
    to_colour: Colour
    actor: str
    cause: str
    comment: str = ""
    rule: str = ""
    feedback: Feedback | None = None


def warning_id(key: WarningKey, raised_at: Millis) -> str:
    """A stable id of the warning of ``key`` raised at ``raised_at``: 16 hex digits.

    Deterministic, so that an observation delivered twice (at-least-once delivery) raises
    the same warning, not two.
    """
    digest = hashlib.blake2b(f"{key.text}@{raised_at}".encode(), digest_size=8)
    return digest.hexdigest()
