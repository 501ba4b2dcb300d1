"""What the dynamic risk colour looks at (``evaluate.risk``): ``RiskInputs`` of one
installation or enterprise, and the tallies made from the live alarms and warnings.

Which alarms count (``counts``): an alarm whose process condition is active and that is
annunciated — unacknowledged or acknowledged, not shelved, suppressed by design or out of
service — and whose condition is about the process. Offline, frozen, bad-quality and link
conditions are about the data, not the process: the online rate covers them.

An alarm is *unacknowledged past its limit* (``unacknowledged_past_limit``) when it counts,
is still unacknowledged, and became active more than its priority's limit before ``now``
(exactly at the limit is not past it).

Which warnings count (``tally_warnings``): open ones whose detector still sees the
condition. A warning that has subsided waits for its closing (消警) on the warnings list,
but no longer raises the colour.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from hazwatch.domain.alarm import Alarm, AlarmState
from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import COLOURS, Colour, EarlyWarning
from hazwatch.evaluate.gb18218_tables import Grade

MAX_SUBJECTS = 5
"""Subjects named per tally (the count holds them all)."""

PRIORITIES: tuple[Priority, ...] = (
    Priority.CRITICAL,
    Priority.HIGH,
    Priority.MEDIUM,
    Priority.LOW,
)
"""Most severe first, the order contributions are listed in."""

DATA_QUALITY: frozenset[ConditionKind] = frozenset(
    {
        ConditionKind.OFFLINE,
        ConditionKind.FROZEN,
        ConditionKind.BAD_QUALITY,
        ConditionKind.DEVICE_OFFLINE,
        ConditionKind.DEGRADED,
    }
)
"""Conditions about the data, not the process."""

ANNUNCIATED: frozenset[AlarmState] = frozenset({AlarmState.UNACKED, AlarmState.ACKED})

_GRADE_ORDER = {Grade.I: 4, Grade.II: 3, Grade.III: 2, Grade.IV: 1}


@dataclass(frozen=True, slots=True, kw_only=True)
class Tally:
    """How many of something, and the first ``MAX_SUBJECTS`` of them by name."""

    count: int = 0
    subjects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.count < 0:
            raise ValueError(f"count {self.count} is negative")

    @classmethod
    def of(cls, subjects: Iterable[str]) -> Tally:
        named = sorted(subjects)
        return cls(count=len(named), subjects=tuple(named[:MAX_SUBJECTS]))

    def __add__(self, other: Tally) -> Tally:
        return Tally(
            count=self.count + other.count,
            subjects=(self.subjects + other.subjects)[:MAX_SUBJECTS],
        )


NONE = Tally()


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskInputs:
    """The live state of one installation or enterprise (``None``: not tracked).

    ``grade``: GB 18218 grade (``None``: not a major hazard), of the installation
    ``grade_of``; ``graded`` false when no grade could be worked out, ``grade_problem``
    saying why (an enterprise may have a grade from some installations and a problem with
    others). ``score``: MEM assessment score 0 … 100. ``alarms``: active process alarms
    by priority; ``unacknowledged``: those unacknowledged past their limit; ``warnings``:
    open, active early warnings by colour. ``online_rate``: 0 … 1.
    """

    grade: Grade | None = None
    grade_of: str = ""
    graded: bool = True
    grade_problem: str = ""
    score: float | None = None
    alarms: Mapping[Priority, Tally] = field(default_factory=lambda: MappingProxyType({}))
    unacknowledged: Tally = NONE
    warnings: Mapping[Colour, Tally] = field(default_factory=lambda: MappingProxyType({}))
    hidden_dangers_overdue: Tally | None = None
    special_work: Tally | None = None
    commitment_missing: bool | None = None
    online_rate: float | None = None

    def __post_init__(self) -> None:
        if self.score is not None and not 0 <= self.score <= 100:
            raise ValueError(f"score {self.score} outside 0 … 100")
        if self.online_rate is not None and not 0 <= self.online_rate <= 1:
            raise ValueError(f"online_rate {self.online_rate} outside 0 … 1")

    @classmethod
    def combine(
        cls,
        parts: Sequence[RiskInputs],
        *,
        score: float | None = None,
        commitment_missing: bool | None = None,
        online_rate: float | None = None,
    ) -> RiskInputs:
        """An enterprise: its installations' tallies added up, the most severe of their
        grades (a grade problem of any is kept), and the enterprise's own facts."""
        graded = [p for p in parts if p.graded]
        majors = [p for p in graded if p.grade is not None]
        worst = max(majors, key=lambda p: _GRADE_ORDER[p.grade] if p.grade else 0, default=None)
        problems = [f"{p.grade_of}: {p.grade_problem}" for p in parts if not p.graded]
        return cls(
            grade=None if worst is None else worst.grade,
            grade_of="" if worst is None else worst.grade_of,
            graded=bool(graded) or not parts,
            grade_problem="; ".join(problems),
            score=score,
            alarms={p: _sum(x.alarms.get(p, NONE) for x in parts) for p in PRIORITIES},
            unacknowledged=_sum(x.unacknowledged for x in parts),
            warnings={c: _sum(x.warnings.get(c, NONE) for x in parts) for c in COLOURS},
            hidden_dangers_overdue=_sum_tracked(x.hidden_dangers_overdue for x in parts),
            special_work=_sum_tracked(x.special_work for x in parts),
            commitment_missing=commitment_missing,
            online_rate=online_rate,
        )


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = NONE
    for tally in tallies:
        total = total + tally
    return total


def _sum_tracked(tallies: Iterable[Tally | None]) -> Tally | None:
    tracked = [t for t in tallies if t is not None]
    return _sum(tracked) if tracked else None


def counts(alarm: Alarm) -> bool:
    """True when ``alarm`` counts toward the colour (see the module docstring)."""
    return alarm.active and alarm.state in ANNUNCIATED and alarm.condition not in DATA_QUALITY


def unacknowledged_past_limit(
    alarm: Alarm, after_ms: Mapping[Priority, Millis], now: Millis
) -> bool:
    """True when ``alarm`` counts and has waited for acknowledgement longer than the limit of
    its priority in ``after_ms`` (a priority without a limit: never)."""
    limit = after_ms.get(alarm.priority)
    return (
        counts(alarm)
        and alarm.state is AlarmState.UNACKED
        and limit is not None
        and alarm.activated_at is not None
        and now - alarm.activated_at > limit
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmTally:
    """Alarms that count, by priority, and those unacknowledged past their limit."""

    active: Mapping[Priority, Tally]
    unacknowledged: Tally


def tally_alarms(
    alarms: Iterable[tuple[str, Alarm]], after_ms: Mapping[Priority, Millis], now: Millis
) -> AlarmTally:
    """Tally ``(label, alarm)`` pairs; a label names the alarm in the explanation
    (``lpg.main.sphere-farm.tk-201.level HH``)."""
    by_priority: dict[Priority, list[str]] = {p: [] for p in PRIORITIES}
    late: list[str] = []
    for label, alarm in alarms:
        if not counts(alarm):
            continue
        by_priority[alarm.priority].append(label)
        if unacknowledged_past_limit(alarm, after_ms, now):
            late.append(label)
    return AlarmTally(
        active={p: Tally.of(labels) for p, labels in by_priority.items()},
        unacknowledged=Tally.of(late),
    )


def tally_warnings(warnings: Iterable[EarlyWarning]) -> dict[Colour, Tally]:
    """Open warnings whose condition is still seen, by colour, named by their key."""
    by_colour: dict[Colour, list[str]] = {c: [] for c in COLOURS}
    for warning in warnings:
        if warning.is_open and warning.active:
            by_colour[warning.colour].append(warning.key.text)
    return {c: Tally.of(keys) for c, keys in by_colour.items()}
