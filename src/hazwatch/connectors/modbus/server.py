"""A Modbus TCP server on a loopback port whose tables a test or a demo writes.

``ModbusServer`` serves a few unit ids, each with all four tables (``size`` addresses
each), on pymodbus's server. Its tables outlive the server: ``stop()`` then ``start()``
serves the same values on the same port again, as a PLC would after a restart. Any other
unit id is answered with exception 11 (gateway target device failed to respond), as a
gateway answers for a device it cannot reach.

For tests it records every read request it receives (``requests``), and can answer a
unit's reads with an exception (``exceptions``), slowly (``delays``, best kept below the
client's timeout: pymodbus's server answers a late request with the transaction id of the
newest one), not at all (``silent``: those requests are dropped when the server stops), or
send the next register answer one register short (``truncate_next``).
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from pymodbus.constants import ExcCodes
from pymodbus.pdu import ModbusPDU
from pymodbus.pdu.register_message import (
    ReadHoldingRegistersResponse,
    ReadInputRegistersResponse,
)
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from hazwatch.connectors.modbus.config import Order, PointType, Table

FUNCTION: dict[Table, int] = {"coil": 1, "discrete": 2, "holding": 3, "input": 4}
TABLE_OF: dict[int, Table] = {code: table for table, code in FUNCTION.items()}
BIT_TABLES: tuple[Table, ...] = ("coil", "discrete")
WORD_TABLES: tuple[Table, ...] = ("holding", "input")
STRUCT: dict[PointType, str] = {
    "int16": "h",
    "uint16": "H",
    "int32": "i",
    "uint32": "I",
    "float32": "f",
}


@dataclass(frozen=True, slots=True)
class Request:
    """A read the server answered (or refused): unit, table, first address, count."""

    unit: int
    table: Table
    address: int
    count: int


def registers(
    value: float, type: PointType, *, byte_order: Order = "big", word_order: Order = "big"
) -> list[int]:
    """The registers a device stores ``value`` in (``bool`` is not a register type)."""
    raw = struct.pack(f">{STRUCT[type]}", int(value) if type != "float32" else value)
    words = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if word_order == "little":
        words.reverse()
    if byte_order == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ModbusServer:
    """See the module docstring."""

    def __init__(
        self,
        units: Sequence[int] = (1,),
        *,
        size: int = 256,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.size = size
        self.bits: dict[tuple[int, Table], list[bool]] = {}
        self.words: dict[tuple[int, Table], list[int]] = {}
        for unit in units:
            for bit_table in BIT_TABLES:
                self.bits[unit, bit_table] = [False] * size
            for word_table in WORD_TABLES:
                self.words[unit, word_table] = [0] * size
        self.units = tuple(units)
        self.requests: list[Request] = []
        self.exceptions: dict[int, ExcCodes] = {}
        self.delays: dict[int, float] = {}
        self.silent: set[int] = set()
        self._hush = asyncio.Event()
        self._unanswered: set[asyncio.Task[object]] = set()
        self.truncate_next = False
        self._server: ModbusTcpServer | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        self._hush = asyncio.Event()
        devices = [self._device(unit) for unit in self.units]
        devices.append(
            SimDevice(
                id=0,
                simdata=SimData(0, count=self.size, datatype=DataType.REGISTERS),
                action=self._unreachable,
            )
        )
        server = ModbusTcpServer(devices, address=(self.host, self.port), trace_pdu=self._trace)
        await server.serve_forever(background=True)
        self._server = server

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            await server.shutdown()  # type: ignore[no-untyped-call]
            self._hush.set()
            await asyncio.gather(*self._unanswered)
            self._unanswered.clear()

    async def write(
        self, unit: int, table: Table, address: int, values: Sequence[int] | Sequence[bool]
    ) -> None:
        """Set ``values`` from ``address`` (kept across restarts)."""
        if table in BIT_TABLES:
            self.bits[unit, table][address : address + len(values)] = [bool(v) for v in values]
        else:
            self.words[unit, table][address : address + len(values)] = [int(v) for v in values]
        if self._server is not None:
            code = {"coil": 5, "discrete": 2, "holding": 16, "input": 4}[table]
            await self._server.async_setValues(unit, code, address, list(values))

    async def write_value(
        self,
        unit: int,
        table: Table,
        address: int,
        value: float,
        type: PointType,
        *,
        byte_order: Order = "big",
        word_order: Order = "big",
    ) -> None:
        """Store ``value`` encoded as a device of that byte and word order would."""
        if type == "bool":
            await self.write(unit, table, address, [bool(value)])
            return
        regs = registers(value, type, byte_order=byte_order, word_order=word_order)
        await self.write(unit, table, address, regs)

    def _device(self, unit: int) -> SimDevice:
        def bits(table: Table) -> list[SimData]:
            return [SimData(0, values=list(self.bits[unit, table]), datatype=DataType.BITS)]

        def words(table: Table) -> list[SimData]:
            return [SimData(0, values=list(self.words[unit, table]), datatype=DataType.REGISTERS)]

        return SimDevice(
            id=unit,
            simdata=(bits("coil"), bits("discrete"), words("holding"), words("input")),
            action=partial(self._served, unit),
        )

    async def _served(
        self,
        unit: int,
        function: int,
        _start: int,
        address: int,
        count: int,
        _registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if set_values is not None or function not in TABLE_OF:
            return None  # our own writes, not a client's read
        if delay := self.delays.get(unit):
            await asyncio.sleep(delay)
        if unit in self.silent:
            task = asyncio.current_task()
            assert task is not None
            self._unanswered.add(task)
            await self._hush.wait()
            return ExcCodes.DEVICE_FAILURE  # sent to a closed connection: never arrives
        return self.exceptions.get(unit)

    async def _unreachable(
        self,
        function: int,
        _start: int,
        address: int,
        count: int,
        _registers: list[int],
        _set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        return ExcCodes.GATEWAY_NO_RESPONSE

    def _trace(self, sending: bool, pdu: ModbusPDU) -> ModbusPDU:
        if not sending and pdu.function_code in TABLE_OF:
            self.requests.append(
                Request(pdu.dev_id, TABLE_OF[pdu.function_code], pdu.address, pdu.count)
            )
        short = isinstance(pdu, ReadHoldingRegistersResponse | ReadInputRegistersResponse)
        if sending and self.truncate_next and short and pdu.registers:
            self.truncate_next = False
            pdu.registers = pdu.registers[:-1]
        return pdu
