"""PCA monitor on correlated Gaussian data generated here."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.warn.detector import Matrix, ProcessMonitor
from hazwatch.warn.pca import PCA

Generator = Callable[..., Matrix]


def _fitted(correlated: Generator) -> PCA:
    pca = PCA(components=3, confidence=0.99)
    pca.fit(correlated(np.random.default_rng(10), 3000))
    return pca


def test_is_a_process_monitor(correlated: Generator) -> None:
    monitor: ProcessMonitor = _fitted(correlated)
    assert monitor.name == "pca"


def test_each_limit_holds_its_false_alarm_rate_on_fresh_normal_data(
    correlated: Generator,
) -> None:
    pca = _fitted(correlated)
    stats = pca.statistics(correlated(np.random.default_rng(11), 50_000))
    assert stats.model_flagged.mean() == pytest.approx(0.01, abs=0.004)
    assert stats.residual_flagged.mean() == pytest.approx(0.01, abs=0.004)


def test_flag_rule_is_t2_or_spe(correlated: Generator) -> None:
    pca = _fitted(correlated)
    samples = correlated(np.random.default_rng(12), 5000)
    stats = pca.statistics(samples)
    scores = pca.score(samples)
    assert np.array_equal(scores.flagged, stats.model_flagged | stats.residual_flagged)
    assert np.array_equal(scores.flagged, scores.score > scores.threshold)


def test_a_shifted_sensor_is_flagged_and_named(correlated: Generator) -> None:
    pca = _fitted(correlated)
    faulty = correlated(np.random.default_rng(13), 500)
    faulty[:, 5] += 3.0 * faulty[:, 5].std()
    scores = pca.score(faulty)
    assert scores.flagged.mean() > 0.9
    assert scores.contributions is not None
    assert np.mean(np.argmax(scores.contributions, axis=1) == 5) > 0.9


def test_contributions_are_shares(correlated: Generator) -> None:
    scores = _fitted(correlated).score(correlated(np.random.default_rng(14), 200))
    assert scores.contributions is not None
    assert (scores.contributions >= 0).all()
    assert np.allclose(scores.contributions.sum(axis=1), 1.0)


def test_decompositions_sum_to_the_statistics(correlated: Generator) -> None:
    stats = _fitted(correlated).statistics(correlated(np.random.default_rng(15), 100))
    assert np.allclose(stats.model_parts.sum(axis=1), stats.model)
    assert np.allclose(stats.residual_parts.sum(axis=1), stats.residual)


def test_components_by_explained_variance(correlated: Generator) -> None:
    pca = PCA(explained=0.95)
    pca.fit(correlated(np.random.default_rng(16), 2000))
    assert pca.retained == 3  # three latent factors carry nearly all the variance


def test_every_sample_is_ready(correlated: Generator) -> None:
    scores = _fitted(correlated).score(correlated(np.random.default_rng(17), 10))
    assert scores.ready.all()
    assert np.isfinite(scores.score).all()


def test_normal_data_with_nan_are_refused() -> None:
    data = np.ones((10, 3))
    data[2, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        PCA(components=1).fit(data)


def test_scoring_before_fit_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="fit"):
        PCA(components=1).score(np.zeros((2, 3)))


def test_wrong_column_count_is_an_error(correlated: Generator) -> None:
    with pytest.raises(ValueError, match="8 columns"):
        _fitted(correlated).score(np.zeros((2, 5)))
