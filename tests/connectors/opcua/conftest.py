"""An OPC UA server for the connector's tests, and the conformance harness around it.

Building a server's standard address space takes over a second, so each test module that
needs one builds one (``opc_server``, module scope, on the module's event loop: modules using
it mark their tests ``pytest.mark.asyncio(loop_scope="module")``) and tests start and stop it
as they need: restarting takes milliseconds and keeps the port. Tests that need a variable in
a known state use a variable of their own.

Address space (namespace ``urn:hazwatch:test``, string node ids)::

    Objects/
      TK201                 object
        TK201.Level         Double, EURange 0–100, EngineeringUnits "%"
        TK201.Temperature   Float
        TK201.Running       Boolean
        TK201.Count         Int32
        TK201.Text          String
        TK201.Sub           object
          TK201.Sub.Pressure  Double
      Lab                   object: one Double variable per name in LAB
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
import pytest_asyncio
from asyncua import Server, ua
from ports import free_port

from hazwatch.connectors.base import Backoff, Link
from hazwatch.connectors.opcua import OpcUaConfig, OpcUaConnector

NAMESPACE = "urn:hazwatch:test"
DEVICE = "lpg.main.sphere-farm.tk-201"
LAB = ("status", "stamps", "deadband", "restart", "missing-ok", "bool-flag")


class OpcServer:
    """An asyncua server on a fixed loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/hazwatch/"
        self.server = Server()
        self.ns = 0
        self.running = False

    async def build(self) -> None:
        server = self.server
        await server.init()
        server.disable_clock()
        server.set_endpoint(self.endpoint)
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
        self.ns = await server.register_namespace(NAMESPACE)
        ns = self.ns
        tank = await server.nodes.objects.add_object(self.node_id("TK201"), "TK201")
        level = await tank.add_variable(self.node_id("TK201.Level"), "Level", 50.0)
        await level.add_property(ns, "EURange", ua.Range(Low=0.0, High=100.0))
        await level.add_property(
            ns, "EngineeringUnits", ua.EUInformation(DisplayName=ua.LocalizedText("%"))
        )
        await tank.add_variable(
            self.node_id("TK201.Temperature"),
            "Temperature",
            ua.Variant(20.0, ua.VariantType.Float),
        )
        await tank.add_variable(self.node_id("TK201.Running"), "Running", True)
        await tank.add_variable(
            self.node_id("TK201.Count"), "Count", ua.Variant(0, ua.VariantType.Int32)
        )
        await tank.add_variable(self.node_id("TK201.Text"), "Text", "hello")
        sub = await tank.add_object(self.node_id("TK201.Sub"), "Sub")
        await sub.add_variable(self.node_id("TK201.Sub.Pressure"), "Pressure", 1.0)
        lab = await server.nodes.objects.add_object(self.node_id("Lab"), "Lab")
        for name in LAB:
            await lab.add_variable(self.node_id(f"Lab.{name}"), name, 0.0)

    def node_id(self, name: str) -> ua.NodeId:
        return ua.NodeId(name, self.ns)

    def text_id(self, name: str) -> str:
        return f"ns={self.ns};s={name}"

    async def start(self) -> None:
        if not self.running:
            await self.server.start()
            self.running = True

    async def stop(self) -> None:
        if self.running:
            self.running = False
            await self.server.stop()

    async def write(
        self,
        name: str,
        value: Any,
        *,
        kind: ua.VariantType | None = None,
        status: int = ua.StatusCodes.Good,
        source_ts: datetime | bool | None = True,
    ) -> None:
        """Write a value to a variable. ``source_ts``: True for now, a moment, or None for
        no source timestamp at all."""
        data = ua.DataValue(
            ua.Variant(value, kind),
            StatusCode=ua.StatusCode(status),
            SourceTimestamp=datetime.now(UTC) if source_ts is True else source_ts,
        )
        await self.server.get_node(self.node_id(name)).write_value(data)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def opc_server() -> AsyncIterator[OpcServer]:
    server = OpcServer()
    await server.build()
    yield server
    await server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def harness(opc_server: OpcServer) -> AsyncIterator[OpcHarness]:
    """The conformance harness, its server stopped to begin with."""
    await opc_server.stop()
    yield OpcHarness(opc_server)
    await opc_server.stop()


@pytest_asyncio.fixture(loop_scope="module")
async def server(opc_server: OpcServer) -> OpcServer:
    """The module's server, running."""
    await opc_server.start()
    return opc_server


@pytest.fixture
def make_config() -> Callable[..., OpcUaConfig]:
    """``make_config(server, **overrides)``: see ``config_for``."""
    return config_for


@pytest.fixture
def backoff() -> Backoff:
    return fast_backoff()


def config_for(server: OpcServer, **overrides: Any) -> OpcUaConfig:
    """A fast-paced connector configuration reading the tank's numeric variables."""
    data: dict[str, Any] = {
        "kind": "opcua",
        "name": "opc-test",
        "endpoint": server.endpoint,
        "device": DEVICE,
        "publishing_interval_ms": 50,
        "sampling_interval_ms": 25,
        "health_check_interval_s": 0.5,
        "timeout_s": 2.0,
        "nodes": [
            {"node_id": server.text_id("TK201.Level"), "tag": f"{DEVICE}.level"},
            {"node_id": server.text_id("TK201.Temperature"), "tag": f"{DEVICE}.temperature"},
            {"node_id": server.text_id("TK201.Count"), "tag": f"{DEVICE}.count"},
        ],
    }
    data.update(overrides)
    return OpcUaConfig.model_validate(data)


def fast_backoff() -> Backoff:
    return Backoff(initial=0.1, cap=0.5)


class OpcHarness:
    """The conformance harness: the tank's numbers are produced, its text is malformed."""

    def __init__(self, server: OpcServer) -> None:
        self.server = server
        self.config = config_for(
            server,
            nodes=[
                *config_for(server).model_dump(mode="json")["nodes"],
                {"node_id": server.text_id("TK201.Text"), "tag": f"{DEVICE}.text"},
            ],
        )
        self.keys = [node.tag for node in self.config.nodes]
        self._round = 0

    async def start_source(self) -> None:
        await self.server.start()

    async def stop_source(self) -> None:
        await self.server.stop()

    def connector(self, link: Link) -> OpcUaConnector:
        return OpcUaConnector(self.config, link, backoff=fast_backoff())

    async def produce(self) -> Mapping[str, float]:
        self._round += 1
        n = self._round
        values = {
            f"{DEVICE}.level": 10.0 + n,
            f"{DEVICE}.temperature": 100.5 + n,
            f"{DEVICE}.count": 1000.0 + n,
        }
        await self.server.write("TK201.Level", values[f"{DEVICE}.level"])
        await self.server.write(
            "TK201.Temperature", values[f"{DEVICE}.temperature"], kind=ua.VariantType.Float
        )
        await self.server.write(
            "TK201.Count", int(values[f"{DEVICE}.count"]), kind=ua.VariantType.Int32
        )
        return values

    async def produce_malformed(self) -> bool:
        self._round += 1
        await self.server.write("TK201.Text", f"not a number {self._round}")
        return True
