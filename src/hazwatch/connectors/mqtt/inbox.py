"""The hand-over of received messages from the MQTT network thread to the event loop.

The network thread ``put``s each message (topic, payload, packet id) under a lock; that is
all it does per message. The event loop ``wait``s for messages and ``drain``s them all at
once. Wake-ups are coalesced: the network thread calls into the event loop only when a
waiter is registered and the threshold it asked for is reached, so while the loop is busy
(or gathering for a fixed time) messages just pile up, without one cross-thread call each.

The inbox is bounded: a network thread that finds it full wakes the loop and blocks until
it is drained, which stops reading from the socket (TCP backpressure on the broker).
A lost connection is recorded with ``fail`` and wakes the loop too.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading

from hazwatch.connectors.base import ConnectorError


class Inbox:
    """Messages received and not yet drained (see module docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, *, capacity: int) -> None:
        self._loop = loop
        self._capacity = max(1, capacity)
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)
        self._topics: list[str] = []
        self._payloads: list[bytes | bytearray] = []
        self._ids: list[int] = []
        self._waiter: asyncio.Future[None] | None = None
        self._threshold = 1
        self._closed = False
        self.error: ConnectorError | None = None
        self.received = 0
        """Messages put so far (the network thread's own count)."""

    def __len__(self) -> int:
        return len(self._ids)

    # The network thread.

    def put(self, topic: str, payload: bytes | bytearray, packet_id: int) -> None:
        """Keep one message (``packet_id`` 0: nothing to acknowledge); blocks while full."""
        with self._lock:
            while len(self._ids) >= self._capacity and not self._closed:
                self._wake()
                self._room.wait(0.5)
            if self._closed:
                return
            self._topics.append(topic)
            self._payloads.append(payload)
            self._ids.append(packet_id)
            self.received += 1
            if self._waiter is not None and len(self._ids) >= self._threshold:
                self._wake()

    def fail(self, error: ConnectorError) -> None:
        """The connection is lost; wake the loop (the first error is kept)."""
        with self._lock:
            if self.error is None:
                self.error = error
            self._wake()

    def _wake(self) -> None:  # lock held
        waiter, self._waiter = self._waiter, None
        if waiter is not None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                self._loop.call_soon_threadsafe(_settle, waiter)

    # The event loop.

    async def wait(self, threshold: int = 1, timeout: float | None = None) -> None:
        """Return once ``threshold`` messages wait, the connection failed, or ``timeout``
        seconds passed."""
        with self._lock:
            if self.error is not None or len(self._ids) >= threshold:
                return
            waiter: asyncio.Future[None] = self._loop.create_future()
            self._waiter = waiter
            self._threshold = max(1, threshold)
        try:
            if timeout is None:
                await waiter
            else:
                await asyncio.wait((waiter,), timeout=timeout)
        finally:
            with self._lock:
                if self._waiter is waiter:
                    self._waiter = None
            waiter.cancel()

    def drain(self) -> tuple[list[str], list[bytes | bytearray], list[int]]:
        """Everything received so far, oldest first; the inbox is empty afterwards."""
        with self._lock:
            taken = self._topics, self._payloads, self._ids
            self._topics, self._payloads, self._ids = [], [], []
            self._room.notify_all()
        return taken

    def close(self) -> None:
        """Accept nothing more and release a blocked network thread."""
        with self._lock:
            self._closed = True
            self._room.notify_all()


def _settle(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
