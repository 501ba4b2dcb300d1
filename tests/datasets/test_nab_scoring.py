"""NAB's scoring rules: windows, the scaled sigmoid, probation, profiles, normalisation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hazwatch.datasets.nab_scoring import (
    NO_DETECTION,
    PROFILES,
    normalised,
    outcome,
    probation_length,
    scaled_sigmoid,
    sweep,
    threshold_curve,
)

STANDARD = PROFILES["standard"]
# a 1000-row file: 150 probationary rows, windows of 50 rows
ROWS = 1000
WINDOWS = [(300, 349), (700, 749)]


def _hits(*rows: int) -> np.ndarray:
    scores = np.zeros(ROWS)
    scores[list(rows)] = 1.0
    return scores


def _raw(scores: np.ndarray, profile: str = "standard") -> float:
    return outcome(sweep(ROWS, WINDOWS), scores, 1.0, PROFILES[profile]).raw


def test_scaled_sigmoid_matches_the_published_values() -> None:
    # NAB documents σ(−1) = 0.98661, σ(−0.5) = 0.84828, σ(0) = 0, σ(1) = −0.98661
    got = scaled_sigmoid(np.array([-1.0, -0.5, 0.0, 1.0, 3.0, 10.0]))
    assert got[:4] == pytest.approx([0.98661, 0.84828, 0.0, -0.98661], abs=1e-5)
    assert got[4:].tolist() == [-1.0, -1.0]


def test_probation_is_15_percent_capped_at_750_rows() -> None:
    assert probation_length(1000) == 150
    assert probation_length(4032) == 604
    assert probation_length(22695) == 750


def test_profiles_are_numentas() -> None:
    assert (STANDARD.tp, STANDARD.fp, STANDARD.fn) == (1.0, 0.11, 1.0)
    assert PROFILES["reward_low_FP_rate"].fp == 0.22
    assert PROFILES["reward_low_FN_rate"].fn == 2.0


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_null_detector_scores_0_and_perfect_detector_100(profile: str) -> None:
    costs = PROFILES[profile]
    s = sweep(ROWS, WINDOWS)
    never = np.zeros(ROWS)
    perfect = _hits(300, 700)
    for scores, expected in ((never, 0.0), (perfect, 100.0)):
        _, raw = threshold_curve([s], [scores], costs).best()
        assert normalised(raw, windows=s.windows, costs=costs) == pytest.approx(expected)
    assert threshold_curve([s], [never], costs).best()[0] == NO_DETECTION


def test_detection_at_window_start_earns_full_weight_and_at_end_almost_nothing() -> None:
    start = _raw(_hits(300))
    end = _raw(_hits(349))
    # the other window is missed (−1) in both cases
    assert start == pytest.approx(1.0 - 1.0)
    top = float(scaled_sigmoid(np.array([-1.0]))[0])
    edge = float(scaled_sigmoid(np.array([-1.0 / 50]))[0]) / top
    assert end == pytest.approx(edge - 1.0)
    assert 0 < edge < 0.06
    middle = _raw(_hits(325))
    assert end < middle < start


def test_only_the_earliest_detection_in_a_window_counts() -> None:
    assert _raw(_hits(310, 320, 340)) == pytest.approx(_raw(_hits(310)))
    o = outcome(sweep(ROWS, WINDOWS), _hits(310, 320, 340), 1.0, STANDARD)
    assert (o.tp, o.detected) == (3, 1)


def test_false_positive_costs_grow_with_distance_after_a_window() -> None:
    missed = -2.0
    before_any = _raw(_hits(200)) - missed
    just_after = _raw(_hits(350)) - missed
    later = _raw(_hits(400)) - missed
    far = _raw(_hits(600)) - missed
    assert before_any == pytest.approx(-STANDARD.fp)
    # y = 1 / (W − 1) one row after the window's last row
    assert just_after == pytest.approx(STANDARD.fp * scaled_sigmoid(np.array([1 / 49]))[0])
    assert just_after > later > far
    assert far == pytest.approx(-STANDARD.fp)  # ≥ 3 window widths after
    every = _raw(_hits(200, 201, 202)) - missed
    assert every == pytest.approx(3 * before_any)  # each false positive counts


def test_probationary_rows_are_not_scored() -> None:
    assert _raw(_hits(10, 20, 149)) == pytest.approx(-2.0)
    o = outcome(sweep(ROWS, WINDOWS), _hits(10), 1.0, STANDARD)
    assert o.fp == 0 and o.tn + o.fp + o.tp + o.fn == ROWS - 150


def test_profiles_weigh_misses_and_false_alarms_differently() -> None:
    scores = _hits(300, 200)  # one hit, one miss, one FP before any window
    assert _raw(scores, "standard") == pytest.approx(1 - 1 - 0.11)
    assert _raw(scores, "reward_low_FP_rate") == pytest.approx(1 - 1 - 0.22)
    assert _raw(scores, "reward_low_FN_rate") == pytest.approx(1 - 2 - 0.11)


def test_threshold_curve_agrees_with_direct_scoring_at_every_threshold() -> None:
    rng = np.random.default_rng(7)
    sweeps = [sweep(ROWS, WINDOWS), sweep(600, [(200, 229)]), sweep(400, [])]
    scores = [np.round(rng.random(len(s)), 2) for s in sweeps]  # rounding makes ties
    for costs in PROFILES.values():
        curve = threshold_curve(sweeps, scores, costs)
        assert np.all(np.diff(curve.thresholds) < 0)
        for t, raw in zip(curve.thresholds[::7], curve.raw[::7], strict=True):
            direct = sum(
                outcome(s, x, float(t), costs).raw for s, x in zip(sweeps, scores, strict=True)
            )
            assert raw == pytest.approx(direct)
        best_t, best_raw = curve.best()
        assert best_raw == curve.raw.max()
        assert sum(
            outcome(s, x, best_t, costs).raw for s, x in zip(sweeps, scores, strict=True)
        ) == (pytest.approx(best_raw))


def test_a_file_without_windows_only_counts_false_positives() -> None:
    s = sweep(ROWS, [])
    assert s.windows == 0
    o = outcome(s, _hits(500, 600), 1.0, STANDARD)
    assert o.raw == pytest.approx(-2 * STANDARD.fp) and o.fp == 2


def test_window_bounds_are_checked() -> None:
    with pytest.raises(ValueError, match="outside"):
        sweep(100, [(90, 120)])


def test_normalisation_is_linear_between_null_and_perfect() -> None:
    assert normalised(-19.0, windows=19, costs=STANDARD) == 0.0
    assert normalised(19.0, windows=19, costs=STANDARD) == 100.0
    assert normalised(0.0, windows=19, costs=STANDARD) == 50.0
    assert math.isclose(normalised(-19.0 * 2, windows=19, costs=PROFILES["reward_low_FN_rate"]), 0)
