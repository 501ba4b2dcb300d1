"""Per-variable EWMA charts: envelopes, drift screening, deadband and warm-up."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.warn.detector import Matrix
from hazwatch.warn.ewma import EwmaMonitor, deadband, drift_ratios


def _noise(rng: np.random.Generator, n: int, variables: int = 4) -> Matrix:
    """Independent unit noise around fixed levels: a process holding its operating point."""
    levels = np.array([1.0, 30.0, -2.0, 220.0, 5.0, 0.5])[:variables]
    data: Matrix = levels + rng.normal(size=(n, variables))
    return data


def _fitted(rng: np.random.Generator, **options: float) -> EwmaMonitor:
    monitor = EwmaMonitor(**options)  # type: ignore[arg-type]
    monitor.fit(_noise(rng, 400))
    return monitor


def test_normal_operation_is_rarely_flagged() -> None:
    rng = np.random.default_rng(11)
    monitor = _fitted(rng)
    scores = monitor.score(_noise(rng, 5000))
    assert scores.ready[monitor.warmup :].all()
    assert scores.flagged.mean() < 0.01


def test_sustained_shift_of_one_signal_is_flagged_and_attributed() -> None:
    rng = np.random.default_rng(12)
    monitor = _fitted(rng)
    run = _noise(rng, 1200)
    run[600:900, 1] -= 1.5  # one noise standard deviation and a half, held for 300 samples
    scores = monitor.score(run)
    assert scores.flagged[:600].mean() < 0.02
    assert scores.flagged[640:900].mean() > 0.9
    assert scores.contributions is not None
    assert np.all(np.argmax(scores.contributions[640:900], axis=1) == 1)
    assert np.allclose(scores.contributions[640:900].sum(axis=1), 1.0)
    # the deadband clears the warning once the signal is back inside its envelope
    assert scores.flagged[1000:].mean() < 0.02


def test_a_shift_a_per_sample_test_would_miss_is_found_by_averaging() -> None:
    rng = np.random.default_rng(13)
    monitor = _fitted(rng)
    run = _noise(rng, 1000)
    run[500:, 2] += 1.0
    scores = monitor.score(run)
    assert np.mean(np.abs(run[500:, 2] + 2.0) > 3.0) < 0.1  # rarely beyond 3 sigma alone
    assert scores.flagged[560:].mean() > 0.8


def test_warm_up_is_a_state_not_a_normal_score() -> None:
    rng = np.random.default_rng(14)
    monitor = _fitted(rng)
    assert monitor.warmup == 44  # ceil(ln 0.01 / ln 0.9): the start's weight below 1 %
    run = _noise(rng, 100)
    run[:, 0] += 50.0  # grossly abnormal from the first sample
    scores = monitor.score(run)
    early = slice(0, monitor.warmup - 1)
    assert not scores.ready[early].any()
    assert np.isnan(scores.score[early]).all()
    assert not scores.flagged[early].any()
    assert scores.flagged[monitor.warmup :].all()
    monitor.reset()
    again = monitor.score(run[:10])
    assert not again.ready.any()


def test_flagged_is_ready_and_score_above_the_threshold_in_force() -> None:
    rng = np.random.default_rng(15)
    monitor = _fitted(rng)
    run = _noise(rng, 900)
    run[300:600, 3] += 2.0
    scores = monitor.score(run)
    above = np.nan_to_num(scores.score, nan=-np.inf) > scores.threshold
    assert np.array_equal(scores.flagged, scores.ready & above)
    assert set(np.unique(scores.threshold)) == {monitor.clear_factor, monitor.raise_factor}
    # while a warning is raised the clear limit is in force, otherwise the raise limit
    raised_before = np.concatenate([[False], scores.flagged[:-1]])
    expected = np.where(raised_before, monitor.clear_factor, monitor.raise_factor)
    assert np.array_equal(scores.threshold, expected)


def test_batches_give_the_same_verdicts_as_one_call() -> None:
    rng = np.random.default_rng(16)
    monitor = _fitted(rng)
    run = _noise(rng, 1000)
    run[400:700, 0] += 1.5
    whole = monitor.score(run)
    monitor.reset()
    parts = [monitor.score(run[i : i + 77]) for i in range(0, len(run), 77)]
    assert np.array_equal(whole.flagged, np.concatenate([p.flagged for p in parts]))
    assert np.array_equal(whole.ready, np.concatenate([p.ready for p in parts]))
    joined = np.concatenate([p.score for p in parts])
    assert np.allclose(whole.score, joined, equal_nan=True)


def test_drifting_signal_is_not_monitored() -> None:
    rng = np.random.default_rng(17)
    normal = _noise(rng, 400)
    normal[:, 3] += np.linspace(0.0, 20.0, 400)  # a temperature still warming up
    monitor = EwmaMonitor()
    monitor.fit(normal)
    assert monitor.monitored.tolist() == [True, True, True, False]
    run = _noise(rng, 600)
    run[:, 3] += 60.0  # far beyond anything in the record, yet its level was never learnt
    scores = monitor.score(run)
    assert scores.flagged.mean() < 0.02
    assert scores.contributions is not None
    assert np.all(scores.contributions[monitor.warmup :, 3] == 0.0)


def test_drift_ratio_separates_noise_from_trend() -> None:
    rng = np.random.default_rng(18)
    noise = rng.normal(size=(600, 1))
    trend = noise + np.linspace(0, 30, 600)[:, None]
    ratios = drift_ratios(np.hstack([noise, trend]), 30)
    assert ratios[0] < 3.0
    assert ratios[1] > 25.0


def test_deadband_raises_above_and_clears_at_or_below() -> None:
    score = np.array([0.0, 3.0, 2.0, 1.5, 1.0, 2.0, 3.0, np.nan, 2.0])
    before = deadband(score, raise_at=2.5, clear_at=1.0, raised=False)
    assert before.tolist() == [False, False, True, True, True, False, False, True, False]
    held = deadband(np.array([2.0, 0.5]), raise_at=2.5, clear_at=1.0, raised=True)
    assert held.tolist() == [True, True]
    assert len(deadband(np.zeros(0), raise_at=2.5, clear_at=1.0, raised=True)) == 0


def test_fit_refuses_data_it_cannot_learn_from() -> None:
    rng = np.random.default_rng(19)
    with pytest.raises(ValueError, match="at least"):
        EwmaMonitor().fit(_noise(rng, 50))
    trending = np.linspace(0, 1, 400)[:, None] * np.ones((1, 3))
    with pytest.raises(ValueError, match="steady level"):
        EwmaMonitor().fit(trending)
    with pytest.raises(RuntimeError, match="fit"):
        EwmaMonitor().score(_noise(rng, 5))
    with pytest.raises(ValueError):
        EwmaMonitor(clear_factor=3.0, raise_factor=2.0)


def test_constant_signal_is_left_out() -> None:
    rng = np.random.default_rng(20)
    normal = _noise(rng, 400)
    normal[:, 2] = 7.0
    monitor = EwmaMonitor()
    monitor.fit(normal)
    assert not monitor.monitored[2]
    scores = monitor.score(_noise(rng, 200))
    assert np.isfinite(scores.score[monitor.warmup :]).all()
