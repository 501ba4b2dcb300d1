from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from hazwatch.domain.batch import Batch
from hazwatch.runtime.clock import ManualClock
from hazwatch.runtime.engine import Engine, EngineBusyError
from hazwatch.runtime.metrics import Metrics


class FakePipeline:
    """Records what the engine asks of it; can be made to block or fail."""

    def __init__(self) -> None:
        self.processed: list[int] = []
        self.ticks: list[int] = []
        self.flushed = False
        self.gate = threading.Event()
        self.gate.set()

    def process(self, batch: Batch, **kwargs: Any) -> int:
        self.gate.wait(10)
        if len(batch) == 13:
            raise ValueError("unlucky batch")
        self.processed.append(len(batch))
        return len(batch)

    def tick(self, now: int) -> list[object]:
        self.ticks.append(now)
        return []

    def purge(self, now: int) -> None:
        pass

    def flush(self) -> None:
        self.flushed = True


def _batch(n: int) -> Batch:
    return Batch.of(tag=[1] * n, ts=list(range(n)), value=[0.0] * n, received=0)


def test_batches_are_processed_in_order_and_a_failure_does_not_stop_the_worker() -> None:
    pipeline = FakePipeline()
    engine = Engine(pipeline, ManualClock(1000), Metrics(), queue_size=8, tick_s=0.01)  # type: ignore[arg-type]
    engine.start()
    try:
        first = engine.submit(_batch(3), source="t")
        bad = engine.submit(_batch(13), source="t")
        last = engine.submit(_batch(5), source="t")
        assert first.result(5) == 3
        with pytest.raises(ValueError, match="unlucky"):
            bad.result(5)
        assert last.result(5) == 5
        assert engine.call(lambda p: len(p.processed)).result(5) == 2
        assert engine.running
        time.sleep(0.1)  # several tick periods
    finally:
        engine.stop()
    assert pipeline.processed == [3, 5]
    assert pipeline.flushed
    assert pipeline.ticks and set(pipeline.ticks) == {1000}


def test_a_full_queue_refuses_new_batches() -> None:
    pipeline = FakePipeline()
    pipeline.gate.clear()
    engine = Engine(pipeline, ManualClock(0), Metrics(), queue_size=2, tick_s=60)  # type: ignore[arg-type]
    engine.start()
    try:
        accepted = [engine.submit(_batch(1), source="t") for _ in range(2)]
        with pytest.raises(EngineBusyError):
            for _ in range(5):
                accepted.append(engine.submit(_batch(1), source="t"))
        pipeline.gate.set()
        assert all(f.result(5) == 1 for f in accepted)
    finally:
        pipeline.gate.set()
        engine.stop()
