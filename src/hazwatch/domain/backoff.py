"""Capped exponential backoff with jitter: how long to wait before try ``n + 1``.

Shared by connectors reconnecting and notification channels retrying: the wait is uniform
in ``[c/2, c]`` with ``c = min(cap, initial·factorⁿ)`` seconds, so many clients that failed
together do not come back in lockstep.
"""

from __future__ import annotations

import random


def jittered_delay(
    attempt: int, *, initial: float, cap: float, factor: float, rng: random.Random
) -> float:
    """Seconds to wait after failed try number ``attempt`` (0-based)."""
    ceiling = min(cap, initial * factor**attempt)
    return rng.uniform(ceiling / 2, ceiling)
