"""Trying a connector from its configuration: connect, read a few values, say what happened.

This is ``hazwatch connector test CONFIG``: an engineer commissioning a PLC or a broker
wants to see, before the platform relies on it, that the settings connect and that the
mapped points read sensible values. Every tag key resolves here (no plant is needed), so
the output shows exactly what the connector would deliver.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

from hazwatch.connectors.base import Health
from hazwatch.connectors.config_file import ConnectorEntry
from hazwatch.connectors.conformance import RecordingLink
from hazwatch.connectors.registry import build_connector
from hazwatch.domain.batch import Quality
from hazwatch.domain.clock import iso


@dataclass(slots=True, kw_only=True)
class ProbeResult:
    readings: int = 0
    refused: int = 0
    health: Health = Health.CONNECTING
    detail: str = ""
    devices: dict[str, Health] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.readings > 0


async def probe(
    entry: ConnectorEntry, *, count: int, timeout_s: float, say: Callable[[str], None]
) -> ProbeResult:
    """Run one connector until ``count`` readings arrived or ``timeout_s`` passed."""
    link = RecordingLink(open_world=True)
    result = ProbeResult()
    connector = build_connector(entry.config, link.link())
    say(f"{entry.kind} connector {entry.name!r}: connecting")

    async def read() -> None:
        async for batch in connector:
            for tag_id, ts, value, quality in zip(
                batch.tag.tolist(),
                batch.ts.tolist(),
                batch.value.tolist(),
                batch.quality.tolist(),
                strict=True,
            ):
                grade = Quality(quality).name.lower()
                say(f"  {link.key_of(tag_id)}  {iso(ts)}  {value:.6g}  {grade}")
                result.readings += 1
                if result.readings >= count:
                    return

    async with connector:
        reading = asyncio.create_task(read())
        try:
            await asyncio.wait_for(asyncio.shield(reading), timeout_s)
        except TimeoutError:
            pass
        finally:
            reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reading
        result.health, result.detail = connector.health.state, connector.health.detail
    for key, health, detail in link.devices:
        result.devices[key] = health
        say(f"  device {key}: {health}{f' ({detail})' if detail else ''}")
    for letter in link.refused:
        say(f"  refused ({letter.reason}): {letter.detail}")
    result.refused = len(link.refused)
    state = f"{result.health}" + (f" ({result.detail})" if result.detail else "")
    say(f"{result.readings} readings, {result.refused} refused; connector {state}")
    return result
