"""Feeding the engine from the built-in park simulator, on the platform clock."""

from __future__ import annotations

import asyncio
import logging

from hazwatch.connectors.simulator.simulator import ParkSimulator
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import Millis
from hazwatch.runtime.clock import Clock
from hazwatch.runtime.engine import Engine, EngineBusyError

log = logging.getLogger(__name__)

SOURCE = "simulator"


async def run_simulator(
    sim: ParkSimulator, engine: Engine, clock: Clock, step_s: float, *, after: Millis = -1
) -> None:
    """Step the simulator every ``step_s`` wall seconds and submit its readings stamped
    after ``after`` (a simulation resumed after a restart replays its past unsent).

    When the engine is busy the readings wait and go with the next step: the simulator
    never drops what it produced.
    """
    waiting: list[Batch] = []
    while True:
        produced = sim.step(clock.now())
        if len(produced) and int(produced.ts.min()) <= after:
            produced = produced.select(produced.ts > after)
        waiting.append(produced)
        batch = Batch.concat(waiting)
        if len(batch):
            try:
                engine.submit(batch, source=SOURCE)
                waiting.clear()
            except EngineBusyError:
                log.warning("engine busy: %d simulated readings wait for the next step", len(batch))
                waiting = [batch]
        else:
            waiting.clear()
        await asyncio.sleep(step_s)
