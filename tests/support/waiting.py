"""Waiting in tests for what another thread or process brings about: poll a condition until
it holds, or fail naming what did not happen. (On the test path through ``pythonpath``.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

Said = str | Callable[[], str]


def _failure(what: Said, timeout: float) -> AssertionError:
    return AssertionError(f"not within {timeout} s: {what() if callable(what) else what}")


async def until(
    condition: Callable[[], object], what: Said, timeout: float = 20.0, every: float = 0.02
) -> None:
    """Poll ``condition`` on the event loop until it holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise _failure(what, timeout)
        await asyncio.sleep(every)


def eventually(
    check: Callable[[], Any],
    what: Said = "condition reached",
    timeout: float = 15.0,
    every: float = 0.02,
) -> Any:
    """Poll ``check`` (blocking) until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise _failure(what, timeout)
        time.sleep(every)
    return result
