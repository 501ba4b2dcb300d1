"""Chart history: raw or rollups by range, at most the requested points, peaks kept."""

from __future__ import annotations

import numpy as np

from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS
from hazwatch.storage.readings.history import choose_resolution, history
from hazwatch.storage.readings.store import ReadingStore

T0 = 1_790_000_000_000 // DAY_MS * DAY_MS


def test_short_ranges_read_raw_and_long_ranges_read_rollups() -> None:
    assert choose_resolution(T0, T0 + HOUR_MS, 600) == "raw"
    assert choose_resolution(T0, T0 + 600 * MINUTE_MS, 600) == "rollup"
    assert choose_resolution(T0, T0 + 599 * MINUTE_MS, 600) == "raw"


def one_tag(store: ReadingStore, hours: int) -> Batch:
    """Tag 5 at 1 Hz with a one-second spike to 500 and a dip to -500."""
    ts = np.arange(T0, T0 + hours * HOUR_MS, 1000)
    value = 50 + 10 * np.sin(ts / 600_000.0)
    value[len(ts) // 3] = 500.0
    value[2 * len(ts) // 3] = -500.0
    batch = Batch.of(tag=np.full(len(ts), 5), ts=ts, value=value, received=T0)
    for part in np.array_split(np.arange(len(batch)), max(1, len(batch) // 20_000)):
        store.write(batch.select(part))
    return batch


def test_raw_history_keeps_the_spike_within_the_points(store: ReadingStore) -> None:
    batch = one_tag(store, 1)
    series = history(store, 5, T0, T0 + HOUR_MS, points=100)
    assert series.mode == "raw"
    assert 0 < len(series.points) <= 100
    values = [p.value for p in series.points if p.value is not None]
    assert max(values) == 500.0 and min(values) == -500.0
    assert [p.ts for p in series.points] == sorted(p.ts for p in series.points)
    assert set(p.ts for p in series.points) <= set(batch.ts.tolist())


def test_rollup_history_keeps_the_spike_in_min_and_max(store: ReadingStore) -> None:
    batch = one_tag(store, 12)
    series = history(store, 5, T0, T0 + 12 * HOUR_MS, points=100)
    assert series.mode == "rollup"
    assert 0 < len(series.points) <= 100
    assert max(p.max for p in series.points if p.max is not None) == 500.0
    assert min(p.min for p in series.points if p.min is not None) == -500.0
    assert sum(p.count or 0 for p in series.points) == len(batch)
    total = sum((p.value or 0.0) * (p.count or 0) for p in series.points)
    assert abs(total / len(batch) - batch.value.mean()) < 1e-9


def test_auto_falls_back_to_rollups_where_raw_readings_are_gone(store: ReadingStore) -> None:
    one_tag(store, 1)
    store.flush()
    store.purge_raw(T0 + HOUR_MS)
    series = history(store, 5, T0, T0 + HOUR_MS, points=600)
    assert series.mode == "rollup"
    assert len(series.points) == 60
    assert max(p.max for p in series.points if p.max is not None) == 500.0
    assert history(store, 5, T0, T0 + HOUR_MS, points=600, mode="raw").points == []
