"""The training matrix of an installation: its tags' history on one regular time grid.

A process monitor learns from a samples × variables matrix with one row per instant of a
regular grid (``period_ms``). The history of each tag arrives as 1-minute rollups (the
minute's start and its average, ``storage.readings``); ``training_set`` puts them on the
grid of ``[start, end)`` as follows:

* a grid period longer than a minute takes the count-weighted mean of its minutes;
* a tag with values in fewer than ``min_coverage`` of the periods, or with no variation
  at all, is **left out**, with the reason (a constant signal teaches a monitor nothing and
  would make any later movement look like a fault);
* a short gap — at most ``max_gap`` periods — is filled by carrying the last value forward
  (a tag that reports by exception, a lost minute); a row where some kept tag is still
  empty (before its first value, or inside a longer gap) is dropped.

Dropped rows join the periods on either side of them: lagged monitors (``dpca``, ``cva``)
then see one short jump, which is why only a small share of rows may be missing
(``min_coverage``). Pure logic: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import Millis
from hazwatch.warn.detector import Matrix, Stamps, Vector


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """One tag's history: ``ts`` (epoch ms, e.g. rollup minutes), ``values`` and, optional,
    ``weights`` (how many readings each value summarises)."""

    key: str
    ts: Stamps
    values: Vector
    weights: Vector | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainingSet:
    """``samples`` (rows × ``variables``), the grid instant of each row, and the tags left
    out with the reason for each."""

    samples: Matrix
    stamps: Stamps
    variables: tuple[str, ...]
    left_out: tuple[tuple[str, str], ...]
    periods: int
    """Periods of the grid over ``[start, end)``, before rows were dropped."""


def training_set(
    series: Sequence[Series],
    *,
    start: Millis,
    end: Millis,
    period_ms: Millis,
    min_coverage: float = 0.8,
    max_gap: int = 5,
) -> TrainingSet:
    """The training matrix of ``series`` over ``[start, end)``; see the module docstring."""
    if period_ms <= 0 or end <= start:
        raise ValueError("need a positive period and start < end")
    if not 0.0 < min_coverage <= 1.0 or max_gap < 0:
        raise ValueError("need 0 < min_coverage <= 1 and max_gap >= 0")
    first = -(-start // period_ms) * period_ms
    grid = np.arange(first, end, period_ms, dtype=np.int64)
    n = len(grid)
    columns: list[Vector] = []
    kept: list[str] = []
    left_out: list[tuple[str, str]] = []
    for s in series:
        column = _on_grid(s, first, period_ms, n)
        filled = int(np.isfinite(column).sum())
        if n == 0 or filled < min_coverage * n:
            left_out.append(
                (s.key, f"values in {filled} of {n} periods (needs {min_coverage:.0%})")
            )
            continue
        column = _carry(column, max_gap)
        present = column[np.isfinite(column)]
        if np.ptp(present) == 0:
            left_out.append((s.key, "constant over the range"))
            continue
        columns.append(column)
        kept.append(s.key)
    matrix: Matrix = np.column_stack(columns) if columns else np.empty((n, 0))
    complete = np.isfinite(matrix).all(axis=1) if columns else np.zeros(n, dtype=np.bool_)
    return TrainingSet(
        samples=np.ascontiguousarray(matrix[complete]),
        stamps=grid[complete],
        variables=tuple(kept),
        left_out=tuple(left_out),
        periods=n,
    )


def _on_grid(s: Series, first: Millis, period_ms: Millis, n: int) -> Vector:
    ts = np.asarray(s.ts, dtype=np.int64)
    values = np.asarray(s.values, dtype=np.float64)
    weights = np.ones(len(values)) if s.weights is None else np.asarray(s.weights, float)
    slot = (ts - first) // period_ms
    inside = (ts >= first) & (slot < n) & np.isfinite(values) & (weights > 0)
    slot, values, weights = slot[inside], values[inside], weights[inside]
    total = np.bincount(slot, weights=values * weights, minlength=n)
    count = np.bincount(slot, weights=weights, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        column: Vector = np.where(count > 0, total / count, np.nan)
    return column


def _carry(column: Vector, max_gap: int) -> Vector:
    positions: npt.NDArray[np.int64] = np.arange(len(column))
    source = np.where(np.isfinite(column), positions, -1)
    last = np.maximum.accumulate(source)
    usable = (last >= 0) & (positions - last <= max_gap)
    filled: Vector = np.where(usable, column[np.maximum(last, 0)], np.nan)
    return filled


__all__ = ["Series", "TrainingSet", "training_set"]
