"""Clocks of the runtime. Pure logic never reads a clock; the runtime passes ``now`` in.

``ScaledClock`` runs plant time ``speed`` times faster than the wall clock from an origin,
so a simulation can play an hour of plant life in a minute.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from hazwatch.domain.clock import Millis


class Clock(Protocol):
    def now(self) -> Millis: ...


def wall_now() -> Millis:
    return time.time_ns() // 1_000_000


class WallClock:
    def now(self) -> Millis:
        return wall_now()


@dataclass(slots=True)
class ScaledClock:
    speed: float
    origin: Millis = field(default_factory=wall_now)
    _started: float = field(default_factory=time.monotonic)

    def now(self) -> Millis:
        return self.origin + int((time.monotonic() - self._started) * 1000 * self.speed)


@dataclass(frozen=True, slots=True)
class AnchoredClock:
    """Plant time ``speed`` times faster than the wall clock since ``epoch`` (wall ms, when
    both clocks read the same): ``epoch + speed × (wall − epoch)``. A function of the wall
    clock alone, so a process restarted with the same epoch continues the same plant time.
    """

    speed: float
    epoch: Millis

    def now(self) -> Millis:
        return self.epoch + int((wall_now() - self.epoch) * self.speed)


@dataclass(slots=True)
class ManualClock:
    """A clock that moves only when told (tests, replays)."""

    current: Millis

    def now(self) -> Millis:
        return self.current

    def advance(self, ms: Millis) -> None:
        self.current += ms
