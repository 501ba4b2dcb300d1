"""Streaming anomaly scores of one tag: is the recent shape new, or the move unusual?

:class:`NoveltyDetector` is the early-warning anomaly score of one signal, learned on the
fly (no training data, no labels) and scored in [0, 1]. It joins two views, each turned
into a tail probability ``p`` under what the tag has done so far:

* **novelty of shape.** Each sample's recent history becomes a *pattern*: the last
  ``lags`` values and the means of ``blocks`` blocks of ``block_width`` values before them.
  The distance to the nearest earlier pattern (one that does not overlap it) measures how
  new the present is. A daily cycle, a regular batch step or a known operating level is
  found in memory and scores low however large it is; a level, slope or rhythm never seen
  scores high. This is the principle of the leading model-free detectors of the Numenta
  Anomaly Benchmark (nearest-neighbour conformal scoring, Burnaev & Ishimtsev 2016;
  contextOSE; ARTime). As in Numenta's "anomaly likelihood" (Ahmad et al. 2017, §3.3), the
  log distance, averaged over the last ``smooth`` samples, is compared with the mean and
  standard deviation of all earlier ones, and ``p`` is the Gaussian upper tail.
* **deviation from the learned band and unusual rate of change**
  (:class:`~hazwatch.warn.band.BandDetector`): sees a slow drift or a jump sooner than the
  nearest-neighbour distance, which noise in the other pattern dimensions dilutes. Its
  deviation in standard deviations is not taken as Gaussian: the upper tail of the tag's
  own deviations is fitted by a generalised Pareto distribution (peaks over threshold,
  :mod:`hazwatch.warn.tail`), so a counter that bursts daily or a regular batch step does
  not read as a 10σ event every time.

The score is the larger of the two, ``min(1, −log10(p) / 10)``: 0.3 means a sample normal
operation of this tag produces with probability 1e-3, 0.5 means 1e-5 and 1 means ≤ 1e-10.
The scale is the same for every tag, so one threshold serves a whole plant (or the whole
NAB corpus). After a score above ``threshold`` the next ``refractory`` samples are held at
0 (:mod:`hazwatch.warn.refractory`): the episode has been reported.

Vectorised: samples are processed in internal blocks of ``block`` samples aligned on the
absolute sample count, and what a block teaches (distance moments, range) takes effect at
its end, so the scores do not depend on how the stream is cut into calls. Within a block
each sample is compared with the memory and with the causal part of its own block in one
numpy expression; older patterns live in a k-d tree rebuilt every ``rebuild`` patterns.
No Python loop runs per sample.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree
from scipy.special import log_ndtr

from hazwatch.warn.band import BandDetector, tail_score
from hazwatch.warn.detector import Phase, Scores, Stamps, Vector
from hazwatch.warn.refractory import Refractory
from hazwatch.warn.tail import ParetoTail

Matrix = npt.NDArray[np.float64]

LOG10 = math.log(10.0)


class NoveltyDetector:
    """Novelty of the recent shape, or deviation from the learned band; score in [0, 1].

    ``lags``: the newest values in a pattern; ``blocks`` × ``block_width``: block means of
    the history before them (a pattern spans ``lags + blocks × block_width`` samples);
    ``smooth``: samples over which log distances are averaged; ``band_memory``: samples
    over which the band is learned (0: shape novelty alone); ``tail_memory``,
    ``tail_quantile``: the band deviations (last ``tail_memory``) whose tail above that
    quantile calibrates them (0: assume a Gaussian tail); ``warmup``: samples before the
    detector judges (score NaN, not ready), at least one ``block``; ``threshold``: the
    flag level (0.3: probability 1e-3); ``refractory``: samples held at 0 after a flag;
    ``block``, ``rebuild``: the internal block length and how many patterns go into the
    k-d tree at once (speed only).
    """

    name = "novelty"

    def __init__(
        self,
        *,
        lags: int = 4,
        blocks: int = 4,
        block_width: int = 4,
        warmup: int = 128,
        threshold: float = 0.3,
        refractory: int = 200,
        smooth: int = 10,
        band_memory: int = 500,
        tail_memory: int = 4096,
        tail_quantile: float = 0.95,
        block: int = 128,
        rebuild: int = 2048,
    ) -> None:
        if lags < 1 or blocks < 0 or block_width < 1:
            raise ValueError("a pattern needs at least one lag and positive block widths")
        self.lags = lags
        self.blocks = blocks
        self.block_width = block_width
        self.span = lags + blocks * block_width
        if warmup < max(2 * self.span, block):
            raise ValueError(f"warmup must cover a block ({block}) and two pattern spans")
        self.warmup = warmup
        self.threshold = threshold
        self.refractory = refractory
        self.smooth = smooth
        self.tail_memory = tail_memory
        self.tail_quantile = tail_quantile
        self.block = block
        self.rebuild = rebuild
        self._seen = 0
        self._tail = np.zeros(0)  # the last span−1 values
        self._logd_tail = np.zeros(0)  # the last smooth−1 log distances
        self._low = math.inf
        self._high = -math.inf
        self._tree: cKDTree | None = None
        self._recent = np.zeros((0, self.lags + self.blocks))
        self._recent_at = np.zeros(0, dtype=np.int64)
        # running moments of log nearest-neighbour distances (the learned normal novelty)
        self._n = 0
        self._sum = 0.0
        self._sumsq = 0.0
        self._pending = [0.0, 0.0, 0.0, math.inf, -math.inf]  # n, Σ, Σ², low, high
        self._deviations = np.zeros(0)  # the last tail_memory band deviations
        self._pareto: ParetoTail | None = None
        self._band = BandDetector(memory=band_memory, refractory=0) if band_memory else None
        self._refractory = Refractory(threshold=threshold, samples=refractory)

    @property
    def phase(self) -> Phase:
        return Phase.READY if self._seen >= self.warmup else Phase.WARMING_UP

    def score(self, ts: Stamps, values: Vector) -> Scores:
        """Score and then learn ``values``; a non-finite value scores NaN and is not learned.

        ``score``: NaN while warming up, else in [0, 1] (see the module docstring);
        ``threshold``: the flag threshold; ``flagged``: ``ready & (score > threshold)``.
        """
        x = np.asarray(values, dtype=np.float64)
        if len(ts) != len(x):
            raise ValueError("one timestamp per value")
        finite = np.isfinite(x)
        out = np.full(len(x), np.nan)
        ready = np.zeros(len(x), dtype=np.bool_)
        good, stamps = x[finite], np.asarray(ts, dtype=np.int64)[finite]
        scored = np.full(len(good), np.nan)
        start = 0
        while start < len(good):
            end = min(len(good), start + self.block - self._seen % self.block)
            scored[start:end] = self._step(stamps[start:end], good[start:end])
            start = end
        out[finite] = scored
        ready[finite] = np.isfinite(scored)
        limit = np.full(len(x), self.threshold)
        return Scores(score=out, threshold=limit, flagged=ready & (out > limit), ready=ready)

    def _step(self, ts: Stamps, x: Vector) -> Vector:
        """Score one internal block (aligned on the absolute sample count), then learn it."""
        first = self._seen
        at = first + np.arange(len(x), dtype=np.int64)
        history = np.concatenate([self._tail, x])
        patterns, valid = self._patterns(history, len(x))
        distance = self._nearest(patterns, at, valid)
        raw = np.log(distance + self._resolution())
        logd = self._smooth(raw)
        score = self._likelihood(logd)
        if self._band is not None:
            deviation = self._band.deviation(x)
            if self._pareto is None:
                band = tail_score(deviation)
            else:
                band = np.clip(-self._pareto.log10_p(deviation) / 10.0, 0.0, 1.0)
            score = np.fmax(score, band)
            learned = deviation[at >= self.warmup]
            self._deviations = np.r_[self._deviations, learned][-self.tail_memory :]
        score[at < self.warmup] = np.nan
        score = self._refractory.apply(score, at)
        self._learn(x, history, patterns[valid], at[valid], logd[valid])
        return score

    def _patterns(self, history: Vector, n: int) -> tuple[Matrix, npt.NDArray[np.bool_]]:
        """Pattern of each of the last ``n`` samples of ``history``; ``valid`` where complete."""
        full = np.concatenate([np.full(max(0, self.span - len(history) + n - 1), np.nan), history])
        ends = np.arange(len(full) - n, len(full))
        lag_idx = ends[:, None] - np.arange(self.lags)[None, :]
        parts = [full[lag_idx]]
        if self.blocks:
            csum = np.r_[0.0, np.cumsum(np.nan_to_num(full))]
            counts = np.r_[0, np.cumsum(np.isfinite(full))]
            stops = ends[:, None] - self.lags - np.arange(self.blocks)[None, :] * self.block_width
            starts = stops - self.block_width
            ok = starts >= -1
            s0, s1 = np.clip(starts + 1, 0, None), np.clip(stops + 1, 0, None)
            n_in = counts[s1] - counts[s0]
            means = (csum[s1] - csum[s0]) / np.maximum(n_in, 1)
            parts.append(np.where(ok & (n_in == self.block_width), means, np.nan))
        patterns = np.concatenate(parts, axis=1)
        return patterns, np.all(np.isfinite(patterns), axis=1)

    def _nearest(
        self, patterns: Matrix, at: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_]
    ) -> Vector:
        """Distance to the nearest earlier pattern that does not overlap the sample's own."""
        d = np.full(len(patterns), np.inf)
        if self._tree is not None and valid.any():
            d[valid] = self._tree.query(patterns[valid], k=1)[0]
        pool = np.concatenate([self._recent, patterns[valid]])
        pool_at = np.concatenate([self._recent_at, at[valid]])
        if len(pool) and valid.any():
            q = patterns[valid]
            sq = (
                np.sum(q * q, axis=1)[:, None]
                + np.sum(pool * pool, axis=1)[None, :]
                - 2.0 * q @ pool.T
            )
            causal = pool_at[None, :] <= at[valid][:, None] - self.span
            sq = np.where(causal, sq, np.inf)
            d[valid] = np.minimum(d[valid], np.sqrt(np.maximum(sq.min(axis=1), 0.0)))
        return d

    def _resolution(self) -> float:
        """The distance below which patterns count as equal: 0.1 % of the range seen."""
        width = self._high - self._low
        return 1e-3 * width if math.isfinite(width) and width > 0 else 1e-12

    def _smooth(self, logd: Vector) -> Vector:
        """Mean log distance over the last ``smooth`` samples (NaN until all are known)."""
        joined = np.concatenate([self._logd_tail, logd])
        k = self.smooth
        csum = np.r_[0.0, np.cumsum(np.nan_to_num(joined, posinf=0.0))]
        bad = np.r_[0, np.cumsum(~np.isfinite(joined))]
        ends = np.arange(len(joined) - len(logd), len(joined)) + 1
        starts = ends - k
        ok = starts >= 0
        s0 = np.clip(starts, 0, None)
        mean = (csum[ends] - csum[s0]) / k
        self._logd_tail = joined[-(k - 1) :] if k > 1 else np.zeros(0)
        return np.where(ok & (bad[ends] - bad[s0] == 0), mean, np.nan)

    def _spread(self) -> float:
        mean = self._sum / self._n
        var = max(self._sumsq / self._n - mean * mean, 0.0)
        # a floor on the spread: a perfectly repetitive signal must not make noise infinite
        return max(math.sqrt(var), 0.25)

    def _likelihood(self, logd: Vector) -> Vector:
        """Score = −log10(upper Gaussian tail of log distance under learned moments) / 10."""
        if self._n < 2:
            return np.full(len(logd), np.nan)
        z = (logd - self._sum / self._n) / self._spread()
        with np.errstate(invalid="ignore"):
            tail = log_ndtr(-z) / LOG10
        return np.where(np.isfinite(logd), np.clip(-tail / 10.0, 0.0, 1.0), np.nan)

    def _learn(
        self,
        x: Vector,
        history: Vector,
        patterns: Matrix,
        at: npt.NDArray[np.int64],
        logd: Vector,
    ) -> None:
        self._seen += len(x)
        self._tail = history[-(self.span - 1) :] if self.span > 1 else np.zeros(0)
        self._recent = np.concatenate([self._recent, patterns])
        self._recent_at = np.concatenate([self._recent_at, at])
        if len(self._recent) >= self.rebuild:
            old = self._tree.data if self._tree is not None else np.zeros((0, patterns.shape[1]))
            # the newest span patterns overlap samples still to come: they stay in the pool
            # that is masked causally
            keep = self.span
            self._tree = cKDTree(np.concatenate([old, self._recent[:-keep]]))
            self._recent = self._recent[-keep:]
            self._recent_at = self._recent_at[-keep:]
        finite = logd[np.isfinite(logd)]
        p = self._pending
        p[0] += len(finite)
        p[1] += float(finite.sum())
        p[2] += float(np.sum(finite * finite))
        if len(x):
            p[3] = min(p[3], float(x.min()))
            p[4] = max(p[4], float(x.max()))
        # what the block taught takes effect at the block's end, so the scores do not
        # depend on where a caller cuts the stream
        if self._seen % self.block == 0:
            self._n += int(p[0])
            self._sum += p[1]
            self._sumsq += p[2]
            self._low = min(self._low, p[3])
            self._high = max(self._high, p[4])
            self._pending = [0.0, 0.0, 0.0, math.inf, -math.inf]
            if self.tail_quantile:
                self._pareto = ParetoTail.fit(self._deviations, quantile=self.tail_quantile)
