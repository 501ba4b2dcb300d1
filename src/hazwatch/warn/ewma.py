"""Per-variable EWMA charts with a learnt envelope, drift screening and an alarm deadband.

A monitor for installations whose faults show as a *sustained shift* of one or a few
signals (a valve closing lowers the flow, an imbalance raises the vibration) rather than
as a broken correlation. Each variable gets its own exponentially weighted moving average
chart (Roberts 1959; Lucas & Saccucci 1990), which averages the noise away and so sees a
shift of one standard deviation that a per-sample test cannot.

Training on normal operation (``fit``):

1. every variable is scaled by its mean and sample standard deviation;
2. **drift screening** — a variable whose normal record is dominated by slow drift cannot
   have its level learnt from that record (a motor or fluid temperature still warming up,
   whose time constant is longer than the record). The screen is the variance ratio
   ``w·var(mean of w samples) / var(samples)`` over windows of ``drift_window`` samples:
   about 1 for noise around a level, about ``w`` for a trend. A ratio of
   ``drift_ratio`` or more means fewer than one sample in ``drift_ratio`` is effectively
   independent, too few to learn a 99 % envelope from; such variables (and constant ones)
   are *not monitored* — they never raise a warning and get a zero contribution;
3. the EWMA of each monitored variable is run over the normal record from the record's
   mean; after the warm-up its absolute deviation from its own mean has a
   ``confidence`` quantile, the variable's **envelope**: normal operation stayed inside it
   for that share of the record.

Scoring: ``score`` is the largest deviation of any monitored EWMA from its normal mean in
units of that variable's envelope (1 = at the edge of what the normal record showed;
higher = more anomalous). The warning is raised when the score exceeds ``raise_factor``
and cleared when it falls back to ``clear_factor`` or below — a deadband, as ISA-18.2
prescribes for alarms, so one sustained episode is one warning, not a chattering series.
``threshold`` is the limit in force for each sample (``raise_factor`` while clear,
``clear_factor`` while raised), so ``flagged == ready & (score > threshold)``.
``raise_factor`` > 1 leaves a margin for the slow wander of normal operation that a short
normal record cannot show.

Warm-up: the EWMA starts at the normal mean; it is not ready until the weight of that
start has decayed below 1 %, ``ceil(ln 0.01 / ln(1 − smoothing))`` samples after a
``reset`` (44 at the default smoothing 0.1). Samples are assumed evenly spaced: the
smoothing is per sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from hazwatch.warn.detector import Flags, Matrix, Scores, Vector
from hazwatch.warn.pca import Scaling, check_normal, check_samples
from hazwatch.warn.state import Arrays, Param, State, fitted, integer, number, vector


def drift_ratios(scaled: Matrix, window: int) -> Vector:
    """``window · var(window means) / var(samples)`` per column.

    About 1 for noise around a level, about ``window`` for a trend.
    """
    n = len(scaled)
    if n < 2 * window:
        raise ValueError(f"need at least {2 * window} samples to screen for drift, got {n}")
    sums = np.cumsum(np.vstack([np.zeros((1, scaled.shape[1])), scaled]), axis=0)
    means = (sums[window:] - sums[:-window]) / window
    var = scaled.var(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratios: Vector = np.where(var > 0, window * means.var(axis=0) / var, np.inf)
    return ratios


def deadband(score: Vector, *, raise_at: float, clear_at: float, raised: bool) -> Flags:
    """Whether a warning is raised *before* each sample, given ``raised`` before the first.

    A warning is raised by a score above ``raise_at`` and cleared by a score at or below
    ``clear_at`` (or NaN: a sample not ready); between the two the state holds.
    """
    n = len(score)
    event = np.full(n, -1, dtype=np.int8)
    event[score > raise_at] = 1
    event[~(score > clear_at)] = 0
    positions = np.where(event >= 0, np.arange(n), -1)
    last = np.maximum.accumulate(positions) if n else positions
    after = np.where(last >= 0, event[np.maximum(last, 0)] == 1, raised)
    before: Flags = np.concatenate([[raised], after]).astype(np.bool_)[:n]
    return before


class EwmaMonitor:
    """Per-variable EWMA charts (see the module docstring for the method).

    ``smoothing``: EWMA weight of the newest sample, in (0, 1] (0.1 ≈ a 19-sample mean);
    ``confidence``: quantile of the normal deviations that sets each envelope;
    ``raise_factor`` / ``clear_factor``: warning raised above / cleared at or below these
    multiples of the envelope; ``drift_window`` and ``drift_ratio``: the drift screen.
    """

    def __init__(
        self,
        *,
        smoothing: float = 0.1,
        confidence: float = 0.995,
        raise_factor: float = 2.5,
        clear_factor: float = 1.0,
        drift_window: int = 30,
        drift_ratio: float = 10.0,
        name: str = "ewma",
    ) -> None:
        if not 0.0 < smoothing <= 1.0:
            raise ValueError("smoothing must lie in (0, 1]")
        if not 0.0 < confidence < 1.0:
            raise ValueError("confidence must lie in (0, 1)")
        if not 0.0 < clear_factor <= raise_factor:
            raise ValueError("need 0 < clear_factor <= raise_factor")
        if drift_window < 2 or drift_ratio <= 1.0:
            raise ValueError("need drift_window >= 2 and drift_ratio > 1")
        self.name = name
        self.smoothing = smoothing
        self.confidence = confidence
        self.raise_factor = raise_factor
        self.clear_factor = clear_factor
        self.drift_window = drift_window
        self.drift_ratio = drift_ratio
        self.warmup = 1 if smoothing == 1.0 else math.ceil(math.log(0.01) / math.log(1 - smoothing))
        self._scaling: Scaling | None = None
        self.monitored: Flags = np.zeros(0, dtype=np.bool_)
        self.drift: Vector = np.zeros(0)
        self.centre: Vector = np.zeros(0)
        self.envelope: Vector = np.zeros(0)
        self._level: Vector = np.zeros(0)
        self._seen = 0
        self._raised = False

    def fit(self, normal: Matrix) -> None:
        x = check_normal(normal, minimum=self.warmup + 2 * self.drift_window)
        scaling = Scaling.learn(x)
        z = scaling.apply(x)
        drift = drift_ratios(z, self.drift_window)
        steady = (x.std(axis=0) > 0) & (drift < self.drift_ratio)
        level = self._smooth(z[:, steady], np.zeros(int(steady.sum())))[self.warmup :]
        centre = level.mean(axis=0)
        envelope = np.quantile(np.abs(level - centre), self.confidence, axis=0)
        monitored = steady.copy()
        monitored[steady] = envelope > 0
        if not monitored.any():
            raise ValueError(
                "no variable holds a steady level in the normal data (all drift or are constant)"
            )
        self._scaling = scaling
        self.drift = drift
        self.monitored = monitored
        self.centre = centre[envelope > 0]
        self.envelope = envelope[envelope > 0]
        self.reset()

    def _smooth(self, z: Matrix, start: Vector) -> Matrix:
        lam = self.smoothing
        initial = ((1 - lam) * start)[np.newaxis, :]
        smoothed, _ = lfilter([lam], [1.0, -(1 - lam)], z, axis=0, zi=initial)
        out: Matrix = np.asarray(smoothed, dtype=np.float64)
        return out

    def score(self, samples: Matrix) -> Scores:
        if self._scaling is None:
            raise RuntimeError("fit the monitor on normal data first")
        z = self._scaling.apply(check_samples(samples, len(self.monitored)))
        n = len(z)
        if n == 0:
            empty = np.zeros(0)
            none = np.zeros(0, dtype=np.bool_)
            return Scores(score=empty, threshold=empty, flagged=none, ready=none)
        level = self._smooth(z[:, self.monitored], self._level)
        self._level = level[-1].copy()
        ready = np.arange(self._seen + 1, self._seen + n + 1) >= self.warmup
        self._seen += n
        ratio = np.abs(level - self.centre) / self.envelope
        score = np.where(ready, ratio.max(axis=1), np.nan)
        raised_before = deadband(
            score, raise_at=self.raise_factor, clear_at=self.clear_factor, raised=self._raised
        )
        threshold = np.where(raised_before, self.clear_factor, self.raise_factor)
        flagged = ready & (np.nan_to_num(score, nan=-np.inf) > threshold)
        self._raised = bool(flagged[-1])
        squares = ratio**2
        total = squares.sum(axis=1, keepdims=True)
        shares = np.zeros((n, len(self.monitored)))
        with np.errstate(invalid="ignore", divide="ignore"):
            shares[:, self.monitored] = np.where(total > 0, squares / total, 0.0)
        shares[~ready] = np.nan
        return Scores(
            score=score,
            threshold=threshold.astype(np.float64),
            flagged=flagged,
            ready=ready,
            contributions=shares,
        )

    def state(self) -> State:
        """Constructor parameters and learnt arrays (``warn.state``); not fitted: error."""
        scaling = fitted(self._scaling, "ewma")
        params: dict[str, Param] = {
            "smoothing": self.smoothing,
            "confidence": self.confidence,
            "raise_factor": self.raise_factor,
            "clear_factor": self.clear_factor,
            "drift_window": self.drift_window,
            "drift_ratio": self.drift_ratio,
            "name": self.name,
        }
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "mean": scaling.mean,
            "scale": scaling.scale,
            "monitored": self.monitored,
            "drift": self.drift,
            "centre": self.centre,
            "envelope": self.envelope,
        }
        return params, arrays

    @classmethod
    def restore(cls, params: Mapping[str, Param], arrays: Arrays) -> EwmaMonitor:
        """The monitor ``state()`` was taken from, at the start of a stream."""
        ewma = cls(
            smoothing=number(params["smoothing"]),
            confidence=number(params["confidence"]),
            raise_factor=number(params["raise_factor"]),
            clear_factor=number(params["clear_factor"]),
            drift_window=integer(params["drift_window"]),
            drift_ratio=number(params["drift_ratio"]),
            name=str(params["name"]),
        )
        ewma._scaling = Scaling(mean=vector(arrays["mean"]), scale=vector(arrays["scale"]))
        ewma.monitored = np.asarray(arrays["monitored"], dtype=np.bool_)
        ewma.drift = vector(arrays["drift"])
        ewma.centre = vector(arrays["centre"])
        ewma.envelope = vector(arrays["envelope"])
        ewma.reset()
        return ewma

    def reset(self) -> None:
        """Restart the charts at the normal mean; the next ``warmup`` samples are not ready."""
        self._level = np.zeros(len(self.centre))
        self._seen = 0
        self._raised = False


__all__ = ["EwmaMonitor", "deadband", "drift_ratios"]
