"""One-minute rollups on both backends: across minutes, late data, reopening, a crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import DAY_MS, MINUTE_MS
from hazwatch.storage.readings.store import ReadingStore, open_reading_store

T0 = 1_790_000_000_000 // DAY_MS * DAY_MS
TAGS = (3, 4, 9)


def plant(seed: int, minutes: int = 6) -> Batch:
    """Each tag reports every ~7 s for ``minutes`` minutes, with bad and NaN readings."""
    rng = np.random.default_rng(seed)
    parts = []
    for tag in TAGS:
        ts = np.arange(T0, T0 + minutes * MINUTE_MS, 7000) + rng.integers(0, 7000)
        value = rng.normal(tag * 10, 5, len(ts))
        quality = np.where(rng.random(len(ts)) < 0.1, Quality.BAD, Quality.GOOD)
        value[rng.random(len(ts)) < 0.05] = np.nan
        parts.append(
            Batch.of(tag=np.full(len(ts), tag), ts=ts, value=value, quality=quality, received=0)
        )
    merged = Batch.concat(parts)
    return merged.select(np.argsort(merged.ts, kind="stable"))


def expected(batch: Batch, tag: int) -> dict[int, tuple[float, float, float, float, int]]:
    """min, max, avg, last, count per minute, straight from the readings."""
    use = (batch.tag == tag) & (batch.quality != Quality.BAD) & ~np.isnan(batch.value)
    ts, value = batch.ts[use], batch.value[use]
    out = {}
    for bucket in np.unique(ts - ts % MINUTE_MS):
        inside = (ts >= bucket) & (ts < bucket + MINUTE_MS)
        v = value[inside]
        out[int(bucket)] = (v.min(), v.max(), v.mean(), v[np.argmax(ts[inside])], len(v))
    return out


def assert_rollups(store: ReadingStore, batch: Batch) -> None:
    for tag in TAGS:
        got = store.rollups(tag, T0 - DAY_MS, T0 + DAY_MS)
        want = expected(batch, tag)
        assert got.bucket.tolist() == sorted(want)
        rows = zip(got.min, got.max, got.avg, got.last, got.count, strict=True)
        for (lo, hi, avg, last, count), bucket in zip(rows, sorted(want), strict=True):
            w_lo, w_hi, w_avg, w_last, w_count = want[bucket]
            assert (lo, hi, last, int(count)) == (w_lo, w_hi, w_last, w_count)
            assert avg == pytest.approx(w_avg, rel=1e-12)


def write_in_batches(store: ReadingStore, batch: Batch, size: int) -> None:
    for first in range(0, len(batch), size):
        store.write(batch.select(np.arange(first, min(first + size, len(batch)))))


def test_rollups_follow_the_readings_across_minutes(store: ReadingStore) -> None:
    batch = plant(1)
    write_in_batches(store, batch, 13)
    assert_rollups(store, batch)  # the newest minute is still open, in memory
    store.flush()
    assert_rollups(store, batch)


def test_a_late_reading_merges_into_its_stored_minute(store: ReadingStore) -> None:
    batch = plant(2)
    late = (batch.tag == 4) & (batch.ts // MINUTE_MS == T0 // MINUTE_MS + 1)
    late_index = np.flatnonzero(late)[-2:]
    on_time = np.setdiff1d(np.arange(len(batch)), late_index)
    write_in_batches(store, batch.select(on_time), 17)
    store.flush()
    # Two minutes later the missing readings of minute 1 arrive, one a new extreme.
    value = batch.value.copy()
    value[late_index[0]] = 1e6
    value[late_index[1]] = -1e6
    batch = Batch.of(tag=batch.tag, ts=batch.ts, value=value, quality=batch.quality, received=0)
    assert not store.write(batch.select(late_index)).any()
    assert_rollups(store, batch)


def test_rollups_survive_closing_and_reopening(store: ReadingStore, engine: Engine) -> None:
    batch = plant(3)
    write_in_batches(store, batch.select(np.arange(len(batch) // 2)), 11)
    store.close()
    reopened = open_reading_store(engine)
    try:
        write_in_batches(reopened, batch.select(np.arange(len(batch) // 2, len(batch))), 11)
        assert_rollups(reopened, batch)
    finally:
        reopened.close()


CRASHING_WRITER = """
import os, sys
import numpy as np
from sqlalchemy import create_engine
from hazwatch.domain.batch import Batch
from hazwatch.storage.readings.store import open_reading_store

data = np.load(sys.argv[2])
store = open_reading_store(create_engine(sys.argv[1]))
for first in range(0, len(data["tag"]), 9):
    part = slice(first, first + 9)
    store.write(Batch.of(tag=data["tag"][part], ts=data["ts"][part], value=data["value"][part],
                         quality=data["quality"][part], received=0))
os._exit(0)  # no flush, no close: the open minutes are lost with the process
"""


def test_a_crash_loses_no_rollup(database_url: str, engine: Engine, tmp_path: Path) -> None:
    batch = plant(4)
    head = batch.select(np.arange(len(batch) * 2 // 3))
    data = tmp_path / "readings.npz"
    np.savez(data, tag=head.tag, ts=head.ts, value=head.value, quality=head.quality)
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, database_url, str(data)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    store = open_reading_store(engine)
    try:
        assert_rollups(store, head)
        write_in_batches(store, batch.select(np.arange(len(head), len(batch))), 9)
        assert_rollups(store, batch)
        store.flush()
        assert_rollups(store, batch)
    finally:
        store.close()
