from __future__ import annotations

import numpy as np

from hazwatch.domain.batch import Batch
from hazwatch.runtime.pipeline import LatestValues


def test_the_newest_reading_of_each_tag_wins_whatever_the_order() -> None:
    latest = LatestValues(4)
    latest.update(
        Batch.of(tag=[1, 1, 2, 1], ts=[30, 10, 5, 20], value=[3.0, 1.0, 7.0, 2.0], received=0)
    )
    latest.update(Batch.of(tag=[1, 2], ts=[25, 6], value=[9.0, 8.0], quality=[0, 2], received=0))
    ts, value, quality = latest.of(np.array([0, 1, 2], dtype=np.int32))
    assert ts.tolist() == [-1, 30, 6]
    assert value[1:].tolist() == [3.0, 8.0]
    assert np.isnan(value[0])
    assert quality.tolist() == [0, 0, 2]


def test_growing_keeps_what_is_known() -> None:
    latest = LatestValues(2)
    latest.update(Batch.of(tag=[1], ts=[5], value=[1.5], received=0))
    latest.resize(5)
    ts, value, _ = latest.of(np.array([1, 4], dtype=np.int32))
    assert ts.tolist() == [5, -1]
    assert value[0] == 1.5
