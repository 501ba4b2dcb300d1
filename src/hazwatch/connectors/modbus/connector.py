"""The Modbus TCP connector: one connection, each device behind it polled on its own period.

A session connects (pymodbus's own reconnecting is off: the base class reconnects, with
backoff, so the health it shows is the truth), then runs one task per device. Each task
polls its device every ``period_s`` on a fixed grid (a missed tick is skipped, not
bunched), making the reads the plan lists and emitting one batch per poll, stamped with
the poll's start (``link.now()``). Devices do not wait for each other's schedules; on the
wire their requests share the one connection, one at a time.

A read answered with a Modbus exception, not answered, or answered short makes that
read's points bad for this poll and counts against the device (see ``watch``); an
exception from a gateway that cannot reach the device, or no answer at all, ends the
poll's remaining reads. A short answer is also refused as a dead letter. The connector
is degraded while some devices fail, offline while every device is offline, online when
all answer. Losing the connection ends the session with ``ConnectError``; every device
is then reported offline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.pdu import ModbusPDU

from hazwatch.connectors.base import Backoff, ConnectError, ConnectorBase, Health, Link
from hazwatch.connectors.modbus.config import ModbusConfig
from hazwatch.connectors.modbus.decode import readings
from hazwatch.connectors.modbus.plan import DevicePlan, Read, plan
from hazwatch.connectors.modbus.watch import DeviceWatch, Failure
from hazwatch.domain.batch import Batch, TagIds, Values
from hazwatch.domain.reject import DeadLetter, RejectReason

EXCEPTIONS: dict[int, str] = {
    1: "illegal function",
    2: "illegal data address",
    3: "illegal data value",
    4: "server device failure",
    5: "acknowledge",
    6: "server device busy",
    8: "memory parity error",
    10: "gateway path unavailable",
    11: "gateway target device failed to respond",
}
UNREACHABLE = frozenset({10, 11})
"""Exception codes saying the device itself cannot be reached: its other reads would fail too."""


@dataclass(slots=True)
class _Device:
    """A device during one session: its plan, tag ids and health."""

    plan: DevicePlan
    watch: DeviceWatch
    last: Values
    ids: TagIds
    known: npt.NDArray[np.bool_]


class ModbusConnector(ConnectorBase):
    """Reads the devices of a ``ModbusConfig`` (see the module docstring)."""

    def __init__(self, config: ModbusConfig, link: Link, *, backoff: Backoff | None = None) -> None:
        super().__init__(config.name, link, backoff=backoff)
        self.config = config
        self.plans = plan(config)
        self._devices = [
            _Device(
                plan=p,
                watch=DeviceWatch(offline_after=config.offline_after),
                last=np.full(len(p.tags), np.nan),
                ids=np.zeros(len(p.tags), dtype=np.int32),
                known=np.zeros(len(p.tags), dtype=np.bool_),
            )
            for p in self.plans
        ]

    async def session(self) -> None:
        config = self.config
        lost = asyncio.Event()
        client = AsyncModbusTcpClient(
            config.host,
            port=config.port,
            name=config.name,
            timeout=config.timeout_s,
            retries=0,  # a poll that fails is retried by the next poll
            reconnect_delay=0,  # no reconnecting behind our back: the base class does it
            trace_connect=lambda up: None if up else lost.set(),
        )
        where = f"{config.host}:{config.port}"
        tasks: list[asyncio.Task[object]] = []
        try:
            if not await client.connect():
                raise ConnectError(f"cannot connect to {where}", code="modbus.connect")
            try:
                await self._serve(client, lost, tasks)
            except Exception as exc:
                self._lost(str(exc))
                raise
            raise ConnectError(f"connection to {where} lost", code="modbus.connection_lost")
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.gather(*tasks, return_exceptions=True)
            client.close()

    async def _serve(
        self, client: AsyncModbusTcpClient, lost: asyncio.Event, tasks: list[asyncio.Task[object]]
    ) -> None:
        """Poll every device until the connection is lost (return) or a poll fails (raise)."""
        self._resolve()
        self.online(f"connected to {self.config.host}:{self.config.port}")
        tasks.extend(
            asyncio.create_task(self._poll_forever(client, lost, device), name=device.plan.device)
            for device in self._devices
        )
        waiter: asyncio.Task[object] = asyncio.create_task(lost.wait())
        tasks.append(waiter)
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and (failure := task.exception()) is not None:
                raise failure
        self._lost("connection lost")

    def _resolve(self) -> None:
        """Look up the tag ids once per connection; refuse the tags the runner does not know."""
        for device in self._devices:
            for i, key in enumerate(device.plan.tags):
                tag_id = self.link.resolve(key)
                device.known[i] = tag_id is not None
                device.ids[i] = -1 if tag_id is None else tag_id
                if tag_id is None:
                    self.link.refuse(
                        DeadLetter(
                            received=self.link.now(),
                            source=self.name,
                            reason=RejectReason.UNKNOWN_TAG,
                            detail=f"unit {device.plan.unit_id} maps an unknown tag; not read",
                            tag_key=key,
                        )
                    )

    async def _poll_forever(
        self, client: AsyncModbusTcpClient, lost: asyncio.Event, device: _Device
    ) -> None:
        loop = asyncio.get_running_loop()
        period = device.plan.period_s
        due = loop.time()
        while True:
            await self._poll(client, lost, device)
            due += period
            now = loop.time()
            if due < now:  # overran: skip the missed ticks, stay on the grid
                due += math.ceil((now - due) / period) * period
            await asyncio.sleep(due - now)

    async def _poll(
        self, client: AsyncModbusTcpClient, lost: asyncio.Event, device: _Device
    ) -> None:
        p = device.plan
        ts = self.link.now()
        words = np.zeros(p.size, dtype=np.uint16)
        answered = np.zeros(len(p.reads), dtype=np.bool_)
        failures: list[Failure] = []
        for r, read in enumerate(p.reads):
            if lost.is_set():
                raise ConnectError("connection lost", code="modbus.connection_lost")
            outcome = await self._read(client, p.unit_id, read)
            if isinstance(outcome, Failure):
                failures.append(outcome)
                if outcome.code == "modbus.no_response" or _unreachable(outcome):
                    break
                continue
            words[read.base : read.base + read.count] = outcome
            answered[r] = True
        result = readings(p, words, answered, device.last)
        device.last = result.value
        self._judge(device, failures)
        known = device.known
        await self.emit(
            Batch.of(
                tag=device.ids[known],
                ts=np.full(int(known.sum()), ts, dtype=np.int64),
                value=result.value[known],
                quality=result.quality[known],
                received=self.link.now(),
            )
        )

    async def _read(
        self, client: AsyncModbusTcpClient, unit: int, read: Read
    ) -> Sequence[int] | Sequence[bool] | Failure:
        where = f"unit {unit} {read.describe()}"
        call = {
            "holding": client.read_holding_registers,
            "input": client.read_input_registers,
            "coil": client.read_coils,
            "discrete": client.read_discrete_inputs,
        }[read.table]
        try:
            response: ModbusPDU = await call(read.address, count=read.count, device_id=unit)
        except ModbusIOException as exc:
            return Failure(code="modbus.no_response", detail=f"{where}: {exc}")
        except ConnectionException as exc:
            raise ConnectError(str(exc), code="modbus.connection_lost") from exc
        if response.isError():
            code = int(getattr(response, "exception_code", 0))
            meaning = EXCEPTIONS.get(code, "unknown exception")
            return Failure(code=f"modbus.exception.{code}", detail=f"{where}: {meaning}")
        values = response.bits[: read.count] if read.bits else response.registers
        if len(values) != read.count:
            detail = f"{where}: answered {len(values)} values"
            self.link.refuse(
                DeadLetter(
                    received=self.link.now(),
                    source=self.name,
                    reason=RejectReason.MALFORMED,
                    detail=detail,
                    payload=repr(values[:64]),
                )
            )
            return Failure(code="modbus.malformed", detail=detail)
        return values

    def _judge(self, device: _Device, failures: list[Failure]) -> None:
        change = device.watch.observe(len(device.plan.reads), failures)
        if change is not None:
            self.link.device(device.plan.device, *change)
        self._aggregate()

    def _aggregate(self) -> None:
        """The connector's health from its devices' (see the module docstring)."""
        failing = [d for d in self._devices if d.watch.state in (Health.DEGRADED, Health.OFFLINE)]
        if not failing:
            self.health.set(Health.ONLINE, f"connected to {self.config.host}:{self.config.port}")
            return
        offline = all(d.watch.state is Health.OFFLINE for d in self._devices)
        names = "; ".join(f"{d.plan.device} {d.watch.state}: {d.watch.detail}" for d in failing)
        detail = f"{len(failing)} of {len(self._devices)} devices failing: {names}"
        self.health.set(Health.OFFLINE if offline else Health.DEGRADED, detail)

    def _lost(self, detail: str) -> None:
        for device in self._devices:
            change = device.watch.lost(detail)
            if change is not None:
                self.link.device(device.plan.device, *change)


def _unreachable(failure: Failure) -> bool:
    return any(failure.code == f"modbus.exception.{code}" for code in UNREACHABLE)
