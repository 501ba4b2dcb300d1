"""The whole chain, for fault tests: a device server → the edge gateway → Mosquitto → the
platform → its database.

* ``modbus_device``: a loopback Modbus TCP server (unit 1) whose registers a writer task
  changes every few milliseconds; ``opcua_device``: the same with an OPC UA server.
  ``stop()`` and ``start()`` keep the port, as a PLC that restarts.
* ``gateway``: ``start(connector settings)`` runs ``hazwatch.gateway.Gateway`` with those
  connectors, built through the registry, each wrapped in ``Counted``, which records every
  batch the gateway gets from it: the readings *produced*. Its queue lives in the test's
  folder; it forwards over MQTT to the ``broker``.
* ``platform``: ``create_app`` with an ``mqtt`` connector subscribed to the same broker,
  run by a ``TestClient`` that can be stopped and started again; ``stored(keys)`` reads
  the readings *stored* for those tags from its ``ReadingStore``.

A reading is compared as ``(tag key, ts, value, quality)``, with NaN as None. Test modules
get all of it through the fixtures at the bottom, never by importing this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
import pytest_asyncio
import waiting
from asyncua import Server, ua
from fastapi import FastAPI
from fastapi.testclient import TestClient
from ports import free_port

from hazwatch.api.app import create_app
from hazwatch.connectors.base import Connector, Health, HealthState
from hazwatch.connectors.config_file import parse_connectors
from hazwatch.connectors.modbus.server import ModbusServer
from hazwatch.domain.batch import Batch
from hazwatch.domain.plant import PlantSpec
from hazwatch.gateway import Gateway, GatewayConfig, connectors_of
from hazwatch.runtime.platform import Platform
from hazwatch.settings import Settings
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository

ENTERPRISE = "chain"
PLC = "chain.site.unit.plc-1"
TANK = "chain.site.unit.tk-1"
MODBUS_KEYS = (f"{PLC}.count", f"{PLC}.level")
OPCUA_KEYS = (f"{TANK}.count", f"{TANK}.level")
NAMESPACE = "urn:hazwatch:chain"
DEADLINE_S = 15.0
WRITE_EVERY_S = 0.02
"""the devices' values change this often (a writer task, not the test's logic)"""

Reading = tuple[str, int, float | None, int]
"""(tag key, ts, value with NaN as None, quality)"""


async def until(
    condition: Callable[[], object], what: str, timeout: float = DEADLINE_S, every: float = 0.02
) -> None:
    await waiting.until(condition, what, timeout, every)


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


# the plant -----------------------------------------------------------------------------


def _tags(*keys: str) -> list[dict[str, Any]]:
    return [{"key": k.rsplit(".", 1)[1], "range": [0, 1e9], "period_s": 1} for k in keys]


PLANT = PlantSpec.model_validate(
    {
        "region": "r",
        "parks": [
            {
                "key": "p",
                "enterprises": [
                    {
                        "key": ENTERPRISE,
                        "sites": [
                            {
                                "key": "site",
                                "installations": [
                                    {
                                        "key": "unit",
                                        "equipment": [
                                            {"key": "plc-1", "tags": _tags(*MODBUS_KEYS)},
                                            {"key": "tk-1", "tags": _tags(*OPCUA_KEYS)},
                                        ],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            }
        ],
    }
)


# devices -------------------------------------------------------------------------------


class ModbusDevice:
    """A PLC on a loopback port: holding 0 a uint16 count, holding 2–3 a float32 level, both
    changed every ``WRITE_EVERY_S`` (kept while the server is down, served after a restart)."""

    def __init__(self) -> None:
        self.server = ModbusServer(units=(1,))
        self._writer: asyncio.Task[None] | None = None

    @property
    def connector(self) -> dict[str, Any]:
        """The gateway's settings for reading it."""
        return {
            "kind": "modbus",
            "name": "plc",
            "host": self.server.host,
            "port": self.server.port,
            "timeout_s": 1,
            "devices": [
                {
                    "unit_id": 1,
                    "device": PLC,
                    "period_s": 0.05,
                    "points": [
                        {"tag": MODBUS_KEYS[0], "table": "holding", "address": 0},
                        {
                            "tag": MODBUS_KEYS[1],
                            "table": "holding",
                            "address": 2,
                            "type": "float32",
                        },
                    ],
                }
            ],
        }

    async def start(self) -> None:
        await self.server.start()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def stop(self) -> None:
        await self.server.stop()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.server.stop()

    async def _write(self) -> None:
        n = 0
        while True:
            n += 1
            await self.server.write_value(1, "holding", 0, n % 65536, "uint16")
            await self.server.write_value(1, "holding", 2, (n % 1000) / 8, "float32")
            await asyncio.sleep(WRITE_EVERY_S)


class OpcUaDevice:
    """An OPC UA server on a loopback port with ``TK1.Count`` and ``TK1.Level`` (doubles),
    written every ``WRITE_EVERY_S`` with a source timestamp; ``stop()``/``start()`` keep the
    port and the address space."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/chain/"
        self.server = Server()
        self.running = False
        self._ns = 0
        self._writer: asyncio.Task[None] | None = None

    async def build(self) -> None:
        await self.server.init()
        self.server.disable_clock()
        self.server.set_endpoint(self.endpoint)
        self.server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self._ns = await self.server.register_namespace(NAMESPACE)
        tank = await self.server.nodes.objects.add_object(ua.NodeId("TK1", self._ns), "TK1")
        for name in ("Count", "Level"):
            await tank.add_variable(ua.NodeId(f"TK1.{name}", self._ns), name, 0.0)

    @property
    def connector(self) -> dict[str, Any]:
        return {
            "kind": "opcua",
            "name": "dcs",
            "endpoint": self.endpoint,
            "device": TANK,
            "publishing_interval_ms": 50,
            "sampling_interval_ms": 10,
            "health_check_interval_s": 0.5,
            "timeout_s": 2,
            "nodes": [
                {"node_id": f"ns={self._ns};s=TK1.Count", "tag": OPCUA_KEYS[0]},
                {"node_id": f"ns={self._ns};s=TK1.Level", "tag": OPCUA_KEYS[1]},
            ],
        }

    async def start(self) -> None:
        if not self.running:
            await self.server.start()
            self.running = True
        if self._writer is None:
            self._writer = asyncio.create_task(self._write())

    async def stop(self) -> None:
        if self.running:
            self.running = False
            await self.server.stop()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        await self.stop()

    async def _write(self) -> None:
        count = self.server.get_node(ua.NodeId("TK1.Count", self._ns))
        level = self.server.get_node(ua.NodeId("TK1.Level", self._ns))
        n = 0
        while True:
            n += 1
            now = datetime.now(UTC)
            for node, value in ((count, float(n)), (level, (n % 1000) / 8)):
                await node.write_value(
                    ua.DataValue(ua.Variant(value, ua.VariantType.Double), SourceTimestamp=now)
                )
            await asyncio.sleep(WRITE_EVERY_S)


# the gateway ---------------------------------------------------------------------------


class Counted:
    """A connector as the gateway gets it, recording every batch it hands over.

    ``close_source()`` closes the connector while the gateway runs on: production ends
    (the batches already read still reach the gateway) and the gateway's own stop closes
    nothing twice."""

    def __init__(self, inner: Connector) -> None:
        self.inner = inner
        self.name = inner.name
        self.batches: list[Batch] = []
        self._closed = False

    @property
    def health(self) -> HealthState:
        return self.inner.health

    async def __aenter__(self) -> Counted:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._closed:
            self._closed = True
            await self.inner.__aexit__(exc_type, exc, tb)

    async def close_source(self) -> None:
        await self.__aexit__(None, None, None)

    async def __aiter__(self) -> AsyncIterator[Batch]:
        async for batch in self.inner:
            self.batches.append(batch)
            yield batch


class GatewayRun:
    """One ``Gateway`` running in the test's event loop (see the module docstring)."""

    def __init__(self, broker: Any, queue: Path) -> None:
        self.broker = broker
        self.queue = queue
        self.gateway: Gateway | None = None
        self.counted: list[Counted] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self, *connectors: dict[str, Any]) -> Gateway:
        config = GatewayConfig.model_validate(
            {
                "name": "edge",
                "enterprise": ENTERPRISE,
                "connectors": list(connectors),
                "upstream": {
                    "kind": "mqtt",
                    "host": self.broker.host,
                    "port": self.broker.port,
                    "reconnect_max_s": 1,
                    "session_expiry_s": 600,
                },
                "queue": {"path": str(self.queue), "replay_per_s": 200},
            }
        )
        build = connectors_of(config)

        def counted(link: Any) -> list[Counted]:
            self.counted = [Counted(c) for c in build(link)]
            return self.counted

        self.gateway = Gateway(config, counted)
        self._task = asyncio.create_task(self.gateway.run(self._stop))
        await until(self.gateway.running.is_set, "the gateway runs")
        return self.gateway

    @property
    def connector(self) -> Counted:
        """The only connector."""
        (one,) = self.counted
        return one

    def produced(self) -> set[Reading]:
        """Every reading the gateway got from its connectors, distinct."""
        assert self.gateway is not None
        keys = self.gateway.keys.table()
        out: set[Reading] = set()
        for connector in self.counted:
            for b in connector.batches:
                out.update(
                    (str(k), int(t), _number(v), int(q))
                    for k, t, v, q in zip(
                        keys[b.tag],
                        b.ts.tolist(),
                        b.value.tolist(),
                        b.quality.tolist(),
                        strict=True,
                    )
                )
        return out

    def produced_count(self) -> int:
        return sum(len(b) for c in self.counted for b in c.batches)

    async def close_sources(self) -> None:
        for connector in self.counted:
            await connector.close_source()

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            task, self._task = self._task, None
            await task


# the platform --------------------------------------------------------------------------


class PlatformRun:
    """The platform of ``create_app`` with an ``mqtt`` connector on the broker, run by a
    ``TestClient`` (in a thread of its own) that ``stop()`` leaves and ``start()`` enters
    again, on the same database."""

    def __init__(self, settings: Settings, broker: Any, ingest: dict[str, Any]) -> None:
        self.settings = settings
        self.connectors = parse_connectors(
            [
                {
                    "kind": "mqtt",
                    "name": "park-broker",
                    "host": broker.host,
                    "port": broker.port,
                    "client_id": f"hazwatch-ingest-{broker.port}",
                    **ingest,
                }
            ],
            source="chain test",
        )
        self.client: TestClient | None = None

    def start(self) -> None:
        assert self.client is None
        client = TestClient(create_app(self.settings, connectors=self.connectors))
        client.__enter__()
        self.client = client

    def stop(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.__exit__(None, None, None)

    @property
    def app(self) -> FastAPI:
        assert self.client is not None, "the platform is not running"
        app: FastAPI = self.client.app  # type: ignore[assignment]
        return app

    @property
    def platform(self) -> Platform:
        platform: Platform = self.app.state.platform
        return platform

    @property
    def ingest(self) -> Health:
        """The health of the platform's MQTT connector (CONNECTING while stopped)."""
        if self.client is None:
            return Health.OFFLINE
        return self.app.state.sources.status[0].health  # type: ignore[no-any-return]

    def stored(self, keys: Sequence[str]) -> set[Reading]:
        """The readings of ``keys`` in the platform's reading store."""
        platform = self.platform
        out: set[Reading] = set()
        for key in keys:
            tag = platform.pipeline.tags_by_key[key]
            rows = platform.readings.raw(tag.id, 0, 2**62, 10_000_000)
            out.update(
                (key, int(t), _number(v), int(q))
                for t, v, q in zip(
                    rows.ts.tolist(), rows.value.tolist(), rows.quality.tolist(), strict=True
                )
            )
        return out


def _prepare(database_url: str) -> None:
    db = Database.open(database_url)
    try:
        db.upgrade()
        PlantRepository(db).save(PLANT)
    finally:
        db.close()


# fixtures ------------------------------------------------------------------------------


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    return until


@pytest_asyncio.fixture
async def modbus_device() -> AsyncIterator[ModbusDevice]:
    device = ModbusDevice()
    await device.start()
    try:
        yield device
    finally:
        await device.close()


@pytest_asyncio.fixture
async def opcua_device() -> AsyncIterator[OpcUaDevice]:
    device = OpcUaDevice()
    await device.build()
    await device.start()
    try:
        yield device
    finally:
        await device.close()


@pytest_asyncio.fixture
async def gateway(broker: Any, tmp_path: Path) -> AsyncIterator[GatewayRun]:
    run = GatewayRun(broker, tmp_path / "gateway" / "queue.db")
    try:
        yield run
    finally:
        await run.stop()


@pytest.fixture
def ingest_settings() -> dict[str, Any]:
    """Settings of the platform's MQTT connector beyond the broker and client id (a test
    parametrizes this name to change them)."""
    return {}


@pytest.fixture
def platform(
    database_url: str, tmp_path: Path, broker: Any, ingest_settings: dict[str, Any]
) -> Iterator[PlatformRun]:
    """The platform, running, its ingest connector online."""
    _prepare(database_url)
    settings = Settings(
        data_dir=tmp_path / "platform",
        database_url=database_url,
        secret_key="a-chain-test-signing-key-long-enough",
        tick_s=0.05,
    )
    run = PlatformRun(settings, broker, ingest_settings)
    run.start()
    try:
        deadline = time.monotonic() + DEADLINE_S
        while run.ingest is not Health.ONLINE:
            assert time.monotonic() < deadline, "the platform's MQTT connector is not online"
            time.sleep(0.02)
        yield run
    finally:
        run.stop()
