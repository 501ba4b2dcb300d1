"""Time to limit, live: which tags start or stop warning as batches of readings arrive.

``TimeToLimitWatch`` feeds each tag's trend window (``window.TrendWindow``) with at most one
reading per ``period_ms`` of the tag's own time — a trend over an hour's horizon needs
readings spread over minutes, not the last few seconds of a 1 Hz tag, and sampling keeps
the cost per tag and period rather than per reading. It forecasts the tags whose window
moved (``forecast.TimeToLimit``), grades those that warn (``grading.grade``: time to the
limit, with the limit's priority as a floor), and reports the tags that stopped warning.

Only readings of good or uncertain quality with a finite value count: a bad reading has
no trustworthy value (as for rollups). Pure logic: time is the readings' own and ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import Millis
from hazwatch.domain.tagtable import TagTable
from hazwatch.domain.warning import Colour
from hazwatch.warn.forecast import TimeToLimit
from hazwatch.warn.grading import Grading, grade
from hazwatch.warn.window import TrendWindow

NAME = "ttl"
"""The detector's name in warning keys."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Warned:
    """A tag whose limit ``limit`` is forecast within the horizon, as of reading ``at``."""

    tag: int
    at: Millis
    colour: Colour
    limit: str
    crossing_at: Millis
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdicts:
    warned: tuple[Warned, ...] = ()
    subsided: tuple[tuple[int, Millis], ...] = ()
    """(tag, at): tags that warned before and do not any more, as of reading ``at``"""


class TimeToLimitWatch:
    """See the module docstring. ``width``: readings per trend window."""

    def __init__(
        self,
        *,
        forecaster: TimeToLimit | None = None,
        grading: Grading | None = None,
        period_ms: Millis = 30_000,
        width: int = 32,
    ) -> None:
        if period_ms <= 0:
            raise ValueError("the sampling period must be positive")
        self.forecaster = forecaster or TimeToLimit()
        self.grading = grading or Grading()
        self.period_ms = period_ms
        self.window = TrendWindow(width=width)
        self._next = np.zeros(0, dtype=np.int64)
        self._warning = np.zeros(0, dtype=np.bool_)

    def restore(self, tags: npt.ArrayLike) -> None:
        """Tags that have an open warning of this detector (after a restart)."""
        ids = np.asarray(tags, dtype=np.int64)
        if len(ids):
            self._reserve(int(ids.max()) + 1)
            self._warning[ids] = True

    def observe(self, batch: Batch, table: TagTable, now: Millis) -> Verdicts:
        """Sample ``batch`` (stored readings) into the windows and judge the tags that moved."""
        usable = (batch.quality != Quality.BAD) & np.isfinite(batch.value) & (batch.tag >= 0)
        if not usable.any():
            return Verdicts()
        tag, ts, value = batch.tag[usable], batch.ts[usable], batch.value[usable]
        order = np.lexsort((ts, tag))
        tag, ts, value = tag[order], ts[order], value[order]
        last = np.ones(len(tag), dtype=np.bool_)
        np.not_equal(tag[1:], tag[:-1], out=last[:-1])
        tag, ts, value = tag[last], ts[last], value[last]
        self._reserve(int(tag.max()) + 1)
        due = ts >= self._next[tag]
        if not due.any():
            return Verdicts()
        tag, ts, value = tag[due], ts[due], value[due]
        self._next[tag] = ts + self.period_ms
        moved = self.window.push(tag, ts, value)
        if not len(moved):
            return Verdicts()
        forecast = self.forecaster.forecast(self.window, moved, table.limit_value, now)
        at = dict(zip(tag.tolist(), ts.tolist(), strict=True))
        warned: list[Warned] = []
        now_warning = np.zeros(len(forecast), dtype=np.bool_)
        for i in np.flatnonzero(forecast.warn).tolist():
            tag_id = int(forecast.tag[i])
            kind = forecast.kind(i)
            if kind is None:
                continue
            verdict = grade(forecast.evidence(i, table.priority(tag_id, kind)), self.grading)
            if verdict is None:
                continue
            warned.append(
                Warned(
                    tag=tag_id,
                    at=at[tag_id],
                    colour=verdict.colour,
                    limit=str(kind),
                    crossing_at=int(forecast.crossing_at[i]),
                    reason=verdict.reason,
                )
            )
            now_warning[i] = True
        ended = forecast.ready & ~now_warning & self._warning[forecast.tag]
        subsided = tuple((int(t), at[int(t)]) for t in forecast.tag[ended].tolist())
        self._warning[forecast.tag[forecast.ready]] = now_warning[forecast.ready]
        return Verdicts(warned=tuple(warned), subsided=subsided)

    def _reserve(self, size: int) -> None:
        have = len(self._next)
        if size > have:
            grow = max(size, 2 * have, 1024) - have
            self._next = np.concatenate([self._next, np.zeros(grow, dtype=np.int64)])
            self._warning = np.concatenate([self._warning, np.zeros(grow, dtype=np.bool_)])
