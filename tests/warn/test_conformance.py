"""Every detector keeps the contract of ``hazwatch.warn.detector``.

Monitors come from the benchmark method tables (TEP, SKAB), stream detectors from NAB's, so
a method added there is checked here without being listed twice.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from hazwatch.datasets import nab, skab, tep
from hazwatch.warn.detector import Matrix, Phase, ProcessMonitor, Scores, StreamDetector

MONITORS: dict[str, Callable[[], ProcessMonitor]] = {
    f"{bench}:{name}": factory
    for bench, table in (("tep", tep.METHODS), ("skab", skab.METHODS))
    for name, factory in table.items()
}


def _consistent(scores: Scores, n: int) -> None:
    assert len(scores) == n
    assert scores.score.dtype == np.float64 and scores.flagged.dtype == np.bool_
    ready = scores.ready
    assert np.isnan(scores.score[~ready]).all(), "warm-up must not look normal"
    assert not scores.flagged[~ready].any(), "warm-up never flags"
    assert not np.isnan(scores.score[ready]).any()
    expected = ready & (scores.score > scores.threshold)
    assert (scores.flagged == expected).all(), "flagged is ready & (score > threshold)"
    if scores.contributions is not None:
        c = scores.contributions[ready & (scores.score > 0)]
        assert (c >= -1e-12).all()
        assert np.allclose(c.sum(axis=1), 1.0)


@pytest.mark.parametrize("name", sorted(MONITORS))
def test_monitor_keeps_the_contract(name: str, correlated: Callable[..., Matrix]) -> None:
    rng = np.random.default_rng(42)
    normal = correlated(rng, 1500, variables=12)  # TEP's PCA keeps 9 components
    fresh = correlated(rng, 600, variables=12)
    monitor = MONITORS[name]()
    assert isinstance(monitor.name, str) and monitor.name
    monitor.fit(normal)

    scores = monitor.score(fresh)
    _consistent(scores, len(fresh))
    assert scores.ready[len(fresh) // 2 :].all(), "ready after warm-up"
    assert scores.flagged.mean() < 0.2, "fresh normal data mostly pass"

    # A stream scored in two batches gets the verdict of one batch.
    monitor.reset()
    first = monitor.score(fresh[:250])
    second = monitor.score(fresh[250:])
    np.testing.assert_array_equal(np.concatenate([first.flagged, second.flagged]), scores.flagged)

    # A gross fault on one sensor is flagged once the detector can judge.
    monitor.reset()
    faulty = fresh.copy()
    faulty[300:, 2] += 12 * normal[:, 2].std()
    judged = monitor.score(faulty)
    _consistent(judged, len(faulty))
    assert judged.flagged[350:].mean() > 0.9


@pytest.mark.parametrize("name", sorted(nab.METHODS))
def test_stream_detector_keeps_the_contract(name: str) -> None:
    rng = np.random.default_rng(7)
    detector: StreamDetector = nab.METHODS[name]()
    assert detector.phase is Phase.WARMING_UP
    ts = 1_700_000_000_000 + np.arange(3000, dtype=np.int64) * 60_000
    values = 20 + np.sin(np.arange(3000) / 50) + 0.1 * rng.normal(size=3000)
    values[2500:] += 15
    parts = [detector.score(ts[a:b], values[a:b]) for a, b in ((0, 1000), (1000, 3000))]
    for part, n in zip(parts, (1000, 2000), strict=True):
        _consistent(part, n)
    assert detector.phase is Phase.READY
    assert not parts[0].ready[0], "the first sample is warm-up"
    later = parts[1]
    assert later.flagged[1500:1520].any(), "a level shift of 150 sigma is seen"
