"""The highest reading of a tag over a period, on both backends: only readings inside
``[start, end)`` and of usable quality count, the earliest of equal readings is the one,
and where the raw readings are gone the rollups still give the value and its minute."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS
from hazwatch.storage.readings.peak import Peak, highest_reading
from hazwatch.storage.readings.store import ReadingStore

T0 = 1_790_000_000_000 // DAY_MS * DAY_MS  # a UTC midnight
M = MINUTE_MS
TAG = 7
GOOD, BAD = Quality.GOOD.value, Quality.BAD.value

# (ts, value, quality), in time order; the period of most tests is [START, END), which
# starts and ends inside a minute
START = T0 + M + 30_000
END = T0 + 4 * M + 20_000
READINGS = [
    (T0 + 10_000, 95.0, GOOD),  # a minute before the period
    (T0 + M + 20_000, 99.0, GOOD),  # the period's first minute, before its start
    (T0 + M + 40_000, 61.0, GOOD),
    (T0 + 2 * M + 5_000, 70.0, GOOD),
    (T0 + 2 * M + 50_000, 72.5, GOOD),  # the highest inside
    (T0 + 3 * M + 15_000, 99.5, BAD),  # bad quality: no trustworthy value
    (T0 + 3 * M + 30_000, math.nan, GOOD),  # nothing recorded
    (T0 + 3 * M + 45_000, 72.5, GOOD),  # as high, but later
    (T0 + 4 * M + 10_000, 68.0, GOOD),
    (T0 + 4 * M + 20_000, 100.0, GOOD),  # at the end: outside [start, end)
    (T0 + 5 * M, 100.0, GOOD),
]


@pytest.fixture
def written(store: ReadingStore) -> ReadingStore:
    ts, value, quality = zip(*READINGS, strict=True)
    batch = Batch.of(tag=[TAG] * len(ts), ts=ts, value=value, quality=quality, received=T0 + 6 * M)
    assert not store.write(batch).any()
    return store


def test_the_highest_reading_inside_the_period_and_the_earliest_of_equals(
    written: ReadingStore,
) -> None:
    assert highest_reading(written, TAG, START, END) == Peak(
        value=72.5, at=T0 + 2 * M + 50_000, exact=True
    )


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # the end is exclusive: one millisecond more takes in the 100 read at the end
        (START, END + 1, Peak(value=100.0, at=END, exact=True)),
        # a start inside a minute, on a reading: the 99 read there counts
        (T0 + M + 20_000, END, Peak(value=99.0, at=T0 + M + 20_000, exact=True)),
        # a period inside one minute, ending on the 72.5
        (T0 + 2 * M + 1_000, T0 + 2 * M + 50_000,
         Peak(value=70.0, at=T0 + 2 * M + 5_000, exact=True)),
        # whole minutes only, from the rollups: minute 3 holds 72.5 (the 99.5 is bad)
        (T0 + 3 * M, T0 + 4 * M, Peak(value=72.5, at=T0 + 3 * M + 45_000, exact=True)),
    ],
)  # fmt: skip
def test_the_edges_of_the_period(
    written: ReadingStore, start: int, end: int, expected: Peak
) -> None:
    assert highest_reading(written, TAG, start, end) == expected


def test_no_reading_that_counts_gives_none(written: ReadingStore) -> None:
    assert highest_reading(written, TAG + 1, START, END) is None
    # only the bad 99.5 and the empty reading lie in here
    assert highest_reading(written, TAG, T0 + 3 * M + 10_000, T0 + 3 * M + 40_000) is None
    assert highest_reading(written, TAG, END, START) is None
    assert highest_reading(written, TAG, START, START) is None


def test_without_raw_readings_the_rollup_gives_the_value_and_its_minute(
    written: ReadingStore,
) -> None:
    written.flush()
    written.purge_raw(T0 + 3 * M)
    # minute 2's 72.5 is still the earliest highest, but only its rollup is left
    assert highest_reading(written, TAG, T0 + 2 * M, T0 + 4 * M) == Peak(
        value=72.5, at=T0 + 2 * M, exact=False
    )
    # minute 3 still has its raw readings
    assert highest_reading(written, TAG, T0 + 3 * M, T0 + 4 * M) == Peak(
        value=72.5, at=T0 + 3 * M + 45_000, exact=True
    )


def test_long_periods_agree_with_the_readings_themselves(store: ReadingStore) -> None:
    """Three hours of a 2-second level with bad and empty readings; for random periods
    the answer is the maximum over the written arrays, taken directly."""
    rng = np.random.default_rng(18218)
    ts = T0 + np.arange(0, 3 * HOUR_MS, 2_000) + rng.integers(0, 2_000, 5400)
    value = np.round(rng.uniform(0, 100, ts.size), 3)
    quality = rng.choice([GOOD, Quality.UNCERTAIN.value, BAD], ts.size, p=[0.8, 0.1, 0.1])
    value[rng.choice(ts.size, 50, replace=False)] = np.nan
    batch = Batch.of(tag=np.full(ts.size, TAG), ts=ts, value=value, quality=quality, received=T0)
    assert not store.write(batch).any()
    for _ in range(20):
        start, end = sorted(int(x) for x in rng.integers(T0, T0 + 3 * HOUR_MS, 2))
        usable = (ts >= start) & (ts < end) & (quality != BAD) & ~np.isnan(value)
        found = highest_reading(store, TAG, start, end)
        if not usable.any():
            assert found is None
            continue
        top = value[usable].max()
        first = int(ts[usable][np.flatnonzero(value[usable] == top)[0]])
        assert found == Peak(value=float(top), at=first, exact=True)
