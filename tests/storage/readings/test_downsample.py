"""Downsampling for charts keeps every bucket's extremes and never exceeds the point budget."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.storage.readings.downsample import downsample


def series(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ts = 1_700_000_000_000 + np.cumsum(rng.integers(1, 5000, n))
    value = np.cumsum(rng.normal(0, 1, n))
    spikes = rng.choice(n, min(n, 5), replace=False)
    value[spikes] += rng.choice([-1, 1], len(spikes)) * 1000  # short peaks a chart must show
    return ts, value


@pytest.mark.parametrize(("n", "points"), [(10_000, 100), (5_001, 7), (999, 998), (3, 2)])
def test_at_most_the_budget_in_time_order_with_every_bucket_extreme(n: int, points: int) -> None:
    ts, value = series(n, n)
    out_ts, out_value = downsample(ts, value, points)
    assert 0 < len(out_ts) <= points
    assert np.all(np.diff(out_ts) > 0)
    kept = dict(zip(out_ts.tolist(), out_value.tolist(), strict=True))
    assert all(kept[t] == value[ts == t][0] for t in out_ts.tolist())  # real readings only
    assert out_value.max() == value.max()
    assert out_value.min() == value.min()
    # Each time bucket (one per two points) keeps its own lowest and highest reading.
    buckets = points // 2
    width = -(-(int(ts[-1]) - int(ts[0]) + 1) // buckets)
    bucket, out_bucket = (ts - ts[0]) // width, (out_ts - ts[0]) // width
    for b in np.unique(bucket):
        kept_here = out_value[out_bucket == b]
        assert kept_here.max() == value[bucket == b].max()
        assert kept_here.min() == value[bucket == b].min()


def test_a_series_that_fits_comes_back_whole() -> None:
    ts, value = series(1, 50)
    out_ts, out_value = downsample(ts, value, 50)
    assert out_ts.tolist() == ts.tolist()
    assert out_value.tolist() == value.tolist()


def test_nan_is_never_an_extreme_but_an_all_nan_bucket_stays_a_gap() -> None:
    ts = np.arange(0, 1000, dtype=np.int64)
    value = np.sin(ts / 50.0)
    value[::3] = np.nan
    value[500:600] = np.nan
    out_ts, out_value = downsample(ts, value, 20)
    assert len(out_ts) <= 20
    inside_gap = (out_ts >= 500) & (out_ts < 600)
    assert np.isnan(out_value[inside_gap]).all() and inside_gap.any()
    assert not np.isnan(out_value[~inside_gap]).any()
    assert np.nanmax(out_value) == np.nanmax(value)


def test_fewer_than_two_points_is_refused() -> None:
    ts, value = series(2, 10)
    with pytest.raises(ValueError, match="at least 2"):
        downsample(ts, value, 1)
