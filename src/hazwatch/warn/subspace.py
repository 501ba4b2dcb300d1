"""Two statistics of one multivariate model, and the rule that turns them into a verdict.

Subspace monitors (PCA, dynamic PCA, canonical variate analysis) split a sample into a
part the model explains and a residual, and watch one statistic of each: Hotelling's T²
of the model part and the squared prediction error (SPE, Q) of the residual for PCA; the
T² of the canonical states and of the residual canonical variates for CVA.

**Flag rule** (stated once, shared by every subspace monitor): a sample is flagged when
*either* statistic exceeds its control limit. The single ``score`` of :class:`Scores` is
the larger of the two limit-normalised statistics, ``max(model/model_limit,
residual/residual_limit)``, with ``threshold`` 1, so ``flagged == score > 1``.

**Contributions**: each statistic is a quadratic form ``xᵀMx`` of the scaled sample; its
complete decomposition ``((M^½ x)_j)²`` (Alcala & Qin 2011) gives every variable a
nonnegative part, and the parts sum to the statistic. The per-variable share of a sample
is the sum of both statistics' parts, each divided by its limit, normalised to sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazwatch.warn.detector import Flags, Matrix, Scores, Vector


@dataclass(frozen=True, slots=True, kw_only=True)
class SubspaceStatistics:
    """Both statistics of a batch, one element per sample (NaN where not ready).

    ``model_parts`` and ``residual_parts`` are (n, p) per-variable decompositions that
    sum, row by row, to ``model`` and ``residual``.
    """

    model: Vector
    residual: Vector
    model_limit: float
    residual_limit: float
    ready: Flags
    model_parts: Matrix
    residual_parts: Matrix

    @property
    def model_flagged(self) -> Flags:
        return self.ready & (np.nan_to_num(self.model, nan=-np.inf) > self.model_limit)

    @property
    def residual_flagged(self) -> Flags:
        return self.ready & (np.nan_to_num(self.residual, nan=-np.inf) > self.residual_limit)

    def scores(self) -> Scores:
        """The combined verdict (see the module docstring for the rule)."""
        m = self.model / self.model_limit
        r = self._residual_ratio(self.residual)
        score = np.where(self.ready, np.maximum(m, r), np.nan)
        weighted = self.model_parts / self.model_limit + self._residual_ratio(self.residual_parts)
        total = weighted.sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(total > 0, weighted / total, 0.0)
        shares[~self.ready] = np.nan
        flagged = self.model_flagged | self.residual_flagged
        return Scores(
            score=score,
            threshold=np.ones(len(score)),
            flagged=flagged,
            ready=self.ready.copy(),
            contributions=shares,
        )

    def _residual_ratio(self, values: Matrix) -> Matrix:
        # A model that keeps every direction has no residual and a zero limit.
        if self.residual_limit <= 0:
            return np.zeros_like(values)
        ratio: Matrix = values / self.residual_limit
        return ratio


def psd_root(matrix: Matrix) -> Matrix:
    """The symmetric square root of a symmetric positive semidefinite matrix."""
    w, v = np.linalg.eigh(matrix)
    root: Matrix = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
    return root


def quadratic_parts(x: Matrix, root: Matrix) -> Matrix:
    """The complete decomposition ``((M^½ x)_j)²`` of ``xᵀMx`` for each row of ``x``."""
    parts: Matrix = (x @ root) ** 2
    return parts
