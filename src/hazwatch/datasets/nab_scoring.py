"""The Numenta Anomaly Benchmark scoring rules, written from their published description.

Source: Lavin & Ahmad (2015), "Evaluating Real-time Anomaly Detection Algorithms — the
Numenta Anomaly Benchmark", arXiv:1510.03336, and the NAB v1.1 scorer's documented
behaviour. Pure functions over numpy arrays; reading files is :mod:`hazwatch.datasets.nab`.

Rules, per file of ``n`` rows:

* the first ``min(floor(0.15 n), 750)`` rows are probationary: never scored;
* a row is a *detection* when its anomaly score is at or above the threshold;
* inside a window ``[s, e]`` (row indices, width ``W = e - s + 1``) only the earliest
  detection counts and earns ``tp * σ(y) / σ(-1)`` with ``y = -(e - i + 1) / W``
  (``y = -1`` at the left edge earns exactly ``tp``; the right edge earns about 0), where
  ``σ(y) = 2 / (1 + exp(5 y)) - 1``; a window without detection costs ``-fn``;
* every detection outside all windows costs ``fp * σ(y)`` (negative), ``y = (i - e') /
  (W' - 1)`` with ``e'``, ``W'`` the end and width of the preceding window; ``σ = -1`` when
  ``y ≥ 3`` or no window precedes;
* the threshold is chosen per detector and profile to maximise the raw score summed over the
  whole corpus (NAB's threshold optimisation); the normalised score is ``100 (S - S_null) /
  (S_perfect - S_null)`` with ``S_null = -fn × windows`` (a detector that never fires) and
  ``S_perfect = tp × windows``.

A window lying wholly inside the probationary period is not scored (as in NAB's sweeper).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float64]
Indices = npt.NDArray[np.int64]

PROBATION_FRACTION = 0.15
PROBATION_CAP = 750  # 0.15 × 5000 rows in NAB
SIGMOID_STEEPNESS = 5.0
FAR_PAST_WINDOW = 3.0  # window widths after a window: from here on an FP costs the full weight


@dataclass(frozen=True, slots=True, kw_only=True)
class CostMatrix:
    """The weights of one NAB application profile (``config/profiles.json``)."""

    tp: float
    fp: float
    fn: float


PROFILES: dict[str, CostMatrix] = {
    "standard": CostMatrix(tp=1.0, fp=0.11, fn=1.0),
    "reward_low_FP_rate": CostMatrix(tp=1.0, fp=0.22, fn=1.0),
    "reward_low_FN_rate": CostMatrix(tp=1.0, fp=0.11, fn=2.0),
}


def scaled_sigmoid(y: Vector) -> Vector:
    """NAB's σ(y) = 2/(1+exp(5y)) − 1, and −1 from ``y ≥ 3`` on; σ(−1) ≈ 0.9866, σ(0) = 0."""
    with np.errstate(over="ignore"):
        s = 2.0 / (1.0 + np.exp(SIGMOID_STEEPNESS * y)) - 1.0
    return np.where(y >= FAR_PAST_WINDOW, -1.0, s)


def probation_length(n_rows: int) -> int:
    """Rows at the start of a file that are never scored: ``min(floor(0.15 n), 750)``."""
    return int(min(math.floor(PROBATION_FRACTION * n_rows), PROBATION_CAP))


@dataclass(frozen=True, slots=True, kw_only=True)
class Sweep:
    """How each row of one file would be scored if it were a detection (profile-free).

    ``window``: index of the window a row lies in (−1 outside); ``tp_share``: σ(y)/σ(−1) in
    (0, 1] for rows inside a window, else 0; ``fp_share``: σ(y) in [−1, 0) for rows outside,
    else 0; ``scored``: False for probationary rows; ``windows``: number of windows of the
    file that contain a scored row.
    """

    window: Indices
    tp_share: Vector
    fp_share: Vector
    scored: npt.NDArray[np.bool_]
    windows: int

    def __len__(self) -> int:
        return len(self.window)


def sweep(n_rows: int, bounds: Sequence[tuple[int, int]]) -> Sweep:
    """Per-row scoring weights of a file of ``n_rows`` with windows at row ``bounds``.

    ``bounds``: inclusive ``(first, last)`` row indices per window, ascending and disjoint.
    """
    idx = np.arange(n_rows, dtype=np.int64)
    window = np.full(n_rows, -1, dtype=np.int64)
    tp_share = np.zeros(n_rows)
    fp_y = np.full(n_rows, np.inf)  # no preceding window: full FP cost
    top = float(scaled_sigmoid(np.array([-1.0]))[0])
    for k, (first, last) in enumerate(bounds):
        if not 0 <= first <= last < n_rows:
            raise ValueError(f"window {k} rows {first}..{last} outside 0..{n_rows - 1}")
        width = last - first + 1
        inside = slice(first, last + 1)
        window[inside] = k
        tp_share[inside] = scaled_sigmoid(-(last - idx[inside] + 1) / width) / top
        after = slice(last + 1, bounds[k + 1][0] if k + 1 < len(bounds) else n_rows)
        # a one-row window has no width to measure distance in: later FPs cost fully
        fp_y[after] = (idx[after] - last) / (width - 1) if width > 1 else np.inf
    outside = window < 0
    fp_share = np.where(outside, scaled_sigmoid(fp_y), 0.0)
    scored = idx >= probation_length(n_rows)
    return Sweep(
        window=window,
        tp_share=tp_share,
        fp_share=fp_share,
        scored=scored,
        windows=len(np.unique(window[scored & ~outside])),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """The score of some rows at one threshold: raw score and row counts (scored rows only).

    ``detected``: windows with at least one detection; ``windows``: windows scored.
    """

    threshold: float
    raw: float
    tp: int
    fp: int
    tn: int
    fn: int
    detected: int
    windows: int


def outcome(s: Sweep, scores: Vector, threshold: float, costs: CostMatrix) -> Outcome:
    """Score one file's anomaly ``scores`` (one per row) at ``threshold`` under ``costs``."""
    hit = (scores >= threshold) & s.scored
    inside = s.window >= 0
    fp_rows = hit & ~inside
    raw = costs.fp * float(s.fp_share[fp_rows].sum())
    scored_windows = np.unique(s.window[s.scored & inside])
    hit_windows = s.window[hit & inside]
    # the earliest detection in a window has the largest tp_share
    best = np.zeros(len(scored_windows))
    if len(hit_windows):
        slot = np.searchsorted(scored_windows, hit_windows)
        np.maximum.at(best, slot, s.tp_share[hit & inside])
    detected = int(np.count_nonzero(best > 0))
    raw += costs.tp * float(best.sum()) - costs.fn * (len(scored_windows) - detected)
    n_in = int(np.count_nonzero(s.scored & inside))
    n_out = int(np.count_nonzero(s.scored & ~inside))
    tp = int(np.count_nonzero(hit & inside))
    fp = int(np.count_nonzero(fp_rows))
    return Outcome(
        threshold=threshold,
        raw=raw,
        tp=tp,
        fp=fp,
        tn=n_out - fp,
        fn=n_in - tp,
        detected=detected,
        windows=len(scored_windows),
    )


NO_DETECTION = 1.1  # NAB's starting threshold, above every score in [0, 1]


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdCurve:
    """Corpus raw score at every candidate threshold, thresholds descending.

    The first candidate is :data:`NO_DETECTION`; the others are the distinct scores of
    scored rows, each meaning "rows scoring at or above it are detections".
    """

    thresholds: Vector
    raw: Vector

    def best(self) -> tuple[float, float]:
        """The threshold with the highest raw score (the highest threshold among ties)."""
        k = int(np.argmax(self.raw))
        return float(self.thresholds[k]), float(self.raw[k])


def threshold_curve(
    sweeps: Sequence[Sweep], scores: Sequence[Vector], costs: CostMatrix
) -> ThresholdCurve:
    """The raw corpus score as a function of the threshold (NAB's threshold sweep).

    Vectorised: rows of all files are sorted by score once; false positives add up by a
    cumulative sum; each window's credit is a running maximum of its rows' ``tp_share``
    in that order (one numpy call per window, never per row).
    """
    score_parts: list[Vector] = []
    gain_parts: list[Vector] = []
    n_windows = 0
    for s, x in zip(sweeps, scores, strict=True):
        if len(x) != len(s):
            raise ValueError("one anomaly score per row is needed")
        keep = s.scored
        score_parts.append(np.asarray(x, dtype=np.float64)[keep])
        gain = costs.fp * s.fp_share[keep]
        win = s.window[keep]
        share = s.tp_share[keep]
        for w in np.unique(win[win >= 0]):
            rows = np.flatnonzero(win == w)
            order = rows[np.argsort(-score_parts[-1][rows], kind="stable")]
            credit = np.maximum.accumulate(share[order]) * costs.tp
            # the first detection lifts the window from −fn to its credit, later ones only
            # by how much earlier they are
            step = np.diff(credit, prepend=-costs.fn)
            gain[order] = step
            n_windows += 1
        gain_parts.append(gain)
    all_scores = np.concatenate(score_parts) if score_parts else np.zeros(0)
    all_gain = np.concatenate(gain_parts) if gain_parts else np.zeros(0)
    order = np.argsort(-all_scores, kind="stable")
    sorted_scores = all_scores[order]
    running = -costs.fn * n_windows + np.cumsum(all_gain[order])
    # rows tied on a score are detections together: keep the last of each run
    last_of_run = np.r_[sorted_scores[1:] != sorted_scores[:-1], True] if len(order) else []
    thresholds = np.r_[NO_DETECTION, sorted_scores[last_of_run]]
    raw = np.r_[-costs.fn * n_windows, running[last_of_run]]
    return ThresholdCurve(thresholds=thresholds, raw=raw)


def normalised(raw: float, *, windows: int, costs: CostMatrix) -> float:
    """NAB's normalised score: 0 for a detector that never fires, 100 for a perfect one."""
    null = -costs.fn * windows
    perfect = costs.tp * windows
    if perfect == null:
        return 0.0
    return 100.0 * (raw - null) / (perfect - null)
