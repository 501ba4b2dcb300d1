"""Canonical variate analysis (CVA): a state-space monitor of the process dynamics.

Larimore (1990); Negiz & Çinar (1997); Russell, Chiang & Braatz (2000); Odiowei & Cao
(2010). For every time ``t`` the *past* window ``p_t = [x_t, …, x_{t-lags+1}]`` and the
*future* window ``f_t = [x_{t+1}, …, x_{t+lags}]`` of scaled samples are formed on normal
data. The singular value decomposition of ``Σ_pp^{-½} Σ_pf Σ_ff^{-½} = U S Vᵀ`` orders
the linear combinations of the past by how well they predict the future:

* states ``z_t = U_rᵀ Σ_pp^{-½} p_t`` (the ``states`` most predictive canonical
  variates, unit variance on normal data) → model statistic ``T²_s = ‖z_t‖²``;
* residual ``e_t = (I − U_r U_rᵀ) Σ_pp^{-½} p_t`` → residual statistic ``T²_e = ‖e_t‖²``.

Why it catches what PCA misses: PCA treats samples as independent, so a fault that
changes how the process *moves* (random variation, sticky valves, altered dynamics) but
not where it sits goes unseen. The canonical variates are whitened with respect to
normal dynamics, so such changes show up in ``T²_e`` and ``T²_s``.

**Control limits** come from normal data only, out of sample: the normal stream is cut
into ``folds`` contiguous blocks; for each block a model is fitted on the pairs that do
not touch it and both statistics are computed on the block. Box's scaled χ² (see
:func:`hazwatch.warn.control_limit.scaled_chi2`) is fitted to these out-of-fold values at
``confidence``. In-sample statistics of a model fitted on a few hundred samples are too
small (the model has seen them), and the theoretical χ² limits assume more data than a
plant usually has; the out-of-fold fit carries neither error.

Flag rule and contributions: :mod:`hazwatch.warn.subspace` (flagged when ``T²_s`` or
``T²_e`` exceeds its limit; a variable's contribution sums over its lagged copies).
Warm-up: the first ``lags − 1`` samples of a stream are not ready. ``fit`` takes one
contiguous stream of normal samples, in time order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.warn import control_limit
from hazwatch.warn.detector import Matrix, Scores, Vector
from hazwatch.warn.lag import LagWindow, windows
from hazwatch.warn.pca import Scaling, check_normal, check_samples
from hazwatch.warn.state import Arrays, Param, State, fitted, integer, matrix, number, vector
from hazwatch.warn.subspace import SubspaceStatistics, psd_root, quadratic_parts

# Eigenvalues of Σ_pp below this share of the largest are treated as numerical noise.
_RELATIVE_FLOOR = 1e-10

Indices = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Projection:
    past_mean: Vector
    states: Matrix  # (states, lags·p): J
    residual: Matrix  # (lags·p, lags·p): L


def _inverse_root(cov: Matrix) -> Matrix:
    w, v = np.linalg.eigh(cov)
    w = np.maximum(w, _RELATIVE_FLOOR * max(float(w.max()), 1e-300))
    root: Matrix = (v / np.sqrt(w)) @ v.T
    return root


def _project(past: Matrix, future: Matrix, states: int) -> _Projection:
    past_mean = past.mean(axis=0)
    p = past - past_mean
    f = future - future.mean(axis=0)
    m = len(p) - 1
    inv_pp = _inverse_root(p.T @ p / m)
    inv_ff = _inverse_root(f.T @ f / m)
    u, _, _ = np.linalg.svd(inv_pp @ (p.T @ f / m) @ inv_ff)
    ur = u[:, :states]
    return _Projection(
        past_mean=past_mean,
        states=ur.T @ inv_pp,
        residual=(np.eye(len(ur)) - ur @ ur.T) @ inv_pp,
    )


class CVA:
    """CVA monitor with ``lags`` samples per window and ``states`` retained states."""

    def __init__(
        self,
        *,
        lags: int = 3,
        states: int = 20,
        confidence: float = 0.99,
        folds: int = 10,
        name: str = "cva",
    ) -> None:
        if lags < 1 or states < 1 or folds < 2:
            raise ValueError("lags and states must be at least 1, folds at least 2")
        self.name = name
        self.lags = lags
        self.states = states
        self.confidence = confidence
        self.folds = folds
        self._scaling: Scaling | None = None
        self._model: _Projection | None = None
        self._window: LagWindow | None = None
        self._state_root: Matrix = np.empty((0, 0))
        self._residual_root: Matrix = np.empty((0, 0))
        self._state_limit = 0.0
        self._residual_limit = 0.0

    def fit(self, normal: Matrix) -> None:
        x = check_normal(normal, minimum=2 * self.lags * self.folds + 2)
        p = x.shape[1]
        if self.states >= self.lags * p:
            raise ValueError(f"states must be fewer than lags × variables ({self.lags * p})")
        self._scaling = Scaling.learn(x)
        z = self._scaling.apply(x)
        past, future, times = self._pairs(z)
        self._model = _project(past, future, self.states)
        self._state_root = psd_root(self._model.states.T @ self._model.states)
        self._residual_root = psd_root(self._model.residual.T @ self._model.residual)
        state_oof, residual_oof = self._out_of_fold(z, past, future, times)
        self._state_limit = control_limit.scaled_chi2(state_oof, confidence=self.confidence)
        self._residual_limit = control_limit.scaled_chi2(residual_oof, confidence=self.confidence)
        self._window = LagWindow(width=self.lags, variables=p)

    def _pairs(self, z: Matrix) -> tuple[Matrix, Matrix, Indices]:
        """Past and future windows of every ``t`` that has both, and those ``t``."""
        n = len(z)
        past = windows(z[: n - self.lags], self.lags)  # t = lags-1 … n-lags-1
        newest_last = windows(z[self.lags :], self.lags)  # rows [x_{t+lags}, …, x_{t+1}]
        p = z.shape[1]
        future = newest_last.reshape(-1, self.lags, p)[:, ::-1].reshape(-1, self.lags * p)
        times = np.arange(self.lags - 1, n - self.lags)
        return past, future, times

    def _out_of_fold(
        self, z: Matrix, past: Matrix, future: Matrix, times: Indices
    ) -> tuple[Vector, Vector]:
        n = len(z)
        all_past = windows(z, self.lags)  # t = lags-1 … n-1
        all_times = np.arange(self.lags - 1, n)
        state_values: list[Vector] = []
        residual_values: list[Vector] = []
        for block in np.array_split(np.arange(n), self.folds):
            start, stop = int(block[0]), int(block[-1]) + 1
            # A pair spans samples t-lags+1 … t+lags; keep those that miss the block.
            clear = (times + self.lags < start) | (times - self.lags + 1 >= stop)
            model = _project(past[clear], future[clear], self.states)
            held = all_past[(all_times >= start) & (all_times < stop)] - model.past_mean
            state_values.append(np.sum((held @ model.states.T) ** 2, axis=1))
            residual_values.append(np.sum((held @ model.residual.T) ** 2, axis=1))
        return np.concatenate(state_values), np.concatenate(residual_values)

    def statistics(self, samples: Matrix) -> SubspaceStatistics:
        if self._scaling is None or self._model is None or self._window is None:
            raise RuntimeError("fit the monitor on normal data first")
        p = len(self._scaling.mean)
        z = self._scaling.apply(check_samples(samples, p))
        rows, ready = self._window.extend(z)
        n = len(z)
        centred = rows[ready] - self._model.past_mean
        state_parts = np.full((n, p), np.nan)
        residual_parts = np.full((n, p), np.nan)
        state_parts[ready] = (
            quadratic_parts(centred, self._state_root).reshape(-1, self.lags, p).sum(axis=1)
        )
        residual_parts[ready] = (
            quadratic_parts(centred, self._residual_root).reshape(-1, self.lags, p).sum(axis=1)
        )
        return SubspaceStatistics(
            model=state_parts.sum(axis=1),
            residual=residual_parts.sum(axis=1),
            model_limit=self._state_limit,
            residual_limit=self._residual_limit,
            ready=ready,
            model_parts=state_parts,
            residual_parts=residual_parts,
        )

    def score(self, samples: Matrix) -> Scores:
        return self.statistics(samples).scores()

    def state(self) -> State:
        """Constructor parameters and learnt arrays (``warn.state``); not fitted: error."""
        scaling = fitted(self._scaling, "cva")
        model = fitted(self._model, "cva")
        params: dict[str, Param] = {
            "lags": self.lags,
            "states": self.states,
            "confidence": self.confidence,
            "folds": self.folds,
            "name": self.name,
        }
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "mean": scaling.mean,
            "scale": scaling.scale,
            "past_mean": model.past_mean,
            "state_projection": model.states,
            "residual_projection": model.residual,
            "state_root": self._state_root,
            "residual_root": self._residual_root,
            "limits": np.array([self._state_limit, self._residual_limit]),
        }
        return params, arrays

    @classmethod
    def restore(cls, params: Mapping[str, Param], arrays: Arrays) -> CVA:
        """The monitor ``state()`` was taken from, at the start of a stream."""
        cva = cls(
            lags=integer(params["lags"]),
            states=integer(params["states"]),
            confidence=number(params["confidence"]),
            folds=integer(params["folds"]),
            name=str(params["name"]),
        )
        scaling = Scaling(mean=vector(arrays["mean"]), scale=vector(arrays["scale"]))
        cva._scaling = scaling
        cva._model = _Projection(
            past_mean=vector(arrays["past_mean"]),
            states=matrix(arrays["state_projection"]),
            residual=matrix(arrays["residual_projection"]),
        )
        cva._state_root = matrix(arrays["state_root"])
        cva._residual_root = matrix(arrays["residual_root"])
        cva._state_limit, cva._residual_limit = (float(x) for x in vector(arrays["limits"]))
        cva._window = LagWindow(width=cva.lags, variables=len(scaling.mean))
        return cva

    def reset(self) -> None:
        if self._window is not None:
            self._window.reset()
