"""Dynamic PCA: PCA of lagged windows, so serial correlation becomes part of the model.

Ku, Storer & Georgakis (1995). Each sample ``x_t`` is monitored through the window
``[x_t, x_{t-1}, …, x_{t-lags}]`` (``lags + 1`` samples); a PCA with T² and SPE limits
(:class:`hazwatch.warn.pca.PCA`) is fitted on the windows of normal data. The flag rule is
that of :mod:`hazwatch.warn.subspace` (T² or SPE above its limit). A variable's
contribution is the sum of the contributions of its lagged copies.

Warm-up: the first ``lags`` samples of a stream (after construction or ``reset``) have no
full window and are not ready. ``fit`` takes one contiguous stream of normal samples.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from hazwatch.warn.detector import Matrix, Scores
from hazwatch.warn.lag import LagWindow, windows
from hazwatch.warn.pca import PCA, check_normal, check_samples
from hazwatch.warn.state import Arrays, Param, State, integer
from hazwatch.warn.subspace import SubspaceStatistics


class DynamicPCA:
    """PCA on windows of ``lags + 1`` consecutive samples (``lags`` ≥ 1)."""

    def __init__(
        self,
        *,
        lags: int = 2,
        components: int | None = None,
        explained: float = 0.9,
        confidence: float = 0.99,
        name: str = "dpca",
    ) -> None:
        if lags < 1:
            raise ValueError("lags must be at least 1")
        self.name = name
        self.lags = lags
        self._pca = PCA(components=components, explained=explained, confidence=confidence)
        self._window: LagWindow | None = None
        self._variables = 0

    @property
    def retained(self) -> int:
        return self._pca.retained

    def fit(self, normal: Matrix) -> None:
        x = check_normal(normal, minimum=self.lags + 3)
        self._variables = x.shape[1]
        self._pca.fit(windows(x, self.lags + 1))
        self._window = LagWindow(width=self.lags + 1, variables=self._variables)

    def statistics(self, samples: Matrix) -> SubspaceStatistics:
        if self._window is None:
            raise RuntimeError("fit the monitor on normal data first")
        x = check_samples(samples, self._variables)
        rows, ready = self._window.extend(x)
        n, p = len(x), self._variables
        model = np.full(n, np.nan)
        residual = np.full(n, np.nan)
        model_parts = np.full((n, p), np.nan)
        residual_parts = np.full((n, p), np.nan)
        inner = self._pca.statistics(rows[ready])
        model[ready] = inner.model
        residual[ready] = inner.residual
        model_parts[ready] = inner.model_parts.reshape(-1, self.lags + 1, p).sum(axis=1)
        residual_parts[ready] = inner.residual_parts.reshape(-1, self.lags + 1, p).sum(axis=1)
        return SubspaceStatistics(
            model=model,
            residual=residual,
            model_limit=inner.model_limit,
            residual_limit=inner.residual_limit,
            ready=ready,
            model_parts=model_parts,
            residual_parts=residual_parts,
        )

    def score(self, samples: Matrix) -> Scores:
        return self.statistics(samples).scores()

    def state(self) -> State:
        """The inner PCA's state and the lags (``warn.state``)."""
        params, arrays = self._pca.state()
        return {**params, "lags": self.lags, "name": self.name}, arrays

    @classmethod
    def restore(cls, params: Mapping[str, Param], arrays: Arrays) -> DynamicPCA:
        inner = PCA.restore(params, arrays)
        lags = integer(params["lags"])
        dpca = cls(lags=lags, name=str(params["name"]))
        dpca._pca = inner
        dpca._variables = len(inner._loadings) // (lags + 1)
        dpca._window = LagWindow(width=lags + 1, variables=dpca._variables)
        return dpca

    def reset(self) -> None:
        if self._window is not None:
            self._window.reset()
