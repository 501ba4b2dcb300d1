"""Dynamic PCA: lagged windows, stream warm-up and history across batches."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.warn.detector import Matrix
from hazwatch.warn.dpca import DynamicPCA
from hazwatch.warn.pca import PCA

Generator = Callable[..., Matrix]


def _fitted(dynamic: Generator, lags: int = 2) -> DynamicPCA:
    dpca = DynamicPCA(lags=lags, components=4)
    dpca.fit(dynamic(np.random.default_rng(20), 4000))
    return dpca


def test_first_lags_samples_of_a_stream_are_warming_up(dynamic: Generator) -> None:
    dpca = _fitted(dynamic, lags=3)
    scores = dpca.score(dynamic(np.random.default_rng(21), 10))
    assert not scores.ready[:3].any()
    assert scores.ready[3:].all()
    assert np.isnan(scores.score[:3]).all()
    assert not scores.flagged[:3].any()
    assert scores.contributions is not None
    assert np.isnan(scores.contributions[:3]).all()


def test_history_carries_across_batches_and_reset_forgets_it(dynamic: Generator) -> None:
    samples = dynamic(np.random.default_rng(22), 50)
    whole = _fitted(dynamic).score(samples)
    dpca = _fitted(dynamic)
    parts = [dpca.score(samples[:1]), dpca.score(samples[1:2]), dpca.score(samples[2:])]
    assert np.allclose(np.concatenate([p.score for p in parts]), whole.score, equal_nan=True)
    dpca.reset()
    again = dpca.score(samples[:5])
    assert not again.ready[:2].any()


def test_false_alarm_rate_near_nominal_on_fresh_normal_data(dynamic: Generator) -> None:
    stats = _fitted(dynamic).statistics(dynamic(np.random.default_rng(23), 40_000))
    assert stats.model_flagged.mean() == pytest.approx(0.01, abs=0.006)
    assert stats.residual_flagged.mean() == pytest.approx(0.01, abs=0.006)


def test_a_change_of_dynamics_is_seen_by_dpca_not_pca(dynamic: Generator) -> None:
    # Same variance and correlation across sensors, but the latent pair now alternates.
    normal = dynamic(np.random.default_rng(24), 4000)
    changed = dynamic(np.random.default_rng(25), 2000, phi=-0.9)
    dpca = DynamicPCA(lags=1, components=4)
    dpca.fit(normal)
    pca = PCA(components=2)
    pca.fit(normal)
    assert dpca.score(changed).flagged.mean() > 0.5
    assert pca.score(changed).flagged.mean() < 0.1


def test_contributions_sum_per_variable_over_lags(dynamic: Generator) -> None:
    scores = _fitted(dynamic).score(dynamic(np.random.default_rng(26), 30))
    assert scores.contributions is not None
    assert scores.contributions.shape == (30, 6)
    assert np.allclose(scores.contributions[2:].sum(axis=1), 1.0)
