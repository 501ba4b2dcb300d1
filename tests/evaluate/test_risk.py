"""The dynamic risk colour: baseline from the GB 18218 grade and the MEM assessment score
(bounds of the 2018 guide), live adjustments and their cap, factors not tracked, the
enterprise over its installations, the park over its enterprises, and every contribution
explained."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from hazwatch.domain.alarm import Alarm, AlarmState
from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.scope import ScopeKind
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import (
    Closure,
    Colour,
    EarlyWarning,
    Explanation,
    Feedback,
    WarningKey,
    WarningState,
)
from hazwatch.evaluate.gb18218_tables import Grade
from hazwatch.evaluate.risk import Contribution, Factor, RiskAssessment, assess, assess_park, raised
from hazwatch.evaluate.risk_inputs import (
    MAX_SUBJECTS,
    RiskInputs,
    Tally,
    counts,
    tally_alarms,
    tally_warnings,
    unacknowledged_past_limit,
)
from hazwatch.evaluate.risk_rules import (
    DEFAULT_RULES,
    Adjustment,
    ParkRule,
    RiskRules,
    ScoreBands,
)

ENTERPRISE = ScopeKind.ENTERPRISE
NOW = 1_800_000_000_000
HH = "lpg.main.sphere-farm.tk-201.level HH"


def _one(*names: str) -> Tally:
    return Tally.of(names)


def _by(assessment: RiskAssessment, factor: Factor, level: str = "") -> Contribution:
    (found,) = [c for c in assessment.contributions if c.factor is factor and c.level == level]
    return found


# -- baseline -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "colour"),
    [
        (0, Colour.RED),
        (59.9, Colour.RED),
        (60, Colour.ORANGE),
        (74.9, Colour.ORANGE),
        (75, Colour.YELLOW),
        (89.9, Colour.YELLOW),
        (90, Colour.BLUE),
        (100, Colour.BLUE),
    ],
)
def test_score_bands_of_the_mem_guide_each_bound_in_the_better_colour(
    score: float, colour: Colour
) -> None:
    assert ScoreBands().colour(score) is colour
    # an enterprise with no major hazard: the score alone sets the baseline
    found = assess(RiskInputs(score=score), kind=ENTERPRISE)
    assert found.baseline is colour and found.colour is colour
    assert _by(found, Factor.ASSESSMENT).sets is colour


@pytest.mark.parametrize(
    ("grade", "colour"),
    [
        (Grade.I, Colour.RED),
        (Grade.II, Colour.ORANGE),
        (Grade.III, Colour.YELLOW),
        (Grade.IV, Colour.BLUE),
        (None, Colour.BLUE),
    ],
)
def test_grade_sets_the_baseline_of_an_installation(grade: Grade | None, colour: Colour) -> None:
    found = assess(RiskInputs(grade=grade, grade_of="a.s.i"))
    assert found.baseline is colour and found.colour is colour
    contribution = _by(found, Factor.GRADE)
    assert contribution.value == (grade.value if grade else "none")
    assert contribution.sets is colour


@pytest.mark.parametrize(
    ("grade", "score", "baseline"),
    [
        (Grade.III, 91, Colour.YELLOW),  # the demo LPG terminal: the grade is more severe
        (Grade.IV, 59.9, Colour.RED),  # the score is more severe
        (Grade.I, 95, Colour.RED),
        (None, 76, Colour.YELLOW),
    ],
)
def test_enterprise_baseline_is_the_more_severe_of_grade_and_score(
    grade: Grade | None, score: float, baseline: Colour
) -> None:
    found = assess(RiskInputs(grade=grade, score=score), kind=ENTERPRISE)
    assert found.baseline is baseline


def test_grading_rules_are_configurable() -> None:
    rules = RiskRules(
        grades={
            Grade.I: Colour.RED,
            Grade.II: Colour.RED,
            Grade.III: Colour.ORANGE,
            Grade.IV: Colour.YELLOW,
        },
        not_major_hazard=Colour.YELLOW,
        score_bands=ScoreBands(red_below=50, orange_below=70, yellow_below=85),
    )
    assert assess(RiskInputs(grade=Grade.II), rules).colour is Colour.RED
    assert assess(RiskInputs(), rules).colour is Colour.YELLOW
    assert (
        assess(RiskInputs(grade=Grade.IV, score=85), rules, kind=ENTERPRISE).colour is Colour.YELLOW
    )
    assert assess(RiskInputs(score=69.9), rules, kind=ENTERPRISE).colour is Colour.ORANGE


# -- factors without data --------------------------------------------------------------------


def test_factors_without_data_are_listed_as_not_tracked_and_change_nothing() -> None:
    found = assess(RiskInputs(grade=Grade.IV), kind=ENTERPRISE)
    untracked = {c.factor for c in found.contributions if not c.tracked}
    assert untracked == {
        Factor.ASSESSMENT,
        Factor.HIDDEN_DANGERS,
        Factor.SPECIAL_WORK,
        Factor.COMMITMENT,
        Factor.ONLINE_RATE,
    }
    for c in found.contributions:
        if not c.tracked:
            assert c.steps == 0 and c.floor is None and c.sets is None
            assert c.text.endswith("not tracked")
    assert found.colour is Colour.BLUE and found.steps == 0


def test_an_installation_lists_no_enterprise_factors() -> None:
    factors = {c.factor for c in assess(RiskInputs()).contributions}
    assert Factor.ASSESSMENT not in factors
    assert Factor.COMMITMENT not in factors
    assert Factor.ONLINE_RATE not in factors
    assert {Factor.GRADE, Factor.ALARMS, Factor.UNACKNOWLEDGED, Factor.WARNINGS} <= factors


def test_an_installation_that_cannot_be_graded_has_no_grade_baseline() -> None:
    found = assess(RiskInputs(grade_of="a.s.i", graded=False, grade_problem="no category"))
    grade = _by(found, Factor.GRADE)
    assert not grade.tracked and grade.sets is None and "no category" in grade.text
    assert found.baseline is Colour.BLUE


# -- adjustments ------------------------------------------------------------------------------


def test_a_high_priority_alarm_raises_one_colour_and_names_the_alarm() -> None:
    found = assess(RiskInputs(grade=Grade.III, alarms={Priority.HIGH: _one(HH)}))
    assert found.baseline is Colour.YELLOW and found.colour is Colour.ORANGE
    high = _by(found, Factor.ALARMS, "high")
    assert high.value == 1 and high.steps == 1 and high.subjects == (HH,)
    assert HH in high.text and high.text.endswith(": +1")
    assert _by(found, Factor.ALARMS, "medium").steps == 0


def test_a_critical_alarm_raises_one_colour_and_holds_at_least_orange() -> None:
    found = assess(RiskInputs(alarms={Priority.CRITICAL: _one("gas HH")}))
    # blue + 1 is yellow; the floor lifts it to orange
    assert found.colour is Colour.ORANGE
    assert _by(found, Factor.ALARMS, "critical").floor is Colour.ORANGE


def test_medium_and_low_alarms_do_not_change_the_colour_by_default() -> None:
    found = assess(
        RiskInputs(grade=Grade.IV, alarms={Priority.MEDIUM: _one("a H"), Priority.LOW: _one("b L")})
    )
    assert found.colour is Colour.BLUE
    assert _by(found, Factor.ALARMS, "medium").value == 1


def test_steps_add_up_across_factors_and_are_capped() -> None:
    inputs = RiskInputs(
        alarms={Priority.HIGH: _one(HH)},
        unacknowledged=_one(HH),
        warnings={Colour.ORANGE: _one("ttl:a.s.i:a.s.i.q.t")},
    )
    found = assess(inputs)
    assert found.requested_steps == 3 and found.steps == 2
    assert found.colour is Colour.ORANGE  # blue + 2
    uncapped = assess(inputs, RiskRules(max_steps=3))
    assert uncapped.colour is Colour.RED


def test_floor_wins_over_fewer_steps_and_steps_win_over_a_lower_floor() -> None:
    red_warning = RiskInputs(warnings={Colour.RED: _one("pca-t2:a.s.i")})
    assert assess(red_warning).colour is Colour.ORANGE  # blue + 1 = yellow < floor orange
    on_orange = RiskInputs(grade=Grade.II, warnings={Colour.RED: _one("pca-t2:a.s.i")})
    assert assess(on_orange).colour is Colour.RED  # orange + 1 = red > floor orange


def test_a_factor_counts_from_its_at_least() -> None:
    rules = RiskRules(
        alarms={
            Priority.CRITICAL: Adjustment(),
            Priority.HIGH: Adjustment(steps=1, at_least=3),
            Priority.MEDIUM: Adjustment(),
            Priority.LOW: Adjustment(),
        }
    )
    two = assess(RiskInputs(alarms={Priority.HIGH: _one("a HH", "b HH")}), rules)
    assert two.colour is Colour.BLUE
    assert "no effect below 3" in _by(two, Factor.ALARMS, "high").text
    three = assess(RiskInputs(alarms={Priority.HIGH: _one("a HH", "b HH", "c HH")}), rules)
    assert three.colour is Colour.YELLOW


@pytest.mark.parametrize(
    ("rate", "colour"), [(1.0, Colour.BLUE), (0.9, Colour.BLUE), (0.8999, Colour.YELLOW)]
)
def test_online_rate_below_the_threshold_raises_the_enterprise(rate: float, colour: Colour) -> None:
    found = assess(RiskInputs(score=95, online_rate=rate), kind=ENTERPRISE)
    assert found.colour is colour
    assert _by(found, Factor.ONLINE_RATE).value == rate


def test_missing_daily_commitment_raises_the_enterprise() -> None:
    missing = assess(RiskInputs(score=95, commitment_missing=True), kind=ENTERPRISE)
    made = assess(RiskInputs(score=95, commitment_missing=False), kind=ENTERPRISE)
    assert missing.colour is Colour.YELLOW and _by(missing, Factor.COMMITMENT).value == "missing"
    assert made.colour is Colour.BLUE and _by(made, Factor.COMMITMENT).value == "made"


def test_hidden_dangers_and_special_work_when_tracked() -> None:
    found = assess(
        RiskInputs(hidden_dangers_overdue=_one("HD-1"), special_work=Tally()),
    )
    assert _by(found, Factor.HIDDEN_DANGERS).steps == 1
    assert _by(found, Factor.SPECIAL_WORK).tracked and _by(found, Factor.SPECIAL_WORK).steps == 0
    assert found.colour is Colour.YELLOW


def test_raised_stops_at_red() -> None:
    assert raised(Colour.BLUE, 2) is Colour.ORANGE
    assert raised(Colour.ORANGE, 3) is Colour.RED
    assert raised(Colour.YELLOW, 0) is Colour.YELLOW


# -- enterprise and park -----------------------------------------------------------------------


def test_enterprise_adds_up_its_installations_and_takes_the_most_severe_grade() -> None:
    farm = RiskInputs(
        grade=Grade.III, grade_of="lpg.main.sphere-farm", alarms={Priority.HIGH: _one(HH)}
    )
    loading = RiskInputs(
        grade=None, grade_of="lpg.main.loading", alarms={Priority.HIGH: _one("x HH")}
    )
    combined = RiskInputs.combine([farm, loading], score=91, online_rate=1.0)
    assert combined.grade is Grade.III and combined.grade_of == "lpg.main.sphere-farm"
    assert combined.alarms[Priority.HIGH].count == 2
    found = assess(combined, kind=ENTERPRISE)
    assert found.baseline is Colour.YELLOW and found.colour is Colour.ORANGE
    assert "lpg.main.sphere-farm" in _by(found, Factor.GRADE).text
    assert set(_by(found, Factor.ALARMS, "high").subjects) == {HH, "x HH"}


def test_enterprise_keeps_a_grade_problem_beside_the_grades_it_has() -> None:
    farm = RiskInputs(grade=Grade.II, grade_of="e.s.farm")
    broken = RiskInputs(grade_of="e.s.blend", graded=False, grade_problem="unknown category")
    combined = RiskInputs.combine([farm, broken])
    grade = _by(assess(combined, kind=ENTERPRISE), Factor.GRADE)
    assert grade.sets is Colour.ORANGE and "e.s.blend: unknown category" in grade.text
    alone = RiskInputs.combine([broken])
    assert not _by(assess(alone, kind=ENTERPRISE), Factor.GRADE).tracked


def test_an_enterprise_is_never_less_severe_than_any_installation() -> None:
    grades = [None, Grade.IV, Grade.II]
    tallies = [Tally(), _one("a HH")]
    parts = [
        RiskInputs(
            grade=g, alarms={Priority.CRITICAL: c}, unacknowledged=u, warnings={Colour.ORANGE: w}
        )
        for g, c, u, w in itertools.product(grades, tallies, tallies, tallies)
    ]
    for pair in itertools.combinations(parts, 2):
        enterprise = assess(RiskInputs.combine(list(pair), score=99), kind=ENTERPRISE).colour
        assert all(enterprise.rank >= assess(p).colour.rank for p in pair)


def test_park_is_its_most_severe_enterprise() -> None:
    found = assess_park([("chlor", Colour.YELLOW), ("lpg", Colour.ORANGE), ("cold", Colour.BLUE)])
    assert found.baseline is Colour.ORANGE and found.colour is Colour.ORANGE
    assert [c.level for c in found.contributions if c.factor is Factor.ENTERPRISE] == [
        "lpg",
        "chlor",
        "cold",
    ]


def test_park_rises_when_enough_enterprises_are_severe_at_once() -> None:
    found = assess_park([("a", Colour.ORANGE), ("b", Colour.ORANGE), ("c", Colour.BLUE)])
    concurrent = _by(found, Factor.CONCURRENT)
    assert concurrent.value == 2 and concurrent.subjects == ("a", "b") and concurrent.steps == 1
    assert found.colour is Colour.RED
    strict = RiskRules(park=ParkRule(enterprises=3))
    assert assess_park([("a", Colour.ORANGE), ("b", Colour.RED)], strict).colour is Colour.RED
    assert assess_park([("a", Colour.ORANGE), ("b", Colour.ORANGE)], strict).colour is Colour.ORANGE


def test_a_park_without_enterprises_is_blue() -> None:
    assert assess_park([]).colour is Colour.BLUE


# -- tallies of the live state ------------------------------------------------------------------


def _alarm(
    state: AlarmState,
    *,
    active: bool = True,
    priority: Priority = Priority.HIGH,
    condition: ConditionKind = ConditionKind.HH,
    activated_at: int | None = NOW - MINUTE_MS,
    tag_id: int = 1,
) -> Alarm:
    return Alarm(
        tag_id=tag_id,
        condition=condition,
        state=state,
        active=active,
        priority=priority,
        seq=1,
        updated_at=NOW,
        activated_at=activated_at,
    )


@pytest.mark.parametrize(
    ("alarm", "counted"),
    [
        (_alarm(AlarmState.UNACKED), True),
        (_alarm(AlarmState.ACKED), True),
        (_alarm(AlarmState.RTN_UNACKED, active=False), False),
        (_alarm(AlarmState.NORMAL, active=False), False),
        (_alarm(AlarmState.SHELVED), False),
        (_alarm(AlarmState.SUPPRESSED), False),
        (_alarm(AlarmState.OUT_OF_SERVICE), False),
        (_alarm(AlarmState.UNACKED, condition=ConditionKind.OFFLINE), False),
        (_alarm(AlarmState.UNACKED, condition=ConditionKind.FROZEN), False),
        (_alarm(AlarmState.UNACKED, condition=ConditionKind.DEVICE_OFFLINE), False),
        (_alarm(AlarmState.UNACKED, condition=ConditionKind.LL), True),
    ],
)
def test_which_alarms_count(alarm: Alarm, counted: bool) -> None:
    assert counts(alarm) is counted


def test_unacknowledged_past_the_limit_of_its_priority_exactly_at_the_limit_is_not() -> None:
    limits = DEFAULT_RULES.unacknowledged_after_ms
    at_limit = _alarm(AlarmState.UNACKED, activated_at=NOW - 10 * MINUTE_MS)
    past = _alarm(AlarmState.UNACKED, activated_at=NOW - 10 * MINUTE_MS - 1)
    assert not unacknowledged_past_limit(at_limit, limits, NOW)
    assert unacknowledged_past_limit(past, limits, NOW)
    acked = _alarm(AlarmState.ACKED, activated_at=NOW - 60 * MINUTE_MS)
    assert not unacknowledged_past_limit(acked, limits, NOW)
    medium = _alarm(AlarmState.UNACKED, priority=Priority.MEDIUM, activated_at=NOW - 20 * MINUTE_MS)
    assert not unacknowledged_past_limit(medium, limits, NOW)  # 30 min for medium
    assert not unacknowledged_past_limit(past, {Priority.CRITICAL: 0}, NOW)  # high: no limit


def test_tally_alarms_by_priority_and_late_ones() -> None:
    found = tally_alarms(
        [
            ("t1 HH", _alarm(AlarmState.UNACKED, activated_at=NOW - 11 * MINUTE_MS)),
            ("t2 HH", _alarm(AlarmState.ACKED, tag_id=2)),
            ("t3 H", _alarm(AlarmState.UNACKED, priority=Priority.MEDIUM, tag_id=3)),
            ("t4 HH", _alarm(AlarmState.SHELVED, tag_id=4)),
        ],
        DEFAULT_RULES.unacknowledged_after_ms,
        NOW,
    )
    assert found.active[Priority.HIGH] == Tally(count=2, subjects=("t1 HH", "t2 HH"))
    assert found.active[Priority.MEDIUM].count == 1
    assert found.active[Priority.CRITICAL].count == 0
    assert found.unacknowledged == Tally(count=1, subjects=("t1 HH",))


def _warning(
    colour: Colour, *, active: bool = True, closed: bool = False, n: int = 0
) -> EarlyWarning:
    return EarlyWarning(
        id=f"w{n}",
        key=WarningKey(detector=f"d{n}", installation="a.s.i"),
        state=WarningState.CLOSED if closed else WarningState.RAISED,
        seq=1,
        colour=colour,
        raised_colour=colour,
        colour_since=NOW,
        explanation=Explanation(text="x"),
        raised_at=NOW,
        updated_at=NOW,
        last_observed_at=NOW,
        active=active,
        active_since=NOW,
        closure=Closure(at=NOW, actor="op", cause="c", feedback=Feedback.EXPECTED)
        if closed
        else None,
    )


def test_tally_warnings_counts_open_active_ones_by_colour() -> None:
    found = tally_warnings(
        [
            _warning(Colour.RED, n=1),
            _warning(Colour.RED, active=False, n=2),
            _warning(Colour.ORANGE, active=False, closed=True, n=3),
            _warning(Colour.YELLOW, n=4),
        ]
    )
    assert found[Colour.RED] == Tally(count=1, subjects=("d1:a.s.i",))
    assert found[Colour.ORANGE].count == 0 and found[Colour.YELLOW].count == 1


def test_a_tally_names_a_few_and_counts_all() -> None:
    many = Tally.of(f"t{i}" for i in range(MAX_SUBJECTS + 3))
    assert many.count == MAX_SUBJECTS + 3 and len(many.subjects) == MAX_SUBJECTS
    text = _by(assess(RiskInputs(alarms={Priority.HIGH: many})), Factor.ALARMS, "high").text
    assert text.startswith(f"{MAX_SUBJECTS + 3} high-priority") and ", …)" in text


# -- validation and the explanation as JSON --------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: Adjustment(steps=4),
        lambda: Adjustment(at_least=0),
        lambda: ScoreBands(red_below=80, orange_below=75),
        lambda: RiskRules(grades={Grade.I: Colour.RED}),
        lambda: RiskRules(max_steps=4),
        lambda: RiskRules(online_rate_below=0),
        lambda: RiskInputs(score=100.1),
        lambda: RiskInputs(online_rate=1.5),
        lambda: Tally(count=-1),
        lambda: ParkRule(enterprises=0),
    ],
)
def test_bad_rules_and_inputs_are_refused(build: Callable[[], object]) -> None:
    with pytest.raises(ValueError):
        build()


def test_the_assessment_as_json_explains_every_factor() -> None:
    found = assess(
        RiskInputs(
            grade=Grade.III, grade_of="lpg.main.sphere-farm", alarms={Priority.HIGH: _one(HH)}
        ),
    )
    data = found.as_json()
    assert data["colour"] == "orange" and data["baseline"] == "yellow" and data["steps"] == 1
    high = next(
        c for c in data["contributions"] if c["factor"] == "alarms" and c["level"] == "high"
    )
    assert high == {
        "factor": "alarms",
        "level": "high",
        "value": 1,
        "tracked": True,
        "sets": None,
        "steps": 1,
        "floor": None,
        "subjects": [HH],
        "text": f"1 high-priority alarm(s) active ({HH}): +1",
    }
    assert len(data["contributions"]) == len(found.contributions)
