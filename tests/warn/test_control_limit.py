"""Control limits against the distributions they approximate."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hazwatch.warn import control_limit


def test_hotelling_limit_tends_to_chi2_for_many_samples() -> None:
    limit = control_limit.hotelling_t2(components=5, samples=1_000_000, confidence=0.99)
    assert limit == pytest.approx(stats.chi2.ppf(0.99, 5), rel=1e-3)


def test_hotelling_limit_is_wider_for_few_samples() -> None:
    few = control_limit.hotelling_t2(components=5, samples=50, confidence=0.99)
    many = control_limit.hotelling_t2(components=5, samples=5000, confidence=0.99)
    assert few > many


def test_jackson_mudholkar_holds_the_tail_of_a_weighted_chi2() -> None:
    rng = np.random.default_rng(7)
    lam = np.array([0.5, 0.3, 0.2, 0.1, 0.05])
    q = (rng.standard_normal((200_000, lam.size)) ** 2) @ lam
    limit = control_limit.jackson_mudholkar(residual_eigenvalues=lam, confidence=0.99)
    assert np.mean(q > limit) == pytest.approx(0.01, abs=0.003)


def test_spread_residual_eigenvalues_still_hold_the_tail() -> None:
    """One large residual direction among many small ones drives h₀ below 0, where the
    Jackson–Mudholkar formula breaks down; the limit must still hold about 1 %."""
    rng = np.random.default_rng(8)
    lam = np.array([1.0] + [0.01] * 100)
    q = (rng.standard_normal((100_000, lam.size)) ** 2) @ lam
    limit = control_limit.jackson_mudholkar(residual_eigenvalues=lam, confidence=0.99)
    assert limit > lam.sum(), "above the mean SPE of normal operation"
    assert np.mean(q > limit) == pytest.approx(0.01, abs=0.004)


def test_jackson_mudholkar_without_residual_is_zero() -> None:
    assert control_limit.jackson_mudholkar(residual_eigenvalues=np.zeros(3), confidence=0.99) == 0


def test_scaled_chi2_recovers_a_chi2_quantile() -> None:
    rng = np.random.default_rng(3)
    values = rng.chisquare(6, size=100_000)
    assert control_limit.scaled_chi2(values, confidence=0.99) == pytest.approx(
        stats.chi2.ppf(0.99, 6), rel=0.03
    )


@pytest.mark.parametrize("confidence", [0.0, 1.0, 1.5])
def test_confidence_outside_the_open_interval_is_refused(confidence: float) -> None:
    with pytest.raises(ValueError, match="confidence"):
        control_limit.hotelling_t2(components=2, samples=10, confidence=confidence)
