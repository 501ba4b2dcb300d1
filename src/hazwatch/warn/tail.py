"""The upper tail of a statistic, learned from its own history (peaks over threshold).

A deviation measured in standard deviations means little on its own when the signal is
not Gaussian: counts, spiky loads and regular steps exceed "4σ" every day. Extreme value
theory gives the calibration instead (Pickands 1975; used for streams by Siffer et al.
2017, "Anomaly detection in streams with extreme value theory", KDD): above a high
quantile ``u`` of the history, excesses follow a generalised Pareto distribution, so

    P(Z > z) = (k / n) · (1 + ξ (z − u) / σ)^(−1/ξ)     for z > u,

with ``k`` of the ``n`` values above ``u``. ``ξ`` and ``σ`` are fitted by the method of
moments (Hosking & Wallis 1987): closed form, no iteration; ``ξ`` is kept ≥ 0 (an
exponential or heavier tail). Below ``u`` the Gaussian tail is used, floored at ``k / n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from hazwatch.warn.detector import Vector

LOG10 = math.log(10.0)
MIN_EXCESSES = 10


@dataclass(frozen=True, slots=True, kw_only=True)
class ParetoTail:
    """A fitted tail: threshold ``u``, exceedance rate ``k/n``, shape ``xi``, scale ``sigma``."""

    u: float
    rate: float
    xi: float
    sigma: float

    @classmethod
    def fit(cls, history: Vector, *, quantile: float = 0.98) -> ParetoTail | None:
        """Fit the tail of nonnegative ``history`` above its ``quantile``; None if too few."""
        h = history[np.isfinite(history)]
        if len(h) == 0:
            return None
        u = float(np.quantile(h, quantile))
        excess = h[h > u] - u
        if len(excess) < MIN_EXCESSES:
            return None
        m = float(excess.mean())
        v = float(excess.var())
        if m <= 0:
            return None
        ratio = m * m / v if v > 0 else math.inf
        # ξ < 0 would bound the deviation and call anything beyond the bound impossible; a
        # deviation of a physical signal has no such bound (the Gaussian itself has ξ = 0),
        # so a negative estimate is taken as the noise of a small sample
        xi = max(0.5 * (1.0 - ratio), 0.0)
        sigma = m * (1.0 - xi)
        return cls(u=u, rate=len(excess) / len(h), xi=xi, sigma=sigma)

    def log10_p(self, z: Vector) -> Vector:
        """log10 of the upper-tail probability of each ``z``."""
        z = np.asarray(z, dtype=np.float64)
        y = np.maximum(z - self.u, 0.0) / self.sigma
        log_tail = -y if self.xi < 1e-6 else -np.log1p(self.xi * y) / self.xi
        above = (math.log(self.rate) + log_tail) / LOG10
        gauss = (math.log(2.0) + log_ndtr(-np.abs(z))) / LOG10
        below = np.maximum(gauss, math.log10(self.rate))
        result: Vector = np.where(z > self.u, above, below)
        return result
