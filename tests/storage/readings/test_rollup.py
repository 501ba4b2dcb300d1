"""Open minutes: whatever order readings come in, the rows written merge into the truth."""

from __future__ import annotations

import numpy as np

from hazwatch.domain.clock import MINUTE_MS
from hazwatch.storage.readings.rollup import MinuteAccumulator, MinuteRows, combine

T0 = 1_790_000_000_000 // MINUTE_MS * MINUTE_MS


def readings(seed: int, n: int = 4000) -> MinuteRows:
    rng = np.random.default_rng(seed)
    keys = rng.choice(50 * 3600, n, replace=False)
    tag = (keys % 50).astype(np.int32)
    ts = T0 + keys // 50 * 1000 + rng.integers(0, 1000, n)
    return MinuteRows.of_readings(tag, ts, rng.normal(0, 10, n))


def as_dict(rows: MinuteRows) -> dict[tuple[int, int], tuple[float, float, float, int, float, int]]:
    return {
        (int(t), int(b)): (lo, hi, round(s, 6), int(c), last, int(lts))
        for t, b, lo, hi, s, c, last, lts in zip(
            rows.tag,
            rows.bucket,
            rows.min,
            rows.max,
            rows.sum,
            rows.count,
            rows.last,
            rows.last_ts,
            strict=True,
        )
    }


def test_combine_aggregates_each_tag_and_minute() -> None:
    rows = readings(1)
    merged = combine(rows)
    assert len(set(zip(merged.tag.tolist(), merged.bucket.tolist(), strict=True))) == len(merged)
    for t, b, lo, hi, c, last in zip(
        merged.tag, merged.bucket, merged.min, merged.max, merged.count, merged.last, strict=True
    ):
        inside = (rows.tag == t) & (rows.bucket == b)
        assert (lo, hi, c) == (rows.min[inside].min(), rows.max[inside].max(), inside.sum())
        assert last == rows.last[inside][np.argmax(rows.last_ts[inside])]


def test_rows_written_in_any_order_merge_into_the_direct_aggregate() -> None:
    rows = readings(2)
    truth = as_dict(combine(rows))
    # Mostly in time order, with a tenth of the readings arriving minutes late.
    rng = np.random.default_rng(3)
    arrival = rows.last_ts + np.where(rng.random(len(rows)) < 0.1, 5 * MINUTE_MS, 0)
    order = np.argsort(arrival, kind="stable")
    accumulator = MinuteAccumulator()
    written = []
    for part in np.array_split(order, 40):
        chunk = rows.select(part)
        written.append(accumulator.absorb(combine(chunk)))
        newest = int(chunk.bucket.max())
        written.append(accumulator.close_before(newest - MINUTE_MS))
        if len(written) == 30:
            written.append(accumulator.drain())  # a flush in the middle
    written.append(accumulator.drain())
    assert as_dict(combine(MinuteRows.concat(written))) == truth


def test_absorb_hands_out_distinct_keys_and_never_an_open_minute() -> None:
    rows = readings(4)
    accumulator = MinuteAccumulator()
    for part in np.array_split(np.random.default_rng(5).permutation(len(rows)), 10):
        out = accumulator.absorb(combine(rows.select(part)))
        keys = list(zip(out.tag.tolist(), out.bucket.tolist(), strict=True))
        assert len(keys) == len(set(keys))
        for tag, bucket in keys:
            open_part = accumulator.open_part(tag)
            assert not len(open_part) or int(open_part.bucket[0]) != bucket
