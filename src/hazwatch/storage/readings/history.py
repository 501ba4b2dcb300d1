"""A tag's history for a chart: raw readings or one-minute rollups, at most N points.

``choose_resolution`` reads raw readings when the range holds fewer minutes than the chart
has points (rollups could not fill it), and rollups otherwise (they already hold more
points than the chart shows, at a sixtieth of the rows of a 1 Hz tag). Either way the
result keeps the extremes: raw readings through ``downsample`` (min and max per bucket),
rollups by merging neighbouring minutes into wider ones whose ``min`` and ``max`` cover them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hazwatch.domain.batch import NO_STAMP
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.storage.readings.arrays import RollupArrays
from hazwatch.storage.readings.downsample import picks
from hazwatch.storage.readings.store import ReadingStore

Resolution = Literal["raw", "rollup"]
HistoryMode = Literal["auto", "raw", "rollup"]

RAW_LIMIT = 200_000
"""Most raw readings read for one chart; an automatic choice falls back to rollups above."""


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryPoint:
    """One point: a reading (``value``, and ``server_ts`` where an OPC UA server stamped
    it), or a span of minutes (``value`` = average, with ``min``, ``max`` and the ``count``
    of readings). ``value`` is None where none was recorded."""

    ts: Millis
    value: float | None
    min: float | None = None
    max: float | None = None
    count: int | None = None
    server_ts: Millis | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class History:
    mode: Resolution
    points: list[HistoryPoint]


def choose_resolution(start: Millis, end: Millis, points: int) -> Resolution:
    """``"rollup"`` when ``[start, end)`` spans at least ``points`` minutes, else ``"raw"``."""
    return "rollup" if end - start >= points * MINUTE_MS else "raw"


def history(
    store: ReadingStore,
    tag_id: int,
    start: Millis,
    end: Millis,
    *,
    points: int,
    mode: HistoryMode = "auto",
    raw_limit: int = RAW_LIMIT,
) -> History:
    """At most ``points`` (≥ 2) points of ``tag_id`` in ``[start, end)``, ascending.

    ``mode="auto"`` follows ``choose_resolution`` and also takes rollups when the raw
    readings are more than ``raw_limit`` or gone (retention). ``"raw"`` reads at most
    ``raw_limit`` readings (the earliest ones).
    """
    if points < 2:
        raise ValueError("points must be at least 2")
    resolution = choose_resolution(start, end, points) if mode == "auto" else mode
    if resolution == "rollup":
        return _from_rollups(store.rollups(tag_id, start, end), start, points)
    raw = store.raw(tag_id, start, end, raw_limit + 1 if mode == "auto" else raw_limit)
    if mode == "auto" and (len(raw) > raw_limit or len(raw) == 0):
        rolled = store.rollups(tag_id, start, end)
        if len(rolled) or len(raw):
            return _from_rollups(rolled, start, points)
    keep = picks(raw.ts, raw.value, points)
    return History(
        mode="raw",
        points=[
            HistoryPoint(
                ts=t, value=None if math.isnan(v) else v, server_ts=s if s != NO_STAMP else None
            )
            for t, v, s in zip(
                raw.ts[keep].tolist(),
                raw.value[keep].tolist(),
                raw.server_ts[keep].tolist(),
                strict=True,
            )
        ],
    )


def _from_rollups(rows: RollupArrays, start: Millis, points: int) -> History:
    if len(rows) > points:
        rows = _widen(rows, start, points)
    return History(
        mode="rollup",
        points=[
            HistoryPoint(ts=t, value=avg, min=lo, max=hi, count=n)
            for t, avg, lo, hi, n in zip(
                rows.bucket.tolist(),
                rows.avg.tolist(),
                rows.min.tolist(),
                rows.max.tolist(),
                rows.count.tolist(),
                strict=True,
            )
        ],
    )


def _widen(rows: RollupArrays, start: Millis, points: int) -> RollupArrays:
    """Merge neighbouring minutes into at most ``points`` spans of whole minutes each."""
    origin = min(int(rows.bucket[0]), start - start % MINUTE_MS)
    span = int(rows.bucket[-1]) + MINUTE_MS - origin
    minutes = -(-span // MINUTE_MS)
    width = -(-minutes // points) * MINUTE_MS
    group = (rows.bucket - origin) // width
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    ends = np.concatenate((starts[1:], [len(rows)])) - 1
    total = np.add.reduceat(rows.avg * rows.count, starts)
    count = np.add.reduceat(rows.count, starts)
    return RollupArrays(
        bucket=origin + group[starts] * width,
        min=np.minimum.reduceat(rows.min, starts),
        max=np.maximum.reduceat(rows.max, starts),
        avg=total / count,
        last=rows.last[ends],
        count=count,
    )
