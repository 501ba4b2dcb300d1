"""Escalation rules: when an open warning goes one colour up by itself.

Two kinds of rule, both frozen values configured per deployment (the defaults are the
placeholders of the proposed rule set, reference standards §2.3 — not normative):

``PersistRule`` — *continuous* (持续): a warning that persists for ``after_ms`` at its colour
goes one colour up, then again after another ``after_ms``, up to ``ceiling`` (never beyond
red). What must persist is the rule's ``basis``: ``UNACKNOWLEDGED`` (raised and nobody has
acknowledged it — the push chain's response timer) or ``ACTIVE`` (the detector still sees
the condition, acknowledged or not — "continuous over-limit ≥ T"). The clock starts when
the warning reached its current colour (or, for ``ACTIVE``, when the condition was last
seen to start, if later); the warning is due *at* start + ``after_ms`` inclusive.

``AgreementRule`` — *multi-point* (多点): when at least ``detectors`` distinct detectors
(``basis`` ``DETECTOR``: distinct detector names; ``SOURCE``: distinct detector + subject,
e.g. two gas detectors watched by the same method) have open, active warnings of at least
``at_least`` in one installation, each last observed no earlier than ``now - window_ms``
(inclusive; a source clock slightly ahead of ``now`` does not exclude a warning), each of
those warnings goes one colour up, once per rule.

``evaluate`` applies every rule that is due at ``now`` and returns the journaled changes in
time order. Persistence steps are stamped with the instant each became due, so the outcome
does not depend on how often ``evaluate`` runs; agreement is judged on the warnings as they
are at ``now`` and stamped ``now``. Every escalation names its rule (``rule``) and says why
(``cause``). Warnings already red, or at the rule's ceiling, are left alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hazwatch.domain.clock import HOUR_MS, MINUTE_MS, Millis
from hazwatch.domain.warning import Colour, EarlyWarning, WarningState
from hazwatch.warn.lifecycle import WarningChange, escalate


class PersistBasis(StrEnum):
    """What must persist for a ``PersistRule``."""

    UNACKNOWLEDGED = "unacknowledged"
    ACTIVE = "active"


class AgreementBasis(StrEnum):
    """What counts as one voice for an ``AgreementRule``."""

    DETECTOR = "detector"
    SOURCE = "source"


def _check_rule(name: str, ceiling: Colour) -> None:
    if not name.strip():
        raise ValueError("an escalation rule needs a name")
    if ceiling is Colour.BLUE:
        raise ValueError(f"rule {name}: a ceiling of blue never escalates")


def duration(ms: Millis) -> str:
    """A rule's duration as an operator reads it: ``90 s``, ``30 min``, ``2 h``."""
    if ms % HOUR_MS == 0 and ms >= HOUR_MS:
        return f"{ms // HOUR_MS} h"
    if ms % MINUTE_MS == 0 and ms >= MINUTE_MS:
        return f"{ms // MINUTE_MS} min"
    return f"{ms / 1000:g} s"


@dataclass(frozen=True, slots=True, kw_only=True)
class PersistRule:
    """One colour up per ``after_ms`` (> 0) that a warning persists at its colour."""

    name: str
    after_ms: Millis
    basis: PersistBasis = PersistBasis.UNACKNOWLEDGED
    ceiling: Colour = Colour.RED

    def __post_init__(self) -> None:
        _check_rule(self.name, self.ceiling)
        if self.after_ms <= 0:
            raise ValueError(f"rule {self.name}: after_ms must be positive")

    def due_at(self, warning: EarlyWarning) -> Millis | None:
        """When the warning becomes due for this rule; ``None`` while it does not persist."""
        if not warning.is_open or not self.ceiling.above(warning.colour):
            return None
        if self.basis is PersistBasis.UNACKNOWLEDGED:
            if warning.state is not WarningState.RAISED:
                return None
            start = warning.colour_since
        else:
            if not warning.active:
                return None
            start = max(warning.colour_since, warning.active_since)
        return start + self.after_ms

    def cause(self, warning: EarlyWarning) -> str:
        what = "unacknowledged" if self.basis is PersistBasis.UNACKNOWLEDGED else "seen"
        return f"{what} for {duration(self.after_ms)} at {warning.colour}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AgreementRule:
    """One colour up when ``detectors`` (≥ 2) distinct voices agree in one installation."""

    name: str
    detectors: int
    window_ms: Millis
    basis: AgreementBasis = AgreementBasis.DETECTOR
    at_least: Colour = Colour.BLUE
    ceiling: Colour = Colour.RED

    def __post_init__(self) -> None:
        _check_rule(self.name, self.ceiling)
        if self.detectors < 2:
            raise ValueError(f"rule {self.name}: agreement needs at least 2 detectors")
        if self.window_ms < 0:
            raise ValueError(f"rule {self.name}: window_ms must not be negative")

    def counts(self, warning: EarlyWarning, now: Millis) -> bool:
        """Whether ``warning`` is a voice of agreement at ``now``."""
        return (
            warning.is_open
            and warning.active
            and warning.colour.rank >= self.at_least.rank
            and now - warning.last_observed_at <= self.window_ms
        )

    def voice(self, warning: EarlyWarning) -> str:
        if self.basis is AgreementBasis.DETECTOR:
            return warning.key.detector
        return warning.key.text


EscalationRule = PersistRule | AgreementRule


@dataclass(frozen=True, slots=True, kw_only=True)
class EscalationPolicy:
    """The rules in force, in order of precedence (a tie in time goes to the earlier)."""

    rules: tuple[EscalationRule, ...]

    def __post_init__(self) -> None:
        names = [r.name for r in self.rules]
        if len(set(names)) != len(names):
            raise ValueError(f"escalation rule names repeat: {names}")


DEFAULT_POLICY = EscalationPolicy(
    rules=(
        PersistRule(name="unacknowledged-30min", after_ms=30 * MINUTE_MS),
        AgreementRule(name="area-agreement", detectors=2, window_ms=10 * MINUTE_MS),
    )
)
"""Placeholders of the proposed rule set (30 min, ≥ 2 detectors): configure per site."""


def evaluate(
    policy: EscalationPolicy, warnings: Iterable[EarlyWarning], *, now: Millis
) -> list[WarningChange]:
    """The escalations due at ``now``, in time order (at one instant persistence comes
    before agreement, then the warnings' order, then the rules' order).

    ``warnings``: every open warning (closed ones are ignored) — agreement needs all the
    warnings of an installation. The last change of a warning holds its new value.
    """
    persist = [r for r in policy.rules if isinstance(r, PersistRule)]
    agreement = [r for r in policy.rules if isinstance(r, AgreementRule)]
    current = {w.id: w for w in warnings if w.is_open}
    changes: list[WarningChange] = []
    for warning in list(current.values()):
        for change in _persist(warning, persist, now):
            changes.append(change)
            current[warning.id] = change.warning
    for rule in agreement:
        for change in _agree(rule, list(current.values()), now):
            changes.append(change)
            current[change.warning.id] = change.warning
    changes.sort(key=lambda c: c.transition.at)
    return changes


def _persist(warning: EarlyWarning, rules: list[PersistRule], now: Millis) -> list[WarningChange]:
    """Every persistence step of one warning due by ``now``, each stamped when it fell due."""
    changes: list[WarningChange] = []
    while True:
        due = [(at, i) for i, r in enumerate(rules) if (at := r.due_at(warning)) is not None]
        if not due:
            return changes
        at, i = min(due)
        if at > now:
            return changes
        rule = rules[i]
        change = escalate(
            warning,
            rule=rule.name,
            cause=rule.cause(warning),
            at=at,
            now=now,
            to=warning.colour.up(rule.ceiling),
        )
        changes.append(change)
        warning = change.warning


def _agree(rule: AgreementRule, warnings: list[EarlyWarning], now: Millis) -> list[WarningChange]:
    areas: dict[str, list[EarlyWarning]] = {}
    for warning in warnings:
        if rule.counts(warning, now):
            areas.setdefault(warning.key.installation, []).append(warning)
    changes: list[WarningChange] = []
    for installation, voters in areas.items():
        voices = sorted({rule.voice(w) for w in voters})
        if len(voices) < rule.detectors:
            continue
        what = "detectors" if rule.basis is AgreementBasis.DETECTOR else "sources"
        cause = (
            f"{len(voices)} {what} agree in {installation} within "
            f"{duration(rule.window_ms)}: {', '.join(voices)}"
        )
        for warning in voters:
            already = any(e.rule == rule.name for e in warning.escalations)
            if already or not rule.ceiling.above(warning.colour):
                continue
            changes.append(
                escalate(
                    warning,
                    rule=rule.name,
                    cause=cause,
                    now=now,
                    to=warning.colour.up(rule.ceiling),
                )
            )
    return changes
