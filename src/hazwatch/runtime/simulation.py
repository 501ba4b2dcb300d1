"""Feeding the engine from the built-in park simulator, on the platform clock."""

from __future__ import annotations

import asyncio
import logging

from hazwatch.connectors.simulator.simulator import ParkSimulator
from hazwatch.domain.batch import Batch
from hazwatch.runtime.clock import Clock
from hazwatch.runtime.engine import Engine, EngineBusyError

log = logging.getLogger(__name__)

SOURCE = "simulator"


async def run_simulator(sim: ParkSimulator, engine: Engine, clock: Clock, step_s: float) -> None:
    """Step the simulator every ``step_s`` wall seconds and submit its readings.

    When the engine is busy the readings wait and go with the next step: the simulator
    never drops what it produced.
    """
    waiting: list[Batch] = []
    while True:
        waiting.append(sim.step(clock.now()))
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
