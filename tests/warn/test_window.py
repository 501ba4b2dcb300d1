"""The ring buffers behind trends: batches, wrap-around, what is dropped, growth."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.warn.window import TrendWindow

T0 = 1_700_000_000_000


def _held(window: TrendWindow, tag: int) -> tuple[list[int], list[float]]:
    """The readings a tag's window holds, in time order."""
    k = int(window.fill([tag])[0])
    order = np.argsort(window.ts[tag, :k])
    return window.ts[tag, :k][order].tolist(), window.value[tag, :k][order].tolist()


def test_a_window_keeps_the_last_width_readings_across_wrap_around() -> None:
    ts = T0 + 1000 * np.arange(100)
    values = np.arange(100, dtype=np.float64)
    whole = TrendWindow(width=8)
    whole.push(np.zeros(100, dtype=np.int64), ts, values)
    pieces = TrendWindow(width=8)
    for a in range(0, 100, 7):
        pieces.push(np.zeros(len(ts[a : a + 7]), dtype=np.int64), ts[a : a + 7], values[a : a + 7])
    for window in (whole, pieces):
        assert window.fill([0]).tolist() == [8]
        assert window.count[0] == 100
        assert _held(window, 0) == (ts[-8:].tolist(), values[-8:].tolist())


def test_interleaved_tags_in_one_batch_equal_one_batch_per_tag() -> None:
    rng = np.random.default_rng(3)
    n = 600
    tags = rng.integers(0, 5, size=n)
    ts = T0 + np.cumsum(rng.integers(1, 2000, size=n))  # time order, tags interleaved
    values = rng.normal(size=n)
    together = TrendWindow(width=16)
    touched = together.push(tags, ts, values)
    assert touched.tolist() == sorted(set(tags.tolist()))
    for tag in range(5):
        alone = TrendWindow(width=16)
        mine = tags == tag
        alone.push(tags[mine], ts[mine], values[mine])
        assert _held(together, tag) == _held(alone, tag)
        assert together.count[tag] == mine.sum()


def test_unusable_readings_are_dropped() -> None:
    window = TrendWindow(width=8)
    window.push([1, 1, 1], [T0, T0 + 1000, T0 + 2000], [1.0, 2.0, 3.0])
    touched = window.push(
        [1, 1, 1, 1, 1],
        [T0 + 1000, T0 + 2000, T0 + 3000, T0 + 3000, T0 + 4000],  # replay, replay, new, repeat
        [9.0, 9.0, 4.0, 8.0, np.nan],  # the newest is not a number
    )
    assert touched.tolist() == [1]
    assert _held(window, 1) == ([T0, T0 + 1000, T0 + 2000, T0 + 3000], [1.0, 2.0, 3.0, 4.0])
    assert window.push([1], [T0], [5.0]).tolist() == []


def test_the_window_grows_to_any_tag_and_clear_forgets() -> None:
    window = TrendWindow(width=4)
    assert window.size == 0 and window.fill([0, 7]).tolist() == [0, 0]
    window.push([7], [T0], [1.0])
    assert window.size >= 8
    window.push([2, 1000], [T0, T0], [1.0, 2.0])
    assert window.size >= 1001
    assert window.fill([7, 2, 1000, 5, 10**6]).tolist() == [1, 1, 1, 0, 0]
    window.clear([7])
    assert window.fill([7]).tolist() == [0]
    window.push([7], [T0 - 5000], [3.0])  # after clearing, an older time is taken again
    assert _held(window, 7) == ([T0 - 5000], [3.0])


def test_mismatched_columns_are_refused() -> None:
    window = TrendWindow()
    with pytest.raises(ValueError, match="one tag id"):
        window.push([1, 2], [T0], [1.0, 2.0])
    with pytest.raises(ValueError, match="non-negative"):
        window.push([-1], [T0], [1.0])
    with pytest.raises(ValueError, match="at least 2"):
        TrendWindow(width=1)
