"""Time to limit: when a tag's robust trend will cross its H/HH (or L/LL) limit.

Per tag, over the last ``W`` readings of a :class:`TrendWindow`:

* **slope** — Theil–Sen (Theil 1950; Sen 1968): the median of the ``k(k−1)/2`` pairwise
  slopes ``(v_j − v_i)/(t_j − t_i)`` of the ``k`` readings in the window, on their real
  timestamps, so irregular sampling needs no resampling. It tolerates about 29 % of wild
  readings, where least squares is moved by one;
* **confidence** — Sen's (1968) distribution-free interval of the slope: with
  ``N = k(k−1)/2`` sorted slopes, ``C = z_{(1+confidence)/2} · √(k(k−1)(2k+5)/18)`` (the
  standard deviation of Kendall's S without ties), the bounds are the sorted slopes of
  1-based ranks ``(N − C)/2`` and ``(N + C)/2 + 1`` (Gilbert 1987, §16.5), rounded outwards.
  It assumes independent errors around the trend; serially correlated noise makes it too
  narrow. Leaving out the tie correction widens it, which errs towards silence;
* **level** — the fitted value at ``now``: the median over the window of
  ``v_i − b·(t_i − now)`` for the slope ``b`` concerned (the Theil–Sen intercept, taken at
  ``now``), so the projection starts from the robust line, not from the last reading.

A tag is *rising* when the interval lies above 0 and *falling* when it lies below; within
the interval the direction is unknown and nothing is forecast, so noise around a level does
not warn. The **limit ahead** is the nearest configured limit in the direction of travel
that the last reading has not reached (``value >= limit`` for H/HH, ``<=`` for L/LL, as in
:mod:`hazwatch.detect.limit`): rising above H with HH set, the forecast heads for HH; at or
beyond every limit on its side, there is none — the limit alarm speaks, not the forecast.
Seconds to the limit are ``(limit − level)/slope``, at 0 when the line has reached it
already, once for the central slope and once for the **bound**, the end of the interval
nearer 0 (the latest plausible crossing). A tag **warns** when the bound's crossing lies
within ``horizon_s``: then, if the trend holds, the limit is reached within that time with
one-sided confidence ``(1 + confidence)/2``. The confidence is the slope's: the level's own
uncertainty (about a noise width over √k) is not added, so a level within a few noise
widths of the limit makes the time less certain than stated.

Readings come from a :class:`hazwatch.warn.window.TrendWindow`, already screened: the
caller drops bad-quality readings before pushing them. Everything is vectorised over tags;
the only loop runs over blocks of tags, never over readings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import LIMIT_KINDS, ConditionKind, Priority
from hazwatch.warn.detector import Flags, Scores, Vector
from hazwatch.warn.grading import Evidence
from hazwatch.warn.window import Ids, TrendWindow

Columns = npt.NDArray[np.int8]

NO_LIMIT = -1
"""``Forecast.limit`` of a tag with no limit ahead."""

_SIGN = np.array([1.0 if kind.is_high else -1.0 for kind in LIMIT_KINDS])
_BLOCK = 1024  # tags per block: keeps the (tags × pairs) arrays within the CPU caches


@dataclass(frozen=True, slots=True, kw_only=True)
class Forecast:
    """The forecast of each tag asked about, one element per tag (not per reading).

    ``tag``: the ids. ``ready``: the window held at least ``min_readings``; otherwise every
    number is NaN, ``limit`` is ``NO_LIMIT`` and ``warn`` False. ``slope``, ``slope_low``,
    ``slope_high``: Theil–Sen slope and its interval, units per second. ``level``: the
    fitted value at ``now``. ``limit``: the column in ``LIMIT_KINDS`` (HH, H, L, LL) of the
    limit ahead, or ``NO_LIMIT`` (no trend, no configured limit ahead, or every limit on its
    side already reached); ``limit_value``: its value. ``seconds``: seconds from ``now`` to
    the crossing on the central line; ``seconds_bound``: on the bound's line (not sooner
    when ``now`` is not before the readings); both ≥ 0, NaN without a limit ahead.
    ``crossing_at``: epoch ms of the central crossing. ``warn``: ``seconds_bound <
    horizon_s``.
    """

    tag: Ids
    ready: Flags
    slope: Vector
    slope_low: Vector
    slope_high: Vector
    level: Vector
    limit: Columns
    limit_value: Vector
    seconds: Vector
    seconds_bound: Vector
    crossing_at: Vector
    warn: Flags
    horizon_s: float
    confidence: float

    def __len__(self) -> int:
        return len(self.tag)

    def scores(self) -> Scores:
        """The forecast as detector scores: ``horizon_s / max(seconds_bound, 1 s)``.

        Threshold 1, so ``flagged == warn``. A score of 2 means the limit is reached, at
        the stated confidence, within half the horizon; a ready tag with no limit ahead
        scores 0; a tag in warm-up scores NaN. ``grade_ratios`` on these scores grades by
        how far inside the horizon the crossing lies; :meth:`evidence` grades by time.
        """
        score = np.zeros(len(self))
        ahead = ~np.isnan(self.seconds_bound)
        score[ahead] = self.horizon_s / np.maximum(self.seconds_bound[ahead], 1.0)
        score[~self.ready] = np.nan
        return Scores(
            score=score,
            threshold=np.ones(len(self)),
            flagged=self.warn.copy(),
            ready=self.ready.copy(),
        )

    def kind(self, i: int) -> ConditionKind | None:
        """The limit ahead of element ``i``."""
        column = int(self.limit[i])
        return None if column == NO_LIMIT else LIMIT_KINDS[column]

    def evidence(self, i: int, priority: Priority | None = None) -> Evidence:
        """What :func:`hazwatch.warn.grading.grade` needs for element ``i``: the time to
        the limit at the confidence bound, the limit's name and (from the tag table) its
        priority."""
        kind = self.kind(i)
        if kind is None:
            return Evidence()
        return Evidence(
            time_to_limit_s=float(self.seconds_bound[i]), limit=str(kind), priority=priority
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeToLimit:
    """The forecaster's settings; :meth:`forecast` does the work.

    ``horizon_s``: how far ahead a crossing warns (the grading horizon, default 1 h).
    ``confidence``: two-sided level of the slope interval (0.95: each bound holds at
    97.5 %). ``min_readings``: readings in the window before a tag is ready; at least the
    smallest count whose interval rank ``(N − C)/2`` reaches 1 at this confidence (5 at
    0.95).
    """

    horizon_s: float = 3600.0
    confidence: float = 0.95
    min_readings: int = 10

    def __post_init__(self) -> None:
        if not (math.isfinite(self.horizon_s) and self.horizon_s > 1.0):
            raise ValueError(f"horizon {self.horizon_s} s must be finite and above 1 s")
        if not 0.0 < self.confidence < 1.0:
            raise ValueError(f"confidence {self.confidence} must lie in (0, 1)")
        if _ranks(self.min_readings, self.confidence)[0] < 0:
            raise ValueError(
                f"{self.min_readings} readings cannot bound a slope at {self.confidence}"
            )

    def forecast(
        self,
        window: TrendWindow,
        tag_ids: npt.ArrayLike,
        limits: Vector,
        now: Millis,
    ) -> Forecast:
        """Forecast ``tag_ids`` from their windows against ``limits`` at ``now`` (epoch ms).

        ``limits``: ``(rows, 4)`` limit values by tag id, columns HH, H, L, LL, NaN where
        not set — ``TagTable.limit_value``; ids beyond its rows have no limits.
        """
        if self.min_readings > window.width:
            raise ValueError(f"a window of {window.width} never holds {self.min_readings}")
        ids = np.asarray(tag_ids, dtype=np.int64)
        n = len(ids)
        fill = window.fill(ids)
        ready = fill >= self.min_readings
        slope, low, high, level = (np.full(n, np.nan) for _ in range(4))
        limit = np.full(n, NO_LIMIT, dtype=np.int8)
        limit_value, seconds, bound = (np.full(n, np.nan) for _ in range(3))
        rows = np.flatnonzero(ready)
        for start in range(0, len(rows), _BLOCK):
            at = rows[start : start + _BLOCK]
            line = self._lines(window, ids[at], fill[at], now)
            slope[at], low[at], high[at], level[at] = line[0], line[1], line[2], line[3]
            col, value, central, latest = _ahead(line, window, ids[at], limits)
            limit[at], limit_value[at], seconds[at], bound[at] = col, value, central, latest
        return Forecast(
            tag=ids,
            ready=ready,
            slope=slope,
            slope_low=low,
            slope_high=high,
            level=level,
            limit=limit,
            limit_value=limit_value,
            seconds=seconds,
            seconds_bound=bound,
            crossing_at=now + 1000.0 * seconds,
            warn=bound < self.horizon_s,
            horizon_s=self.horizon_s,
            confidence=self.confidence,
        )

    def _lines(
        self, window: TrendWindow, ids: Ids, fill: Ids, now: Millis
    ) -> npt.NDArray[np.float64]:
        """Per ready tag (columns), rows: central slope, interval low and high, level on the
        central line, level on the bound's line, the bound (the end nearer 0, or 0)."""
        ts = np.take(window.ts, ids, axis=0)
        values = np.take(window.value, ids, axis=0)
        pairs = window.width * (window.width - 1) // 2
        # Single precision sorts twice as fast; a slope's relative error stays below 1e-7.
        slopes = np.empty((len(ids), pairs), dtype=np.float32)
        # Pairs (i < j) grouped by their later slot j: a window filled to k slots has its
        # pairs in the first k(k − 1)/2 columns. Slots beyond a tag's fill hold zeros or old
        # readings: their pairs are masked below.
        with np.errstate(invalid="ignore", divide="ignore"):
            for j in range(1, window.width):
                at = j * (j - 1) // 2
                dt = (ts[:, j, None] - ts[:, :j]) / 1000.0
                slopes[:, at : at + j] = (values[:, j, None] - values[:, :j]) / dt
        slopes[np.arange(pairs) >= (fill * (fill - 1) // 2)[:, None]] = np.inf
        slopes.sort(axis=1)
        lo, hi, mid_lo, mid_hi = _ranks(fill, self.confidence)
        order = np.stack([lo, hi, mid_lo, mid_hi], axis=1)
        picked = np.take_along_axis(slopes, order, axis=1).astype(np.float64)
        central = 0.5 * (picked[:, 2] + picked[:, 3])
        # The bound is the end of the interval nearer 0: the slowest plausible approach.
        low, high = picked[:, 0], picked[:, 1]
        nearer = np.where(low > 0, low, np.where(high < 0, high, 0.0))
        tau = (ts - now) / 1000.0
        residual = values[None] - np.stack([central, nearer])[:, :, None] * tau[None]
        residual[:, np.arange(window.width) >= fill[:, None]] = np.inf
        residual.sort(axis=2)
        row = np.arange(len(ids))
        level = 0.5 * (residual[:, row, (fill - 1) // 2] + residual[:, row, fill // 2])
        return np.stack([central, low, high, level[0], level[1], nearer])


def _ahead(
    line: npt.NDArray[np.float64], window: TrendWindow, ids: Ids, limits: Vector
) -> tuple[Columns, Vector, Vector, Vector]:
    """The limit ahead of each ready tag, its value, and the seconds to it on the central
    line and on the bound's line."""
    central, low, high, level, level_bound, nearer = line
    direction = np.where(low > 0, 1.0, np.where(high < 0, -1.0, 0.0))
    last = window.value[ids, (window.count[ids] - 1) % window.width]
    table = np.full((len(ids), len(LIMIT_KINDS)), np.nan)
    inside = ids < len(limits)
    table[inside] = np.take(limits, ids[inside], axis=0)
    # Signed as in the limit detector: each limit side reads "x >= limit" in alarm.
    signed = table * _SIGN
    ahead = (direction[:, None] == _SIGN) & np.isfinite(signed) & (signed > (last[:, None] * _SIGN))
    candidate = np.where(ahead, signed, np.inf)
    col = np.argmin(candidate, axis=1)
    found = ahead.any(axis=1)
    value = np.where(found, table[np.arange(len(ids)), col], np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        seconds = np.where(found, np.maximum((value - level) / central, 0.0), np.nan)
        bound = np.where(found, np.maximum((value - level_bound) / nearer, 0.0), np.nan)
    column = np.where(found, col, NO_LIMIT).astype(np.int8)
    return column, value, seconds, bound


def _ranks(fill: npt.ArrayLike, confidence: float) -> tuple[Ids, Ids, Ids, Ids]:
    """0-based ranks, among a window's sorted pairwise slopes, of the interval's lower and
    upper bounds (Sen 1968, rounded outwards) and of the two middle slopes; a lower rank
    below 0 means the window is too short to bound the slope at this confidence."""
    k = np.asarray(fill, dtype=np.int64)
    pairs = k * (k - 1) // 2
    z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
    c = z * np.sqrt(k * (k - 1) * (2 * k + 5) / 18.0)
    lower = np.floor((pairs - c) / 2.0).astype(np.int64) - 1
    upper = np.minimum(np.ceil((pairs + c) / 2.0).astype(np.int64), pairs - 1)
    return lower, upper, (pairs - 1) // 2, pairs // 2
