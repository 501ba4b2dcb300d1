"""The hand-over from the network thread: coalesced wake-ups, a bound, failures."""

from __future__ import annotations

import asyncio
import threading
import time
from unittest import mock

from hazwatch.connectors.base import ConnectError
from hazwatch.connectors.mqtt.inbox import Inbox


async def test_many_messages_wake_the_loop_once() -> None:
    loop = asyncio.get_running_loop()
    inbox = Inbox(loop, capacity=10_000)
    waiting = asyncio.create_task(inbox.wait())
    await asyncio.sleep(0)
    with mock.patch.object(loop, "call_soon_threadsafe", wraps=loop.call_soon_threadsafe) as wake:

        def produce() -> None:
            for i in range(1000):
                inbox.put("t", b"%d" % i, i)

        thread = threading.Thread(target=produce)
        thread.start()
        thread.join()
        await asyncio.wait_for(waiting, 5)
    assert wake.call_count == 1
    _, payloads, ids = inbox.drain()
    assert ids == list(range(1000))
    assert payloads[999] == b"999"
    assert len(inbox) == 0


async def test_waiting_for_a_threshold_returns_at_the_timeout_with_less() -> None:
    inbox = Inbox(asyncio.get_running_loop(), capacity=100)
    inbox.put("t", b"x", 0)
    started = time.monotonic()
    await inbox.wait(10, timeout=0.05)
    assert 0.04 <= time.monotonic() - started < 2
    assert len(inbox) == 1


async def test_a_full_inbox_holds_the_network_thread_until_drained() -> None:
    inbox = Inbox(asyncio.get_running_loop(), capacity=2)
    done = threading.Event()

    def produce() -> None:
        for i in range(5):
            inbox.put("t", b"x", i)
        done.set()

    thread = threading.Thread(target=produce)
    thread.start()
    taken: list[int] = []
    while not done.is_set() or len(inbox):
        await inbox.wait(timeout=0.05)
        assert len(inbox) <= 2
        taken += inbox.drain()[2]
    thread.join()
    assert taken == [0, 1, 2, 3, 4]


async def test_a_failure_wakes_the_waiter() -> None:
    inbox = Inbox(asyncio.get_running_loop(), capacity=10)
    waiting = asyncio.create_task(inbox.wait())
    await asyncio.sleep(0)
    error = ConnectError("lost", code="mqtt.139")
    threading.Thread(target=inbox.fail, args=(error,)).start()
    await asyncio.wait_for(waiting, 5)
    assert inbox.error is error


async def test_a_closed_inbox_releases_a_blocked_thread_and_takes_nothing() -> None:
    inbox = Inbox(asyncio.get_running_loop(), capacity=1)
    inbox.put("t", b"x", 1)
    thread = threading.Thread(target=inbox.put, args=("t", b"y", 2))
    thread.start()
    inbox.close()
    await asyncio.to_thread(thread.join, 5)
    assert not thread.is_alive()
    assert inbox.drain()[2] == [1]
