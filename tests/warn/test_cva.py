"""Canonical variate analysis: out-of-fold limits, dynamics faults, warm-up."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.warn.cva import CVA
from hazwatch.warn.detector import Matrix, ProcessMonitor
from hazwatch.warn.pca import PCA

Generator = Callable[..., Matrix]


def _fitted(dynamic: Generator, n: int = 1000) -> CVA:
    cva = CVA(lags=3, states=4, confidence=0.99)
    cva.fit(dynamic(np.random.default_rng(30), n))
    return cva


def test_is_a_process_monitor(dynamic: Generator) -> None:
    monitor: ProcessMonitor = _fitted(dynamic)
    assert monitor.name == "cva"


def test_out_of_fold_limits_hold_the_false_alarm_rate(dynamic: Generator) -> None:
    # A short training stream, as in a plant: in-sample limits would be too tight.
    cva = _fitted(dynamic, n=500)
    stats = cva.statistics(dynamic(np.random.default_rng(31), 40_000))
    assert stats.model_flagged.mean() == pytest.approx(0.01, abs=0.008)
    assert stats.residual_flagged.mean() == pytest.approx(0.01, abs=0.008)


def test_a_change_of_dynamics_is_flagged_where_pca_is_blind(dynamic: Generator) -> None:
    normal = dynamic(np.random.default_rng(32), 1000)
    changed = dynamic(np.random.default_rng(33), 2000, phi=-0.9)
    cva = CVA(lags=3, states=4)
    cva.fit(normal)
    pca = PCA(components=2)
    pca.fit(normal)
    assert cva.score(changed).flagged.mean() > 0.5
    assert pca.score(changed).flagged.mean() < 0.1


def test_a_sensor_bias_is_flagged_and_named(dynamic: Generator) -> None:
    cva = _fitted(dynamic)
    faulty = dynamic(np.random.default_rng(34), 500)
    faulty[:, 4] += 1.0
    scores = cva.score(faulty)
    assert scores.flagged[2:].mean() > 0.9
    assert scores.contributions is not None
    assert np.mean(np.argmax(scores.contributions[2:], axis=1) == 4) > 0.9


def test_first_lags_minus_one_samples_are_warming_up(dynamic: Generator) -> None:
    cva = _fitted(dynamic)
    scores = cva.score(dynamic(np.random.default_rng(35), 6))
    assert scores.ready.tolist() == [False, False, True, True, True, True]
    assert np.isnan(scores.score[:2]).all()
    cva.reset()
    assert not cva.score(dynamic(np.random.default_rng(36), 1)).ready.any()


def test_streaming_in_batches_equals_one_batch(dynamic: Generator) -> None:
    samples = dynamic(np.random.default_rng(37), 40)
    whole = _fitted(dynamic).score(samples)
    cva = _fitted(dynamic)
    parts = [cva.score(samples[i : i + 7]) for i in range(0, 40, 7)]
    assert np.allclose(np.concatenate([p.score for p in parts]), whole.score, equal_nan=True)


def test_too_many_states_are_refused(dynamic: Generator) -> None:
    with pytest.raises(ValueError, match="states"):
        CVA(lags=1, states=6).fit(dynamic(np.random.default_rng(38), 500))
