"""Synthetic process data for the monitor tests: a few latent drivers behind many sensors."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.warn.detector import Matrix

Generator = Callable[..., Matrix]


def _correlated(rng: np.random.Generator, n: int, *, variables: int = 8) -> Matrix:
    mixing = np.random.default_rng(0).normal(size=(3, variables))
    data: Matrix = rng.normal(size=(n, 3)) @ mixing + 0.3 * rng.normal(size=(n, variables))
    return data


def _dynamic(rng: np.random.Generator, n: int, *, phi: float = 0.9, variables: int = 6) -> Matrix:
    mixing = np.random.default_rng(1).normal(size=(2, variables))
    shocks = rng.normal(size=(n + 200, 2)) * np.sqrt(1 - phi * phi)
    latent = np.zeros_like(shocks)
    for t in range(1, len(shocks)):  # the AR recursion is the test model, not code under test
        latent[t] = phi * latent[t - 1] + shocks[t]
    data: Matrix = latent[200:] @ mixing + 0.2 * rng.normal(size=(n, variables))
    return data


@pytest.fixture
def correlated() -> Generator:
    """``correlated(rng, n)``: static data, 3 latent factors seen by 8 sensors plus noise."""
    return _correlated


@pytest.fixture
def dynamic() -> Generator:
    """``dynamic(rng, n, phi=0.9)``: a unit-variance AR(1) latent pair seen by 6 sensors."""
    return _dynamic
