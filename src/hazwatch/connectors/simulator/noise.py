"""Measurement noise that depends only on (seed, tag, timestamp).

Each reading's noise is a standard normal drawn from a counter-based generator (SplitMix64
finaliser, Box–Muller), so a reading gets the same noise however the simulated time was cut
into steps: a run at 10 steps per second and a run in one big step emit identical values.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TAG = np.uint64(0xD1B54A32D192ED03)
_SECOND = np.uint64(0x8CB92BA72F3D8DD7)


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    result: npt.NDArray[np.uint64] = z ^ (z >> np.uint64(31))
    return result


def _unit(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """Uniform in (0, 1]: the top 53 bits, shifted off zero so that log() is finite."""
    result: npt.NDArray[np.float64] = ((z >> np.uint64(11)).astype(np.float64) + 1.0) / 2.0**53
    return result


def standard_normal(
    seed: int, tag: npt.NDArray[np.int64], ts: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """One N(0, 1) value per (tag, ts) pair, a pure function of ``seed``, ``tag`` and ``ts``."""
    key = _mix(np.array([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64) * _GOLDEN)
    base = _mix(
        (ts.astype(np.int64).view(np.uint64) * _GOLDEN) ^ (tag.astype(np.uint64) * _TAG) ^ key
    )
    u1 = _unit(base)
    u2 = _unit(_mix(base ^ _SECOND))
    result: npt.NDArray[np.float64] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return result
