"""Escalation rules: persistence and agreement, their edges, and independence of tick rate."""

from __future__ import annotations

import pytest

from hazwatch.domain.alarm import SYSTEM_ACTOR
from hazwatch.domain.clock import HOUR_MS, MINUTE_MS
from hazwatch.domain.warning import (
    Colour,
    EarlyWarning,
    Explanation,
    Feedback,
    Observation,
    WarningInput,
    WarningKey,
    WarningState,
)
from hazwatch.warn.escalation import (
    DEFAULT_POLICY,
    AgreementBasis,
    AgreementRule,
    EscalationPolicy,
    EscalationRule,
    PersistBasis,
    PersistRule,
    duration,
    evaluate,
)
from hazwatch.warn.lifecycle import (
    WarningChange,
    acknowledge,
    close,
    observe,
    raise_warning,
    subside,
)

T0 = 1_700_000_000_000
AREA = "acme.north.cracker"
RED, ORANGE, YELLOW, BLUE = Colour.RED, Colour.ORANGE, Colour.YELLOW, Colour.BLUE
S = WarningState
PERSIST = PersistRule(name="unacked-30min", after_ms=30 * MINUTE_MS)
AGREE = AgreementRule(name="area-2", detectors=2, window_ms=10 * MINUTE_MS)


def policy(*rules: EscalationRule) -> EscalationPolicy:
    return EscalationPolicy(rules=rules)


def warn(
    detector: str = "pca-t2",
    *,
    at: int = T0,
    colour: Colour = YELLOW,
    area: str = AREA,
    subject: str = "",
) -> EarlyWarning:
    key = WarningKey(detector=detector, installation=area, subject=subject)
    return raise_warning(
        Observation(key=key, at=at, colour=colour, explanation=Explanation(text="high")), now=at
    ).warning


def final(changes: list[WarningChange]) -> dict[str, EarlyWarning]:
    return {c.warning.id: c.warning for c in changes}


# --- persistence --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("elapsed", "expected"),
    [
        (30 * MINUTE_MS - 1, []),
        (30 * MINUTE_MS, [ORANGE]),
        (60 * MINUTE_MS - 1, [ORANGE]),
        (60 * MINUTE_MS, [ORANGE, RED]),
        (10 * HOUR_MS, [ORANGE, RED]),
    ],
)
def test_unacknowledged_warning_steps_up_per_period_and_stops_at_red(
    elapsed: int, expected: list[Colour]
) -> None:
    changes = evaluate(policy(PERSIST), [warn()], now=T0 + elapsed)
    assert [c.warning.colour for c in changes] == expected
    # each step is stamped when it fell due, whenever evaluate runs
    assert [c.transition.at for c in changes] == [
        T0 + (i + 1) * 30 * MINUTE_MS for i in range(len(expected))
    ]
    for c in changes:
        t = c.transition
        assert (t.input, t.rule, t.actor) == (WarningInput.ESCALATE, "unacked-30min", SYSTEM_ACTOR)
        assert t.cause == f"unacknowledged for 30 min at {t.from_colour}"
        assert c.warning.updated_at == T0 + elapsed


def test_a_red_warning_is_left_alone() -> None:
    assert evaluate(policy(PERSIST), [warn(colour=RED)], now=T0 + 10 * HOUR_MS) == []


def test_ceiling_caps_a_rule() -> None:
    capped = PersistRule(name="to-orange", after_ms=MINUTE_MS, ceiling=ORANGE)
    changes = evaluate(policy(capped), [warn(colour=BLUE)], now=T0 + HOUR_MS)
    assert [c.warning.colour for c in changes] == [YELLOW, ORANGE]
    assert evaluate(policy(capped), [warn(colour=RED)], now=T0 + HOUR_MS) == []


def test_acknowledged_warnings_do_not_persist_unacknowledged() -> None:
    w = acknowledge(warn(), actor="li", now=T0 + MINUTE_MS).warning
    assert evaluate(policy(PERSIST), [w], now=T0 + 10 * HOUR_MS) == []


def test_active_basis_escalates_acknowledged_warnings_while_the_condition_lasts() -> None:
    rule = PersistRule(name="seen-30min", after_ms=30 * MINUTE_MS, basis=PersistBasis.ACTIVE)
    w = acknowledge(warn(), actor="li", now=T0 + MINUTE_MS).warning
    [change] = evaluate(policy(rule), [w], now=T0 + 30 * MINUTE_MS)
    assert (change.warning.colour, change.warning.state) == (ORANGE, S.RAISED)
    assert change.transition.cause == "seen for 30 min at yellow"
    gone = subside(w, at=T0 + 2 * MINUTE_MS, now=T0 + 2 * MINUTE_MS)
    assert gone is not None
    assert evaluate(policy(rule), [gone.warning], now=T0 + 10 * HOUR_MS) == []


def test_active_basis_counts_from_the_return_of_the_condition() -> None:
    rule = PersistRule(name="seen-30min", after_ms=30 * MINUTE_MS, basis=PersistBasis.ACTIVE)
    gone = subside(warn(), at=T0 + MINUTE_MS, now=T0 + MINUTE_MS)
    assert gone is not None
    back = observe(
        gone.warning,
        Observation(
            key=gone.warning.key,
            at=T0 + 20 * MINUTE_MS,
            colour=YELLOW,
            explanation=Explanation(text="x"),
        ),
        now=T0 + 20 * MINUTE_MS,
    )
    assert back is not None
    assert evaluate(policy(rule), [back.warning], now=T0 + 50 * MINUTE_MS - 1) == []
    [change] = evaluate(policy(rule), [back.warning], now=T0 + 50 * MINUTE_MS)
    assert change.transition.at == T0 + 50 * MINUTE_MS


def test_closed_warnings_are_ignored() -> None:
    w = acknowledge(warn(), actor="li", now=T0 + 1).warning
    gone = subside(w, at=T0 + 2, now=T0 + 2)
    assert gone is not None
    done = close(gone.warning, actor="li", cause="c", feedback=Feedback.TRUE_POSITIVE, now=T0 + 3)
    seen = PersistRule(name="seen", after_ms=1, basis=PersistBasis.ACTIVE)
    assert evaluate(policy(seen, PERSIST), [done.warning], now=T0 + HOUR_MS) == []
    # a closed warning is no voice of agreement either
    assert evaluate(policy(AGREE), [done.warning, warn("spe")], now=T0 + MINUTE_MS) == []


def test_outcome_does_not_depend_on_how_often_evaluate_runs() -> None:
    rules = policy(
        PERSIST, PersistRule(name="seen-45min", after_ms=45 * MINUTE_MS, basis=PersistBasis.ACTIVE)
    )
    start = [warn(colour=BLUE), warn("spe", at=T0 + 7 * MINUTE_MS, area="acme.north.boiler")]
    end = T0 + 100 * MINUTE_MS
    once = evaluate(rules, start, now=end)
    assert len(once) >= 4  # both warnings step more than once

    current = {w.id: w for w in start}
    journal = []
    for now in range(T0, end + 1, 7 * MINUTE_MS):
        changes = evaluate(rules, current.values(), now=now)
        journal += [c.transition for c in changes]
        current.update(final(changes))
    last = evaluate(rules, current.values(), now=end)
    journal += [c.transition for c in last]
    current.update(final(last))

    assert [(t.warning_id, t.at, t.rule, t.to_colour) for t in journal] == [
        (c.transition.warning_id, c.transition.at, c.transition.rule, c.transition.to_colour)
        for c in once
    ]
    assert {i: (w.colour, w.escalations) for i, w in current.items()} == {
        i: (w.colour, w.escalations) for i, w in {**{w.id: w for w in start}, **final(once)}.items()
    }


def test_the_earliest_due_rule_wins_and_restarts_the_clock() -> None:
    slow = PersistRule(name="slow", after_ms=40 * MINUTE_MS)
    fast = PersistRule(name="fast", after_ms=25 * MINUTE_MS, basis=PersistBasis.ACTIVE)
    changes = evaluate(policy(slow, fast), [warn(colour=BLUE)], now=T0 + 60 * MINUTE_MS)
    assert [(c.transition.rule, c.transition.at) for c in changes] == [
        ("fast", T0 + 25 * MINUTE_MS),
        ("fast", T0 + 50 * MINUTE_MS),
    ]


# --- agreement ------------------------------------------------------------------------------


def test_two_detectors_in_one_area_each_go_up_once() -> None:
    a, b = warn("pca-t2"), warn("pca-spe", at=T0 + 3 * MINUTE_MS, colour=ORANGE)
    now = T0 + 5 * MINUTE_MS
    changes = evaluate(policy(AGREE), [a, b], now=now)
    got = final(changes)
    assert (got[a.id].colour, got[b.id].colour) == (ORANGE, RED)
    for c in changes:
        assert (c.transition.at, c.transition.rule) == (now, "area-2")
        assert c.transition.cause == f"2 detectors agree in {AREA} within 10 min: pca-spe, pca-t2"
    assert evaluate(policy(AGREE), got.values(), now=now + MINUTE_MS) == []


@pytest.mark.parametrize(
    ("age", "agrees"),
    [(-MINUTE_MS, True), (0, True), (10 * MINUTE_MS, True), (10 * MINUTE_MS + 1, False)],
)
def test_window_edge_is_inclusive(age: int, agrees: bool) -> None:
    now = T0 + HOUR_MS
    a, b = warn("a", at=now - age), warn("b", at=now)
    assert bool(evaluate(policy(AGREE), [a, b], now=now)) is agrees


def test_agreement_needs_one_area_active_recent_voices_of_enough_colour() -> None:
    now = T0 + MINUTE_MS
    other_area = warn("b", area="acme.north.boiler")
    assert evaluate(policy(AGREE), [warn("a"), other_area], now=now) == []
    gone = subside(warn("b"), at=T0 + 1, now=T0 + 1)
    assert gone is not None
    assert evaluate(policy(AGREE), [warn("a"), gone.warning], now=now) == []
    strict = AgreementRule(name="y2", detectors=2, window_ms=HOUR_MS, at_least=YELLOW)
    assert evaluate(policy(strict), [warn("a"), warn("b", colour=BLUE)], now=now) == []
    assert len(evaluate(policy(strict), [warn("a"), warn("b")], now=now)) == 2
    three = AgreementRule(name="k3", detectors=3, window_ms=HOUR_MS)
    assert evaluate(policy(three), [warn("a"), warn("b")], now=now) == []
    assert len(evaluate(policy(three), [warn("a"), warn("b"), warn("c")], now=now)) == 3


def test_basis_decides_whether_one_method_on_two_sources_agrees() -> None:
    gas = [warn("hst", subject=f"{AREA}.area1.gt10{i}") for i in (1, 2)]
    now = T0 + MINUTE_MS
    assert evaluate(policy(AGREE), gas, now=now) == []
    by_source = AgreementRule(
        name="gas-2", detectors=2, window_ms=HOUR_MS, basis=AgreementBasis.SOURCE
    )
    changes = evaluate(policy(by_source), gas, now=now)
    assert [c.warning.colour for c in changes] == [ORANGE, ORANGE]
    assert changes[0].transition.cause.startswith(f"2 sources agree in {AREA} within 1 h: hst:")


def test_a_red_voice_counts_but_does_not_move() -> None:
    red, yellow = warn("a", colour=RED), warn("b")
    [change] = evaluate(policy(AGREE), [red, yellow], now=T0 + MINUTE_MS)
    assert (change.warning.id, change.warning.colour) == (yellow.id, ORANGE)


def test_agreement_reannunciates_an_acknowledged_warning_and_restarts_persistence() -> None:
    a = acknowledge(warn("a"), actor="li", now=T0 + MINUTE_MS).warning
    now = T0 + 2 * MINUTE_MS
    changes = evaluate(policy(PERSIST, AGREE), [a, warn("b")], now=now)
    escalated = final(changes)[a.id]
    assert (escalated.state, escalated.colour, escalated.colour_since) == (S.RAISED, ORANGE, now)
    assert evaluate(policy(PERSIST), [escalated], now=now + 30 * MINUTE_MS - 1) == []
    [step] = evaluate(policy(PERSIST), [escalated], now=now + 30 * MINUTE_MS)
    assert step.warning.colour is RED


def test_persistence_then_agreement_in_one_evaluation_are_in_time_order() -> None:
    now = T0 + 31 * MINUTE_MS
    seen_again = observe(
        warn("a"),
        Observation(
            key=warn("a").key,
            at=now - 2 * MINUTE_MS,
            colour=YELLOW,
            explanation=Explanation(text="x"),
        ),
        now=now - 2 * MINUTE_MS,
    )
    assert seen_again is not None
    a, b = seen_again.warning, warn("b", at=now - MINUTE_MS)
    changes = evaluate(policy(AGREE, PERSIST), [a, b], now=now)
    assert [
        (c.warning.id, c.transition.rule, c.transition.at, c.warning.colour) for c in changes
    ] == [
        (a.id, "unacked-30min", T0 + 30 * MINUTE_MS, ORANGE),
        (a.id, "area-2", now, RED),
        (b.id, "area-2", now, ORANGE),
    ]


# --- configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: PersistRule(name="p", after_ms=0), "after_ms"),
        (lambda: PersistRule(name=" ", after_ms=1), "needs a name"),
        (lambda: PersistRule(name="p", after_ms=1, ceiling=BLUE), "ceiling of blue"),
        (lambda: AgreementRule(name="a", detectors=1, window_ms=1), "at least 2"),
        (lambda: AgreementRule(name="a", detectors=2, window_ms=-1), "window_ms"),
        (
            lambda: policy(
                PersistRule(name="x", after_ms=1), AgreementRule(name="x", detectors=2, window_ms=1)
            ),
            "repeat",
        ),
    ],
)
def test_invalid_configuration_is_refused(make: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()  # type: ignore[operator]


def test_default_policy_holds_one_rule_of_each_kind() -> None:
    kinds = sorted(type(r).__name__ for r in DEFAULT_POLICY.rules)
    assert kinds == ["AgreementRule", "PersistRule"]


@pytest.mark.parametrize(
    ("ms", "text"),
    [
        (1_500, "1.5 s"),
        (90_000, "90 s"),
        (MINUTE_MS, "1 min"),
        (90 * MINUTE_MS, "90 min"),
        (2 * HOUR_MS, "2 h"),
    ],
)
def test_duration_text(ms: int, text: str) -> None:
    assert duration(ms) == text
