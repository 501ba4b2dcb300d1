"""Principal component analysis with Hotelling's T² and SPE (Q) control limits.

The classic static monitor (Jackson 1991; MacGregor & Kourti 1995; Yin et al. 2012).
Normal data are scaled to zero mean and unit sample standard deviation per variable; the
``components`` leading eigenvectors of their correlation matrix span the model subspace.

* T² = Σ t_i²/λ_i over the retained scores; limit ``k(n²−1)/(n(n−k)) F_α(k, n−k)``.
* SPE = ‖x − PPᵀx‖² of the scaled sample; Jackson–Mudholkar limit at ``confidence``.
* Flag rule and contributions: :mod:`hazwatch.warn.subspace` (flagged when T² **or** SPE
  exceeds its limit; contributions are the complete decompositions of both statistics).

A static model: every sample is ready at once and ``reset`` has nothing to forget.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.warn import control_limit
from hazwatch.warn.detector import Matrix, Scores, Vector
from hazwatch.warn.state import Arrays, Param, State, fitted, matrix, number, vector
from hazwatch.warn.subspace import SubspaceStatistics, quadratic_parts


@dataclass(frozen=True, slots=True, kw_only=True)
class Scaling:
    """Per-variable centring and scaling learnt from normal data (variables with no
    variation keep scale 1, so they contribute their raw deviation)."""

    mean: Vector
    scale: Vector

    @classmethod
    def learn(cls, normal: Matrix) -> Scaling:
        sd = normal.std(axis=0, ddof=1)
        return cls(mean=normal.mean(axis=0), scale=np.where(sd > 0, sd, 1.0))

    def apply(self, samples: Matrix) -> Matrix:
        scaled: Matrix = (samples - self.mean) / self.scale
        return scaled


def check_normal(normal: Matrix, *, minimum: int) -> Matrix:
    """``normal`` as a float64 matrix, or ValueError when it cannot train a monitor."""
    x = np.asarray(normal, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError("normal data must be a samples × variables matrix")
    if len(x) < minimum:
        raise ValueError(f"need at least {minimum} normal samples, got {len(x)}")
    if not np.isfinite(x).all():
        raise ValueError("normal data contain NaN or infinite values")
    return x


def check_samples(samples: Matrix, variables: int) -> Matrix:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != variables:
        raise ValueError(f"samples must have {variables} columns, got shape {x.shape}")
    return x


class PCA:
    """PCA monitor. ``components``: retained principal components, or None to keep the
    fewest that explain ``explained`` of the variance. ``confidence``: of both limits."""

    def __init__(
        self,
        *,
        components: int | None = None,
        explained: float = 0.9,
        confidence: float = 0.99,
        name: str = "pca",
    ) -> None:
        if components is not None and components < 1:
            raise ValueError("components must be at least 1")
        if not 0.0 < explained <= 1.0:
            raise ValueError("explained must lie in (0, 1]")
        self.name = name
        self.components = components
        self.explained = explained
        self.confidence = confidence
        self._scaling: Scaling | None = None
        self._loadings: Matrix = np.empty((0, 0))
        self._t2_root: Matrix = np.empty((0, 0))
        self._t2_limit = 0.0
        self._spe_limit = 0.0

    @property
    def retained(self) -> int:
        """The number of components in the fitted model."""
        return int(self._loadings.shape[1])

    def fit(self, normal: Matrix) -> None:
        x = check_normal(normal, minimum=3)
        n, p = x.shape
        self._scaling = Scaling.learn(x)
        z = self._scaling.apply(x)
        eigenvalues, vectors = np.linalg.eigh(z.T @ z / (n - 1))
        order = np.argsort(eigenvalues)[::-1]
        eigenvalues = np.clip(eigenvalues[order], 0.0, None)
        vectors = vectors[:, order]
        k = self._choose(eigenvalues, n, p)
        loadings = vectors[:, :k]
        kept = eigenvalues[:k]
        if np.any(kept <= 0):
            raise ValueError(f"component {k} has no variance; retain fewer components")
        self._loadings = loadings
        self._t2_root = (loadings / np.sqrt(kept)) @ loadings.T
        self._t2_limit = control_limit.hotelling_t2(
            components=k, samples=n, confidence=self.confidence
        )
        self._spe_limit = control_limit.jackson_mudholkar(
            residual_eigenvalues=eigenvalues[k:], confidence=self.confidence
        )

    def _choose(self, eigenvalues: Vector, n: int, p: int) -> int:
        if self.components is not None:
            if self.components > min(p, n - 1):
                raise ValueError(
                    f"components ({self.components}) exceed what {n} samples of "
                    f"{p} variables support"
                )
            return self.components
        share = np.cumsum(eigenvalues) / eigenvalues.sum()
        enough = int(np.searchsorted(share, self.explained - 1e-12)) + 1
        return min(enough, p, n - 1)

    def statistics(self, samples: Matrix) -> SubspaceStatistics:
        """T² (model) and SPE (residual) of each sample, their limits and decompositions."""
        if self._scaling is None:
            raise RuntimeError("fit the monitor on normal data first")
        z = self._scaling.apply(check_samples(samples, len(self._scaling.mean)))
        residual = z - (z @ self._loadings) @ self._loadings.T
        t2_parts = quadratic_parts(z, self._t2_root)
        spe_parts = residual**2
        return SubspaceStatistics(
            model=t2_parts.sum(axis=1),
            residual=spe_parts.sum(axis=1),
            model_limit=self._t2_limit,
            residual_limit=self._spe_limit,
            ready=np.ones(len(z), dtype=np.bool_),
            model_parts=t2_parts,
            residual_parts=spe_parts,
        )

    def score(self, samples: Matrix) -> Scores:
        return self.statistics(samples).scores()

    def state(self) -> State:
        """Constructor parameters and learnt arrays (``warn.state``); not fitted: error."""
        scaling = fitted(self._scaling, "pca")
        params: dict[str, Param] = {
            "components": self.components,
            "explained": self.explained,
            "confidence": self.confidence,
            "name": self.name,
        }
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "mean": scaling.mean,
            "scale": scaling.scale,
            "loadings": self._loadings,
            "t2_root": self._t2_root,
            "limits": np.array([self._t2_limit, self._spe_limit]),
        }
        return params, arrays

    @classmethod
    def restore(cls, params: Mapping[str, Param], arrays: Arrays) -> PCA:
        """The monitor ``state()`` was taken from, at the start of a stream."""
        components = params["components"]
        pca = cls(
            components=None if components is None else int(components),
            explained=number(params["explained"]),
            confidence=number(params["confidence"]),
            name=str(params["name"]),
        )
        pca._scaling = Scaling(mean=vector(arrays["mean"]), scale=vector(arrays["scale"]))
        pca._loadings = matrix(arrays["loadings"])
        pca._t2_root = matrix(arrays["t2_root"])
        pca._t2_limit, pca._spe_limit = (float(x) for x in vector(arrays["limits"]))
        return pca

    def reset(self) -> None:
        """Nothing to forget: each sample is judged on its own."""


__all__ = ["PCA", "Scaling", "check_normal", "check_samples"]
