"""Fewer points for a chart, without hiding a peak.

A safety chart must show every excursion: averaging or picking every n-th point can hide
the one reading that crossed a limit. ``downsample`` splits the time range into equal
buckets (one per pair of output points, like the pixel columns of a chart) and keeps, in
each, the reading with the lowest and the one with the highest value (min/max decimation,
cf. the M4 algorithm, Jugel et al., VLDB 2014). The extremes of every bucket, and so of the
whole series, survive.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hazwatch.domain.batch import Stamps, Values


def downsample(ts: Stamps, value: Values, points: int) -> tuple[Stamps, Values]:
    """At most ``points`` (≥ 2) readings of the series ``ts`` (ascending, epoch ms), ``value``
    (see ``picks``)."""
    keep = picks(ts, value, points)
    return ts[keep], value[keep]


def picks(ts: Stamps, value: Values, points: int) -> npt.NDArray[np.intp]:
    """Indices, ascending, of at most ``points`` (≥ 2) readings of the series ``ts``
    (ascending, epoch ms), ``value``.

    A series that fits is kept whole. Otherwise each of ``points // 2`` equal time
    buckets keeps its minimum and maximum reading (the first of equal ones), in time order;
    NaN values are never chosen as an extreme, but a bucket of only NaN keeps one, so the gap
    stays visible.
    """
    if points < 2:
        raise ValueError("points must be at least 2")
    if len(ts) != len(value):
        raise ValueError("ts and value differ in length")
    n = len(ts)
    if n <= points:
        return np.arange(n)
    buckets = points // 2
    span = int(ts[-1]) - int(ts[0]) + 1
    width = -(-span // buckets)
    bucket = (ts - ts[0]) // width
    missing = np.isnan(value)
    low_order = np.lexsort((np.where(missing, np.inf, value), bucket))
    high_order = np.lexsort((np.where(missing, np.inf, -value), bucket))
    starts = np.flatnonzero(np.concatenate(([True], bucket[1:] != bucket[:-1])))
    keep: npt.NDArray[np.intp] = np.union1d(low_order[starts], high_order[starts])
    return keep
