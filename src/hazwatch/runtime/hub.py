"""Live fan-out of alarm and warning transitions and value updates to stream subscribers.

The engine's worker thread publishes; subscribers are asyncio queues on the server's event
loop, each limited to the subtrees its user may see. Values are not pushed per reading: the
hub samples the latest-value columns once per interval and sends the tags that changed.
A subscriber that falls too far behind is dropped (its queue closes), and its client
reconnects and re-reads the alarm list, so nothing is silently skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hazwatch.domain.scope import Grant

QUEUE_LIMIT = 1000
MAX_VALUES_PER_EVENT = 2000


@dataclass(frozen=True, slots=True)
class Event:
    kind: str  # "alarm" | "warning" | "values" | "closed"
    data: dict[str, Any]


@dataclass(eq=False)
class Subscription:
    grant: Grant
    tag_filter: frozenset[int] | None
    queue: asyncio.Queue[Event] = field(default_factory=lambda: asyncio.Queue(QUEUE_LIMIT))
    visible: npt.NDArray[np.bool_] | None = None


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._subscribers: set[Subscription] = set()
        self._sent_ts: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)

    def subscribe(self, grant: Grant, tag_filter: frozenset[int] | None = None) -> Subscription:
        sub = Subscription(grant, tag_filter)
        self._subscribers.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    def publish_alarms(self, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Thread-safe: ``events`` are (scope path, alarm JSON) pairs."""
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody to tell
            self._loop.call_soon_threadsafe(self._fan_alarms, list(events))

    def publish_warnings(self, events: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Thread-safe: ``events`` are (scope path, warning JSON) pairs.

        Warnings concern installations and detectors, not single tags: a subscriber's tag
        filter does not apply to them, only its grant.
        """
        with contextlib.suppress(RuntimeError):  # the loop is closing: nobody to tell
            self._loop.call_soon_threadsafe(self._fan_warnings, list(events))

    def _fan_warnings(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for sub in list(self._subscribers):
            for path, data in events:
                if sub.grant.allows(path):
                    self._put(sub, Event("warning", data))

    def _fan_alarms(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for sub in list(self._subscribers):
            for path, data in events:
                if sub.grant.allows(path) and (
                    sub.tag_filter is None or data.get("tag_id") in sub.tag_filter
                ):
                    self._put(sub, Event("alarm", data))

    def sample_values(
        self,
        ts: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
        quality: npt.NDArray[np.uint8],
        scope_paths: Callable[[int], str],
        stamp: str,
    ) -> None:
        """Send each subscriber the tags whose newest reading changed since the last sample.

        Call on the event loop with a snapshot of the latest-value columns.
        """
        if len(self._sent_ts) != len(ts):
            old = self._sent_ts
            self._sent_ts = np.full(len(ts), -1, dtype=np.int64)
            self._sent_ts[: min(len(old), len(ts))] = old[: len(ts)]
        changed = np.flatnonzero(ts > self._sent_ts)
        self._sent_ts = ts.copy()
        if not len(changed) or not self._subscribers:
            return
        for sub in list(self._subscribers):
            if sub.visible is None or len(sub.visible) != len(ts):
                sub.visible = np.array(
                    [sub.grant.allows(scope_paths(i)) for i in range(len(ts))], dtype=np.bool_
                )
            mine = changed[sub.visible[changed]]
            if sub.tag_filter is not None:
                mine = mine[np.isin(mine, np.fromiter(sub.tag_filter, dtype=np.int64))]
            if not len(mine):
                continue
            mine = mine[:MAX_VALUES_PER_EVENT]
            values = {
                str(i): [t, (None if math.isnan(v) else v), q]
                for i, t, v, q in zip(
                    mine.tolist(),
                    ts[mine].tolist(),
                    value[mine].tolist(),
                    quality[mine].tolist(),
                    strict=True,
                )
            }
            self._put(sub, Event("values", {"ts": stamp, "values": values}))

    def _put(self, sub: Subscription, event: Event) -> None:
        try:
            sub.queue.put_nowait(event)
        except asyncio.QueueFull:
            self._subscribers.discard(sub)
            with contextlib.suppress(asyncio.QueueEmpty):
                sub.queue.get_nowait()
            sub.queue.put_nowait(Event("closed", {"reason": "subscriber too slow"}))
