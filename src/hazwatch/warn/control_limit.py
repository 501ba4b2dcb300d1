"""Statistical control limits of multivariate monitoring statistics.

Each function returns the value a monitoring statistic of normal operation exceeds with
probability ``1 - confidence`` (so at ``confidence`` 0.99 about 1 % of normal samples are
flagged, when the model's assumptions hold).

* :func:`hotelling_t2` — Hotelling's T² of ``k`` principal scores of a model fitted on ``n``
  samples: ``k(n²−1)/(n(n−k)) · F_α(k, n−k)`` (Tracy, Young & Mason 1992; the limit used by
  Yin et al. 2012 and most process-monitoring texts).
* :func:`jackson_mudholkar` — the squared prediction error (SPE, Q) from the eigenvalues
  left out of the model (Jackson & Mudholkar 1979); where their spread makes that
  approximation break down (``h₀ ≤ 0``: one large residual direction among many small
  ones), the four-cumulant approximation of Liu, Tang & Zhang (2009) of the same weighted
  sum of χ²₁ variables.
* :func:`scaled_chi2` — Box's (1954) approximation ``g·χ²_h`` matched to the mean and
  variance of observed values of a nonnegative statistic; used where no closed form holds
  (for example for statistics computed out-of-fold on normal data).
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from hazwatch.warn.detector import Vector


def _check(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie in (0, 1), got {confidence}")


def hotelling_t2(*, components: int, samples: int, confidence: float) -> float:
    """The T² limit of ``components`` scores of a model fitted on ``samples`` samples."""
    _check(confidence)
    k, n = components, samples
    if not 0 < k < n:
        raise ValueError(f"need 0 < components < samples, got {k} and {n}")
    f = float(stats.f.ppf(confidence, k, n - k))
    return k * (n * n - 1) / (n * (n - k)) * f


def jackson_mudholkar(*, residual_eigenvalues: Vector, confidence: float) -> float:
    """The SPE (Q) limit from the covariance eigenvalues not retained by the model.

    ``residual_eigenvalues`` are those of the discarded directions (in the units of the
    squared scaled variables). Returns 0 when nothing is discarded (SPE is then always 0).
    """
    _check(confidence)
    lam = np.asarray(residual_eigenvalues, dtype=np.float64)
    lam = lam[lam > 0]
    if lam.size == 0:
        return 0.0
    th1, th2, th3 = (float(np.sum(lam**i)) for i in (1, 2, 3))
    h0 = 1.0 - 2.0 * th1 * th3 / (3.0 * th2 * th2)
    c = float(stats.norm.ppf(confidence))
    if h0 > 0:
        base = c * np.sqrt(2.0 * th2 * h0 * h0) / th1 + 1.0 + th2 * h0 * (h0 - 1.0) / (th1 * th1)
        if base > 0:
            return float(th1 * base ** (1.0 / h0))
    return _liu_tang_zhang(lam, confidence)


def _liu_tang_zhang(lam: Vector, confidence: float) -> float:
    """Quantile of ``Σ λ_i χ²₁`` by a (noncentral) χ² matched in mean, variance, skewness
    and kurtosis (Liu, Tang & Zhang 2009, Comput. Stat. Data Anal. 53:853–856)."""
    c1, c2, c3, c4 = (float(np.sum(lam**i)) for i in (1, 2, 3, 4))
    s1, s2 = c3 / c2**1.5, c4 / c2**2
    if s1 * s1 > s2:
        a = 1.0 / (s1 - np.sqrt(s1 * s1 - s2))
        delta = s1 * a**3 - a * a
        dof = a * a - 2.0 * delta
    else:
        a, delta, dof = 1.0 / np.sqrt(s2), 0.0, c2**3 / c3**2
    x = stats.ncx2.ppf(confidence, dof, delta) if delta > 0 else stats.chi2.ppf(confidence, dof)
    return float((x - (dof + delta)) / (np.sqrt(2.0) * a) * np.sqrt(2.0 * c2) + c1)


def scaled_chi2(values: Vector, *, confidence: float) -> float:
    """Box's ``g·χ²_h`` limit with ``g = var/(2·mean)`` and ``h = 2·mean²/var`` of ``values``."""
    _check(confidence)
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size < 2:
        raise ValueError("need at least two finite values to fit a limit")
    mean = float(v.mean())
    var = float(v.var(ddof=1))
    if mean <= 0 or var <= 0:
        raise ValueError("the statistic must be positive and vary to fit a limit")
    g = var / (2.0 * mean)
    h = 2.0 * mean * mean / var
    return g * float(stats.chi2.ppf(confidence, h))
