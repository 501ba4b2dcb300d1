"""The learned upper tail (peaks over threshold) that calibrates band deviations."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.warn.tail import ParetoTail


def test_exponential_history_gives_an_exponential_tail() -> None:
    history = np.random.default_rng(1).exponential(1.0, 200_000)
    tail = ParetoTail.fit(history, quantile=0.95)
    assert tail is not None
    assert tail.xi < 0.05
    assert tail.rate == pytest.approx(0.05, abs=1e-3)
    # P(X > z) = exp(−z) for a unit exponential
    z = np.array([5.0, 8.0, 12.0])
    assert tail.log10_p(z) == pytest.approx(-z / np.log(10), abs=0.1)


def test_heavy_history_gives_a_heavy_tail_and_larger_probabilities() -> None:
    rng = np.random.default_rng(2)
    heavy = ParetoTail.fit(np.abs(rng.standard_t(3, 100_000)), quantile=0.95)
    light = ParetoTail.fit(np.abs(rng.normal(0, 1, 100_000)), quantile=0.95)
    assert heavy is not None and light is not None
    assert heavy.xi > 0.15
    z = np.array([6.0, 10.0])
    assert (heavy.log10_p(z) > light.log10_p(z) + 2).all()


def test_probability_falls_as_the_deviation_grows_and_never_reaches_zero() -> None:
    tail = ParetoTail.fit(np.abs(np.random.default_rng(3).normal(0, 1, 5000)))
    assert tail is not None
    z = np.linspace(0, 40, 200)
    log_p = tail.log10_p(z)
    assert np.all(np.diff(log_p) <= 0)
    assert np.isfinite(log_p).all()
    assert log_p[0] <= 0


def test_too_little_history_gives_no_tail() -> None:
    assert ParetoTail.fit(np.zeros(0)) is None
    assert ParetoTail.fit(np.arange(100.0), quantile=0.95) is None
