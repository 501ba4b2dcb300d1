"""The engine: one worker thread that owns the pipeline, fed by a bounded queue.

All pipeline state (conditions, alarms, latest values) is touched by that one thread only,
so no locks are needed inside the stages. Sources submit batches; the API submits operator
commands as calls; both get a ``Future``. A full queue refuses new batches (``EngineBusyError``)
instead of growing without bound: explicit backpressure, so an overload slows the senders
rather than the alarms.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, TypeVar

from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import HOUR_MS, Millis
from hazwatch.runtime.clock import Clock
from hazwatch.runtime.metrics import Metrics
from hazwatch.runtime.pipeline import IngestReport, Pipeline

log = logging.getLogger(__name__)

T = TypeVar("T")


class EngineBusyError(Exception):
    """The pipeline queue is full; the sender should retry later."""


@dataclass(frozen=True, slots=True)
class _Submit:
    batch: Batch
    source: str
    scope_path: str
    enqueued: float
    future: Future[IngestReport]


@dataclass(frozen=True, slots=True)
class _Call:
    fn: Callable[[Pipeline], Any]
    future: Future[Any]


_STOP = object()


class Engine:
    def __init__(
        self,
        pipeline: Pipeline,
        clock: Clock,
        metrics: Metrics,
        *,
        queue_size: int = 64,
        tick_s: float = 1.0,
        purge_every_ms: Millis = HOUR_MS,
    ) -> None:
        self.pipeline = pipeline
        self.clock = clock
        self._metrics = metrics
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_size)
        self._tick_s = tick_s
        self._purge_every_ms = purge_every_ms
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hazwatch-engine", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        """Finish queued work, flush the store and stop the worker."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def submit(self, batch: Batch, *, source: str, scope_path: str = "/") -> Future[IngestReport]:
        future: Future[IngestReport] = Future()
        try:
            self._queue.put_nowait(_Submit(batch, source, scope_path, time.perf_counter(), future))
        except queue.Full:
            raise EngineBusyError("ingest queue full, retry later") from None
        self._metrics.queue_depth.set(self._queue.qsize())
        return future

    def call(self, fn: Callable[[Pipeline], T], *, timeout: float | None = 30) -> Future[T]:
        """Run ``fn(pipeline)`` on the worker thread (waits for room in the queue)."""
        future: Future[T] = Future()
        try:
            self._queue.put(_Call(fn, future), timeout=timeout)
        except queue.Full:
            raise EngineBusyError("engine queue full, retry later") from None
        return future

    def _run(self) -> None:
        next_tick = time.monotonic() + self._tick_s
        next_purge = 0.0
        while True:
            try:
                item = self._queue.get(timeout=max(0.0, next_tick - time.monotonic()))
            except queue.Empty:
                item = None
            if item is _STOP:
                self._guard(self.pipeline.flush)
                return
            if isinstance(item, _Submit):
                self._metrics.queue_depth.set(self._queue.qsize())
                self._settle(item.future, self._process, item)
            elif isinstance(item, _Call):
                self._settle(item.future, item.fn, self.pipeline)
            if time.monotonic() >= next_tick:
                next_tick = time.monotonic() + self._tick_s
                now = self.clock.now()
                self._guard(self.pipeline.tick, now)
                if time.monotonic() >= next_purge:
                    next_purge = time.monotonic() + self._purge_every_ms / 1000
                    self._guard(self.pipeline.purge, now)

    def _process(self, item: _Submit) -> IngestReport:
        return self.pipeline.process(
            item.batch,
            source=item.source,
            now=self.clock.now(),
            scope_path=item.scope_path,
            enqueued=item.enqueued,
        )

    @staticmethod
    def _settle(future: Future[Any], work: Callable[..., Any], arg: Any) -> None:
        if not future.set_running_or_notify_cancel():
            return  # the caller gave up waiting before the work began
        try:
            future.set_result(work(arg))
        except Exception as exc:  # the worker must outlive any one bad batch or command
            log.exception("engine work failed")
            future.set_exception(exc)

    @staticmethod
    def _guard(work: Callable[..., object], *args: object) -> None:
        try:
            work(*args)
        except Exception:
            log.exception("engine housekeeping failed")
