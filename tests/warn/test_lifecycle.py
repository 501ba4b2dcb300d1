"""The warning lifecycle: every cell of the table, through the functions that move it."""

from __future__ import annotations

from collections.abc import Callable
from itertools import product
from pathlib import Path

import pytest
import yaml

from hazwatch.domain.alarm import SYSTEM_ACTOR
from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.warning import (
    Colour,
    Contribution,
    EarlyWarning,
    Explanation,
    Feedback,
    Observation,
    WarningInput,
    WarningKey,
    WarningState,
    warning_id,
)
from hazwatch.warn.lifecycle import (
    GRADING_RULE,
    REANNUNCIATE,
    TRANSITIONS,
    Refusal,
    WarningChange,
    WarningTransitionError,
    acknowledge,
    close,
    escalate,
    next_state,
    observe,
    raise_warning,
    subside,
)

EXPECTED_FILE = Path(__file__).with_name("lifecycle_expected.yaml")
CELLS = list(product(WarningState, WarningInput))

T0 = 1_700_000_000_000
LATER = T0 + 10 * MINUTE_MS
KEY = WarningKey(detector="pca-t2", installation="acme.north.cracker")
S = WarningState
I = WarningInput  # noqa: E741 — reads as the table's "input"
RED, ORANGE, YELLOW, BLUE = Colour.RED, Colour.ORANGE, Colour.YELLOW, Colour.BLUE


def expected_cells() -> dict[tuple[WarningState, WarningInput], str]:
    raw = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
    return {
        (WarningState(state), WarningInput(given)): outcome
        for state, row in raw.items()
        for given, outcome in row.items()
    }


def test_expectation_file_names_every_cell_once() -> None:
    assert sorted(expected_cells()) == sorted(CELLS)


@pytest.mark.parametrize(("state", "given"), CELLS, ids=str)
def test_cell(state: WarningState, given: WarningInput) -> None:
    outcome = expected_cells()[(state, given)]
    for rises in (True, False):
        got = next_state(state, given, rises)
        if outcome == "refused":
            assert got is None
        elif outcome == "re-annunciate":
            assert TRANSITIONS[(state, given)] is REANNUNCIATE
            assert got is (S.RAISED if rises else state)
        else:
            assert got is WarningState(outcome)


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(S.CLOSED, I.OBSERVE)] = S.RAISED  # type: ignore[index]


# --- the functions, cell by cell -------------------------------------------------------


def explanation(text: str = "T² 41.2 is 2.25 × its limit 18.3") -> Explanation:
    return Explanation(
        text=text,
        contributions=(
            Contribution(variable="ti101", share=0.6),
            Contribution(variable="fi204", share=0.3),
        ),
    )


def obs(at: int, colour: Colour = YELLOW, text: str = "T² high") -> Observation:
    return Observation(key=KEY, at=at, colour=colour, explanation=explanation(text))


def raised() -> EarlyWarning:
    return raise_warning(obs(T0), now=T0 + 1).warning


def quiet(w: EarlyWarning) -> EarlyWarning:
    change = subside(w, at=T0 + 2 * MINUTE_MS, now=T0 + 2 * MINUTE_MS)
    assert change is not None
    return change.warning


def acknowledged() -> EarlyWarning:
    return acknowledge(raised(), actor="li", now=T0 + MINUTE_MS).warning


def closed() -> EarlyWarning:
    return close(
        quiet(acknowledged()),
        actor="li",
        cause="reflux pump tripped, restarted",
        feedback=Feedback.TRUE_POSITIVE,
        now=T0 + 3 * MINUTE_MS,
    ).warning


FIXTURES: dict[str, Callable[[], EarlyWarning]] = {
    "raised": raised,
    "raised-quiet": lambda: quiet(raised()),
    "acknowledged": acknowledged,
    "acknowledged-quiet": lambda: quiet(acknowledged()),
    "closed": closed,
}

ACTIONS: dict[str, tuple[WarningInput, Callable[[EarlyWarning], WarningChange | None]]] = {
    "observe": (I.OBSERVE, lambda w: observe(w, obs(LATER), now=LATER)),
    "observe-lower": (I.OBSERVE, lambda w: observe(w, obs(LATER, BLUE), now=LATER)),
    "observe-higher": (I.OBSERVE, lambda w: observe(w, obs(LATER, ORANGE), now=LATER)),
    "subside": (I.SUBSIDE, lambda w: subside(w, at=LATER, now=LATER)),
    "acknowledge": (I.ACKNOWLEDGE, lambda w: acknowledge(w, actor="wang", now=LATER)),
    "escalate": (
        I.ESCALATE,
        lambda w: escalate(w, rule="manual", cause="crew sees smoke", actor="wang", now=LATER),
    ),
    "close": (
        I.CLOSE,
        lambda w: close(
            w, actor="wang", cause="sensor drift", feedback=Feedback.FALSE_POSITIVE, now=LATER
        ),
    ),
}

# (fixture, action) → (state, colour, active) after, a refusal, "unchanged" (None) or "new"
Outcome = tuple[WarningState, Colour, bool] | Refusal | str
CASES: list[tuple[str, str, Outcome]] = [
    ("raised", "observe", (S.RAISED, YELLOW, True)),
    ("raised", "observe-lower", (S.RAISED, YELLOW, True)),
    ("raised", "observe-higher", (S.RAISED, ORANGE, True)),
    ("raised", "subside", (S.RAISED, YELLOW, False)),
    ("raised", "acknowledge", (S.ACKNOWLEDGED, YELLOW, True)),
    ("raised", "escalate", (S.RAISED, ORANGE, True)),
    ("raised", "close", Refusal.NOT_ALLOWED),
    ("raised-quiet", "observe", (S.RAISED, YELLOW, True)),
    ("raised-quiet", "subside", "unchanged"),
    ("raised-quiet", "acknowledge", (S.ACKNOWLEDGED, YELLOW, False)),
    ("raised-quiet", "escalate", (S.RAISED, ORANGE, False)),
    ("raised-quiet", "close", Refusal.NOT_ALLOWED),
    ("acknowledged", "observe", (S.ACKNOWLEDGED, YELLOW, True)),
    ("acknowledged", "observe-lower", (S.ACKNOWLEDGED, YELLOW, True)),
    ("acknowledged", "observe-higher", (S.RAISED, ORANGE, True)),
    ("acknowledged", "subside", (S.ACKNOWLEDGED, YELLOW, False)),
    ("acknowledged", "acknowledge", Refusal.NOT_ALLOWED),
    ("acknowledged", "escalate", (S.RAISED, ORANGE, True)),
    ("acknowledged", "close", Refusal.STILL_ACTIVE),
    ("acknowledged-quiet", "observe", (S.ACKNOWLEDGED, YELLOW, True)),
    ("acknowledged-quiet", "observe-higher", (S.RAISED, ORANGE, True)),
    ("acknowledged-quiet", "subside", "unchanged"),
    ("acknowledged-quiet", "acknowledge", Refusal.NOT_ALLOWED),
    ("acknowledged-quiet", "escalate", (S.RAISED, ORANGE, False)),
    ("acknowledged-quiet", "close", (S.CLOSED, YELLOW, False)),
    ("closed", "observe", "new"),
    ("closed", "subside", "unchanged"),
    ("closed", "acknowledge", Refusal.NOT_ALLOWED),
    ("closed", "escalate", Refusal.NOT_ALLOWED),
    ("closed", "close", Refusal.NOT_ALLOWED),
]


def test_cases_cover_every_state_and_input_but_raise() -> None:
    covered = {(FIXTURES[f]().state, ACTIONS[a][0]) for f, a, _ in CASES}
    assert covered == {(s, i) for s, i in CELLS if i is not I.RAISE}


@pytest.mark.parametrize(("fixture", "action", "outcome"), CASES, ids=str)
def test_function_cell(fixture: str, action: str, outcome: Outcome) -> None:
    before = FIXTURES[fixture]()
    given, act = ACTIONS[action]
    if isinstance(outcome, Refusal):
        with pytest.raises(WarningTransitionError) as refused:
            act(before)
        error = refused.value
        assert (error.code, error.state, error.input, error.warning_id) == (
            outcome,
            before.state,
            given,
            before.id,
        )
        assert f"{given} refused for warning {before.id} in state {before.state}" in str(error)
        return
    change = act(before)
    if outcome == "unchanged":
        assert change is None
        return
    assert change is not None
    after, transition = change.warning, change.transition
    if outcome == "new":
        assert after.id != before.id and after.seq == 1 and after.state is S.RAISED
        assert transition.input is I.RAISE and transition.from_state is None
        return
    assert isinstance(outcome, tuple)
    assert (after.state, after.colour, after.active) == outcome
    assert (after.id, after.seq, after.updated_at) == (before.id, before.seq + 1, LATER)
    assert (transition.warning_id, transition.seq, transition.input) == (after.id, after.seq, given)
    assert (transition.from_state, transition.to_state) == (before.state, after.state)
    assert (transition.from_colour, transition.to_colour) == (before.colour, after.colour)
    assert transition.at == LATER


# --- raising, deduplication and the journal ----------------------------------------------


def test_raise_starts_a_record_and_its_journal() -> None:
    change = raise_warning(obs(T0, ORANGE, "T² 41.2 is 2.25 × its limit 18.3"), now=T0 + 7)
    w, t = change.warning, change.transition
    assert w.id == warning_id(KEY, T0)
    assert (w.state, w.seq, w.colour, w.raised_colour) == (S.RAISED, 1, ORANGE, ORANGE)
    assert (w.raised_at, w.colour_since, w.last_observed_at, w.active_since) == (T0,) * 4
    assert (w.updated_at, w.observations, w.active, w.detector) == (T0 + 7, 1, True, "pca-t2")
    assert (w.acknowledged_at, w.closure, w.escalations) == (None, None, ())
    assert [c.variable for c in w.explanation.contributions] == ["ti101", "fi204"]
    assert (t.from_state, t.from_colour, t.to_state, t.to_colour) == (None, None, S.RAISED, ORANGE)
    assert (t.at, t.seq, t.actor, t.input) == (T0, 1, SYSTEM_ACTOR, I.RAISE)
    assert t.cause == "T² 41.2 is 2.25 × its limit 18.3"
    assert observe(None, obs(T0, ORANGE), now=T0) == raise_warning(obs(T0, ORANGE), now=T0)


def test_repeated_observations_keep_one_record_and_count() -> None:
    w = raised()
    for i in range(1, 6):
        change = observe(w, obs(T0 + i * MINUTE_MS, text=f"T² high #{i}"), now=T0 + i * MINUTE_MS)
        assert change is not None
        w = change.warning
        assert change.transition.cause == f"T² high #{i}"
    assert (w.id, w.seq, w.observations) == (warning_id(KEY, T0), 6, 6)
    assert (w.raised_at, w.last_observed_at) == (T0, T0 + 5 * MINUTE_MS)
    assert w.explanation.text == "T² high #5"
    assert w.colour_since == T0 and w.escalations == ()


def test_replayed_or_late_observations_change_nothing() -> None:
    w = raised()
    assert observe(w, obs(T0), now=LATER) is None
    later = observe(w, obs(T0 + 5 * MINUTE_MS), now=LATER)
    assert later is not None
    assert observe(later.warning, obs(T0 + MINUTE_MS), now=LATER) is None
    assert subside(later.warning, at=T0 + MINUTE_MS, now=LATER) is None
    replay_of_closed = closed()
    assert observe(replay_of_closed, obs(T0), now=LATER) is None


def test_an_observation_of_another_key_is_a_programming_error() -> None:
    other = Observation(
        key=WarningKey(detector="pca-spe", installation="acme.north.cracker"),
        at=LATER,
        colour=YELLOW,
        explanation=explanation(),
    )
    with pytest.raises(ValueError, match="pca-spe"):
        observe(raised(), other, now=LATER)


def test_a_higher_graded_observation_escalates_by_grading_and_reannunciates() -> None:
    change = observe(acknowledged(), obs(LATER, RED, "T² 90 is 4.9 × its limit"), now=LATER)
    assert change is not None
    w, t = change.warning, change.transition
    assert (w.state, w.colour, w.raised_colour, w.colour_since) == (S.RAISED, RED, YELLOW, LATER)
    assert (w.acknowledged_at, w.acknowledged_by) == (None, None)
    [step] = w.escalations
    assert (step.at, step.from_colour, step.to_colour, step.rule) == (
        LATER,
        YELLOW,
        RED,
        GRADING_RULE,
    )
    assert (t.input, t.rule, t.from_colour, t.to_colour) == (I.OBSERVE, GRADING_RULE, YELLOW, RED)
    lower = observe(w, obs(LATER + 1, BLUE), now=LATER + 1)
    assert lower is not None and lower.warning.colour is RED and lower.transition.rule == ""


def test_return_of_the_condition_restarts_active_since() -> None:
    w = quiet(raised())
    assert (w.active, w.active_since) == (False, T0)
    change = observe(w, obs(LATER), now=LATER)
    assert change is not None and (change.warning.active, change.warning.active_since) == (
        True,
        LATER,
    )
    again = observe(change.warning, obs(LATER + 1), now=LATER + 1)
    assert again is not None and again.warning.active_since == LATER


def test_subside_is_journaled_by_the_system() -> None:
    change = subside(raised(), at=T0 + 5, now=T0 + 9, cause="T² back under its limit")
    assert change is not None
    t = change.transition
    assert (t.at, t.actor, t.cause, t.input) == (
        T0 + 5,
        SYSTEM_ACTOR,
        "T² back under its limit",
        I.SUBSIDE,
    )
    assert change.warning.updated_at == T0 + 9


def test_acknowledge_records_who_and_when() -> None:
    change = acknowledge(raised(), actor="li", comment="going to look", now=LATER)
    w, t = change.warning, change.transition
    assert (w.acknowledged_at, w.acknowledged_by) == (LATER, "li")
    assert (t.actor, t.comment, t.cause, t.at) == ("li", "going to look", "acknowledged", LATER)


def test_close_needs_actor_cause_and_subsidence() -> None:
    w = quiet(acknowledged())
    for actor, cause, code in [
        ("", "drift", Refusal.ACTOR_MISSING),
        ("li", "", Refusal.CAUSE_MISSING),
        ("li", "   ", Refusal.CAUSE_MISSING),
    ]:
        with pytest.raises(WarningTransitionError) as refused:
            close(w, actor=actor, cause=cause, feedback=Feedback.FALSE_POSITIVE, now=LATER)
        assert refused.value.code is code
    with pytest.raises(WarningTransitionError, match=r"still_active.*subsides"):
        close(acknowledged(), actor="li", cause="drift", feedback=Feedback.EXPECTED, now=LATER)
    change = close(
        w, actor="li", cause="start-up of R1", feedback=Feedback.EXPECTED, comment="ok", now=LATER
    )
    closure, t = change.warning.closure, change.transition
    assert closure is not None
    assert (closure.at, closure.actor, closure.cause, closure.feedback) == (
        LATER,
        "li",
        "start-up of R1",
        Feedback.EXPECTED,
    )
    assert (t.feedback, t.cause, t.comment, t.actor) == (
        Feedback.EXPECTED,
        "start-up of R1",
        "ok",
        "li",
    )
    assert not change.warning.is_open


def test_acknowledge_needs_an_actor() -> None:
    with pytest.raises(WarningTransitionError) as refused:
        acknowledge(raised(), actor="", now=LATER)
    assert refused.value.code is Refusal.ACTOR_MISSING


@pytest.mark.parametrize(
    ("colour", "to", "expected"),
    [
        (BLUE, None, YELLOW),
        (ORANGE, None, RED),
        (YELLOW, RED, RED),
        (RED, None, Refusal.NOT_HIGHER),
        (ORANGE, ORANGE, Refusal.NOT_HIGHER),
        (ORANGE, YELLOW, Refusal.NOT_HIGHER),
    ],
)
def test_escalation_must_raise_the_colour(
    colour: Colour, to: Colour | None, expected: Colour | Refusal
) -> None:
    w = raise_warning(obs(T0, colour), now=T0).warning
    if isinstance(expected, Refusal):
        with pytest.raises(WarningTransitionError) as refused:
            escalate(w, rule="r", cause="c", to=to, now=LATER)
        assert refused.value.code is expected
        return
    change = escalate(
        w, rule="persist", cause="unacknowledged for 30 min", to=to, at=T0 + 5, now=LATER
    )
    assert change.warning.colour is expected
    [step] = change.warning.escalations
    assert (step.at, step.from_colour, step.to_colour, step.rule, step.cause) == (
        T0 + 5,
        colour,
        expected,
        "persist",
        "unacknowledged for 30 min",
    )
    t = change.transition
    assert (t.at, t.rule, t.actor, t.cause) == (
        T0 + 5,
        "persist",
        SYSTEM_ACTOR,
        "unacknowledged for 30 min",
    )
    assert change.warning.colour_since == T0 + 5


@pytest.mark.parametrize(("rule", "cause"), [("", "c"), ("r", ""), (" ", "c")])
def test_escalation_names_its_rule_and_cause(rule: str, cause: str) -> None:
    with pytest.raises(WarningTransitionError) as refused:
        escalate(raised(), rule=rule, cause=cause, now=LATER)
    assert refused.value.code is Refusal.CAUSE_MISSING


def test_full_cycle_journal_numbers_every_transition() -> None:
    changes = [raise_warning(obs(T0), now=T0)]
    step: WarningChange | None = observe(changes[-1].warning, obs(T0 + 1), now=T0 + 1)
    assert step is not None
    changes.append(step)
    changes.append(acknowledge(changes[-1].warning, actor="li", now=T0 + 2))
    changes.append(escalate(changes[-1].warning, rule="area", cause="2 agree", now=T0 + 3))
    changes.append(acknowledge(changes[-1].warning, actor="wang", now=T0 + 4))
    step = subside(changes[-1].warning, at=T0 + 5, now=T0 + 5)
    assert step is not None
    changes.append(step)
    changes.append(
        close(
            changes[-1].warning,
            actor="wang",
            cause="valve fixed",
            feedback=Feedback.TRUE_POSITIVE,
            now=T0 + 6,
        )
    )
    journal = [c.transition for c in changes]
    assert [t.seq for t in journal] == [1, 2, 3, 4, 5, 6, 7]
    assert [t.at for t in journal] == [T0 + i for i in range(7)]
    assert [t.input for t in journal] == [
        I.RAISE,
        I.OBSERVE,
        I.ACKNOWLEDGE,
        I.ESCALATE,
        I.ACKNOWLEDGE,
        I.SUBSIDE,
        I.CLOSE,
    ]
    assert [t.to_state for t in journal] == [
        S.RAISED,
        S.RAISED,
        S.ACKNOWLEDGED,
        S.RAISED,
        S.ACKNOWLEDGED,
        S.ACKNOWLEDGED,
        S.CLOSED,
    ]
    assert [c.warning.acknowledged_by for c in changes] == [
        None,
        None,
        "li",
        None,
        "wang",
        "wang",
        "wang",
    ]
    assert all(t.to_state is journal[i + 1].from_state for i, t in enumerate(journal[:-1]))
    assert all(t.to_colour is journal[i + 1].from_colour for i, t in enumerate(journal[:-1]))
    assert len({c.warning.id for c in changes}) == 1
