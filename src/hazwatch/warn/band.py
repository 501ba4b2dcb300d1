"""Deviation from a learned normal band, and an abnormal rate of change, of one tag.

:class:`BandDetector` learns the exponentially weighted mean and variance of the value and
of its step-to-step change (the rate of change per sample). Each sample is judged against
the band learned *before* it: ``z_level = (x_t − m_{t−1}) / s_{t−1}`` and the same for the
change ``x_t − x_{t−1}``. The score is the larger of the two two-sided Gaussian tail
probabilities, on the same scale as :mod:`hazwatch.warn.anomaly`: ``score = min(1,
−log10(p) / 10)``, so 0.5 means the band is left with probability 1e-5 under normal
operation.

It is the simple, explainable companion of the novelty detector: it sees a drift out of
the usual operating band or a jump faster than the tag normally moves, but, unlike the
novelty detector, it also flags a large regular cycle as deviation. The recursions run in
C through :func:`scipy.signal.lfilter` with the filter state carried between calls, so a
stream cut into batches scores exactly as one batch.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import lfilter
from scipy.special import log_ndtr

from hazwatch.warn.detector import Phase, Scores, Stamps, Vector
from hazwatch.warn.refractory import Refractory

LOG10 = math.log(10.0)


def tail_score(z: Vector) -> Vector:
    """``min(1, −log10(p) / 10)`` of the two-sided Gaussian tail ``p`` of ``|z|``."""
    log_p = (math.log(2.0) + log_ndtr(-np.abs(z))) / LOG10
    score: Vector = np.clip(-log_p / 10.0, 0.0, 1.0)
    return score


class _Moments:
    """Exponentially weighted mean and variance of a stream, judged before learning."""

    def __init__(self, alpha: float) -> None:
        self.alpha = alpha
        self.mean = math.nan
        self.var = 0.0

    def zscores(self, x: Vector) -> Vector:
        """``(x_t − m_{t−1}) / s_{t−1}`` for each sample, then learn the samples."""
        a = self.alpha
        if math.isnan(self.mean):
            self.mean = float(x[0])
        means = lfilter([a], [1.0, -(1.0 - a)], x, zi=[(1.0 - a) * self.mean])[0]
        before = np.r_[self.mean, means[:-1]]
        err2 = (x - before) ** 2
        vars_ = lfilter([(1.0 - a) * a], [1.0, -(1.0 - a)], err2, zi=[(1.0 - a) * self.var])[0]
        var_before = np.r_[self.var, vars_[:-1]]
        self.mean, self.var = float(means[-1]), float(vars_[-1])
        # a floor relative to the level: a constant signal must not make noise infinite
        floor = 1e-6 * np.maximum(np.abs(before), 1.0)
        z: Vector = (x - before) / np.maximum(np.sqrt(var_before), floor)
        return z


class BandDetector:
    """Level outside the learned band, or change faster than usual; scores in [0, 1].

    ``memory``: samples over which the band is learned (EW span, alpha = 2/(memory+1));
    ``warmup``: samples before the detector judges; ``threshold``: the flag level;
    ``refractory``: samples after a flag during which the score is held at 0
    (:mod:`hazwatch.warn.refractory`).
    """

    name = "band"

    def __init__(
        self,
        *,
        memory: int = 500,
        warmup: int = 60,
        threshold: float = 0.5,
        refractory: int = 200,
    ) -> None:
        if memory < 2 or warmup < 2:
            raise ValueError("memory and warmup must be at least 2 samples")
        alpha = 2.0 / (memory + 1.0)
        self._level = _Moments(alpha)
        self._rate = _Moments(alpha)
        self._last = math.nan
        self._seen = 0
        self.warmup = warmup
        self.threshold = threshold
        self._refractory = Refractory(threshold=threshold, samples=refractory)

    @property
    def phase(self) -> Phase:
        return Phase.READY if self._seen >= self.warmup else Phase.WARMING_UP

    def deviation(self, x: Vector) -> Vector:
        """``max(|z_level|, |z_rate|)`` of finite ``x``, each against the band learned
        before it; then learns ``x``."""
        z_level = self._level.zscores(x)
        change = np.diff(x, prepend=x[0] if math.isnan(self._last) else self._last)
        z_rate = self._rate.zscores(change)
        self._seen += len(x)
        self._last = float(x[-1])
        z: Vector = np.maximum(np.abs(z_level), np.abs(z_rate))
        return z

    def score(self, ts: Stamps, values: Vector) -> Scores:
        """Score and then learn ``values``; a non-finite value scores NaN and is not learned."""
        x = np.asarray(values, dtype=np.float64)
        if len(ts) != len(x):
            raise ValueError("one timestamp per value")
        finite = np.isfinite(x)
        out = np.full(len(x), np.nan)
        good = x[finite]
        if len(good):
            at = self._seen + np.arange(len(good))
            score = tail_score(self.deviation(good))
            score[at < self.warmup] = np.nan
            out[finite] = self._refractory.apply(score, at)
        ready = np.isfinite(out)
        limit = np.full(len(x), self.threshold)
        return Scores(score=out, threshold=limit, flagged=ready & (out > limit), ready=ready)
