"""The connector conformance suite against a live Modbus TCP server.

Two units, four register types in three byte/word orders; ``produce`` writes new values
into the server's tables. ``produce_malformed`` makes the server answer the next register
read one register short, which the connector must refuse as a dead letter (Modbus has no
payload to mangle otherwise; a short answer is what a faulty gateway sends).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence

import pytest

from hazwatch.connectors.base import Backoff, Connector, Link
from hazwatch.connectors.conformance import CHECKS, Harness
from hazwatch.connectors.modbus import ModbusConfig, ModbusConnector
from hazwatch.connectors.modbus.config import Order, PointType, Table
from hazwatch.connectors.modbus.server import ModbusServer

# tag suffix, unit, table, address, type, byte order, word order, scale
POINTS: list[tuple[str, int, Table, int, PointType, Order, Order, float]] = [
    ("level", 1, "holding", 0, "float32", "big", "big", 1.0),
    ("temp", 1, "holding", 2, "int16", "big", "big", 0.1),
    ("flow", 1, "input", 10, "uint32", "big", "little", 1.0),
    ("press", 2, "holding", 4, "int32", "little", "little", 0.01),
]


def key(unit: int, name: str) -> str:
    return f"lpg.main.sphere-farm.plc-{unit}.{name}"


class ModbusHarness:
    def __init__(self, server: ModbusServer) -> None:
        self.server = server
        self.keys: Sequence[str] = [key(p[1], p[0]) for p in POINTS]
        self.rounds = 0
        self.config = ModbusConfig.model_validate(
            {
                "kind": "modbus",
                "name": "conformance",
                "host": server.host,
                "port": server.port,
                "timeout_s": 1.0,
                "offline_after": 1,
                "devices": [
                    {
                        "unit_id": unit,
                        "device": f"lpg.main.sphere-farm.plc-{unit}",
                        "period_s": 0.05,
                        "points": [
                            {
                                "tag": key(unit, name),
                                "table": table,
                                "address": address,
                                "type": type_,
                                "byte_order": byte_order,
                                "word_order": word_order,
                                "scale": scale,
                            }
                            for name, u, table, address, type_, byte_order, word_order, scale in (
                                POINTS
                            )
                            if u == unit
                        ],
                    }
                    for unit in (1, 2)
                ],
            }
        )

    async def start_source(self) -> None:
        await self.server.start()

    async def stop_source(self) -> None:
        await self.server.stop()

    def connector(self, link: Link) -> Connector:
        return ModbusConnector(self.config, link, backoff=Backoff(initial=0.05, cap=0.2))

    async def produce(self) -> Mapping[str, float]:
        self.rounds += 1
        n = self.rounds
        raw = {
            "level": 10.5 + 1.25 * n,
            "temp": -100 - n,
            "flow": 70_000 + 1000 * n,
            "press": -5 - n,
        }
        produced: dict[str, float] = {}
        for name, unit, table, address, type_, byte_order, word_order, scale in POINTS:
            value = raw[name]
            await self.server.write_value(
                unit, table, address, value, type_, byte_order=byte_order, word_order=word_order
            )
            produced[key(unit, name)] = value * scale
        return produced

    async def produce_malformed(self) -> bool:
        self.server.truncate_next = True
        return True


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
async def test_conformance(
    check: Callable[[Harness], Awaitable[None]], server: ModbusServer
) -> None:
    await check(ModbusHarness(server))
