"""Grading: band edges, combining the readings of evidence, and the vectorised batch path."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour
from hazwatch.warn.detector import Scores
from hazwatch.warn.grading import (
    Evidence,
    Grade,
    Grading,
    RatioBands,
    TimeBands,
    grade,
    grade_ratios,
    most_severe_sample,
)

RED, ORANGE, YELLOW, BLUE = Colour.RED, Colour.ORANGE, Colour.YELLOW, Colour.BLUE


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        (0.5, None),
        (1.0, None),
        (math.nextafter(1.0, 2.0), BLUE),
        (math.nextafter(1.5, 0.0), BLUE),
        (1.5, YELLOW),
        (math.nextafter(2.0, 0.0), YELLOW),
        (2.0, ORANGE),
        (math.nextafter(3.0, 0.0), ORANGE),
        (3.0, RED),
        (1e9, RED),
        (math.nan, None),
    ],
)
def test_ratio_band_edges(ratio: float, expected: Colour | None) -> None:
    assert RatioBands().grade(ratio) is expected


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (math.inf, None),
        (math.nan, None),
        (3600.001, None),
        (3600.0, BLUE),
        (1800.001, BLUE),
        (1800.0, YELLOW),
        (900.001, YELLOW),
        (900.0, ORANGE),
        (300.001, ORANGE),
        (300.0, RED),
        (0.0, RED),
        (-60.0, RED),
    ],
)
def test_time_band_edges(seconds: float, expected: Colour | None) -> None:
    assert TimeBands().grade(seconds) is expected


@pytest.mark.parametrize(
    "bands",
    [
        {"yellow": 1.0},
        {"yellow": 2.0, "orange": 2.0},
        {"orange": 4.0},
        {"red": math.inf},
        {"red": math.nan},
    ],
)
def test_ratio_bands_must_rise_strictly_above_one(bands: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="ratio bands"):
        RatioBands(**bands)


@pytest.mark.parametrize(
    "bands",
    [{"red_s": 0.0}, {"orange_s": 200.0}, {"yellow_s": 3600.0}, {"horizon_s": math.inf}],
)
def test_time_bands_must_rise_strictly_from_zero(bands: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="time bands"):
        TimeBands(**bands)


def test_custom_bands_move_the_edges() -> None:
    tight = RatioBands(yellow=1.1, orange=1.2, red=1.3)
    assert [tight.grade(r) for r in (1.05, 1.1, 1.2, 1.3)] == [BLUE, YELLOW, ORANGE, RED]
    short = TimeBands(horizon_s=600, yellow_s=300, orange_s=120, red_s=60)
    assert [short.grade(s) for s in (601, 600, 300, 120, 60)] == [None, BLUE, YELLOW, ORANGE, RED]


def test_score_evidence() -> None:
    got = grade(Evidence(score=41.25, threshold=18.33))
    assert got == Grade(colour=ORANGE, reason="score 41.25 is 2.25 × its limit 18.33")
    assert grade(Evidence(score=18.0, threshold=18.33)) is None


def test_forecast_evidence() -> None:
    got = grade(Evidence(time_to_limit_s=720, limit="HH"))
    assert got == Grade(colour=ORANGE, reason="limit HH reached in 12 min (horizon 1 h)")
    assert grade(Evidence(time_to_limit_s=7200, limit="HH")) is None


def test_the_most_severe_reading_wins_and_every_reading_is_named() -> None:
    got = grade(Evidence(score=16.0, threshold=10.0, time_to_limit_s=240, limit="H"))
    assert got is not None and got.colour is RED
    assert got.reason == "score 16 is 1.60 × its limit 10; limit H reached in 4 min (horizon 1 h)"
    only_score = grade(Evidence(score=16.0, threshold=10.0, time_to_limit_s=7200))
    assert only_score is not None and only_score.colour is YELLOW and "limit" in only_score.reason


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        (Priority.LOW, BLUE),
        (Priority.MEDIUM, BLUE),
        (Priority.HIGH, YELLOW),
        (Priority.CRITICAL, ORANGE),
    ],
)
def test_limit_priority_sets_a_floor(priority: Priority, expected: Colour) -> None:
    got = grade(Evidence(time_to_limit_s=3000, limit="HH", priority=priority))
    assert got is not None and got.colour is expected
    assert ("at least" in got.reason) is (expected is not BLUE)


def test_priority_never_lowers_and_never_raises_a_warning_alone() -> None:
    red = grade(Evidence(time_to_limit_s=60, priority=Priority.LOW))
    assert red is not None and red.colour is RED and "priority" not in red.reason
    assert grade(Evidence(time_to_limit_s=7200, priority=Priority.CRITICAL)) is None
    assert grade(Evidence(priority=Priority.CRITICAL)) is None


def test_priority_floor_is_configurable() -> None:
    strict = Grading(priority_floor={Priority.CRITICAL: RED})
    got = grade(Evidence(score=11, threshold=10, priority=Priority.CRITICAL), strict)
    assert got is not None and got.colour is RED
    unlisted = grade(Evidence(score=11, threshold=10, priority=Priority.HIGH), strict)
    assert unlisted is not None and unlisted.colour is BLUE


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"score": 1.0}, "together"),
        ({"threshold": 1.0}, "together"),
        ({"score": 1.0, "threshold": 0.0}, "positive"),
        ({"score": 1.0, "threshold": -2.0}, "positive"),
    ],
)
def test_evidence_validation(fields: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Evidence(score=fields.get("score"), threshold=fields.get("threshold"))


def scores(score: list[float], threshold: list[float], ready: list[bool]) -> Scores:
    s, t, r = np.array(score), np.array(threshold), np.array(ready)
    return Scores(score=s, threshold=t, ready=r, flagged=r & (s > t))


def test_batch_grades_match_the_scalar_bands() -> None:
    rng = np.random.default_rng(7)
    n = 2_000
    threshold = rng.uniform(0.5, 20.0, n)
    score = threshold * rng.uniform(0.0, 4.0, n)
    # the band edges exactly, and a warm-up stretch with NaN scores
    score[:4] = threshold[:4] * np.array([1.0, 1.5, 2.0, 3.0])
    ready = np.ones(n, dtype=bool)
    ready[-50:] = False
    score[-50:] = np.nan
    batch = scores(score.tolist(), threshold.tolist(), ready.tolist())
    bands = RatioBands()
    ranks = grade_ratios(batch, bands)
    expected = [
        0 if not ok or (c := bands.grade(s / t)) is None else c.rank
        for s, t, ok in zip(score, threshold, ready, strict=True)
    ]
    assert ranks.tolist() == expected
    assert ranks.dtype == np.int8
    assert set(ranks[:4].tolist()) <= {0, 2, 3, 4}
    assert (ranks[-50:] == 0).all()
    assert {1, 2, 3, 4} <= set(ranks.tolist())


def test_batch_with_nothing_flagged_grades_nothing() -> None:
    batch = scores([1.0, np.nan], [2.0, 2.0], [True, False])
    assert grade_ratios(batch).tolist() == [0, 0]
    assert most_severe_sample(batch) is None


def test_batch_refuses_non_positive_thresholds_on_flagged_samples() -> None:
    with pytest.raises(ValueError, match="positive thresholds"):
        grade_ratios(scores([1.0, 0.5], [0.0, 2.0], [True, True]))


def test_most_severe_sample_is_judged_by_ratio_not_score() -> None:
    batch = scores(
        [50.0, 9.0, 30.0, 99.0, 9.0],
        [40.0, 3.0, 10.0, 1.0, 3.0],
        [True, True, True, False, True],
    )
    # 1.25, 3.0, 3.0, (not ready), 3.0: the first of equals
    assert most_severe_sample(batch) == 1


@pytest.mark.slow
def test_default_bands_on_the_tennessee_eastman_benchmark(benchmark_data: Path) -> None:
    """The recommended monitor's false alarms on normal operation grade low (blue or
    yellow), while clear step faults (IDV 1, 2, 7) grade red on most faulty samples."""
    from hazwatch.datasets import tep

    root = benchmark_data / "tep"
    monitor = tep.monitor(tep.DEFAULT_METHOD)
    monitor.fit(tep.read(root / "train" / "d00.dat")[:, tep.MONITORED])

    def ranks(name: str) -> npt.NDArray[np.int8]:
        monitor.reset()
        batch = monitor.score(tep.read(root / "test" / f"{name}.dat")[:, tep.MONITORED])
        return grade_ratios(batch)[tep.FAULT_START :]

    normal = ranks("d00_te")
    assert (normal >= ORANGE.rank).mean() <= 0.01
    for fault in ("d01_te", "d02_te", "d07_te"):
        graded = ranks(fault)
        assert (graded == RED.rank).mean() >= 0.9, fault
        assert graded.mean() > normal.mean() + 2
