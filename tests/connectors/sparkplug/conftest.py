"""Fixtures of the Sparkplug B tests: the independent edge node (``edge_node.py``, loaded
here by path), connector settings for a private broker, and the conformance harness.

The plant: group ``plant1`` is installation ``lpg.main.sphere-farm``; edge node ``gw-1``
has a node metric ``Uptime`` and a device ``TK-201`` (equipment ``gw-1-tk-201``) with
``Level`` (Double, %, 0–100), ``Temperature/PV`` (Float), ``Running`` (Boolean), ``Count``
(Int32) and ``Label`` (String, not read).
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from hazwatch.connectors.base import Backoff, Link
from hazwatch.connectors.sparkplug import SparkplugConfig, SparkplugConnector
from hazwatch.connectors.sparkplug import sparkplug_b_pb2 as pb


def _load(name: str) -> ModuleType:
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"hazwatch_sparkplug_tests_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


EDGE = _load("edge_node")


@dataclass(frozen=True, slots=True)
class Plant:
    group: str = "plant1"
    prefix: str = "lpg.main.sphere-farm"
    node: str = "gw-1"
    device: str = "TK-201"
    host_id: str = "hazwatch-test"

    @property
    def equipment(self) -> str:
        return f"{self.prefix}.gw-1-tk-201"

    @property
    def node_equipment(self) -> str:
        return f"{self.prefix}.gw-1"

    def key(self, tag: str) -> str:
        return f"{self.equipment}.{tag}"


PLANT = Plant()
NODE_SPECS = (EDGE.Spec("Uptime", alias=100, datatype=pb.UInt32, initial=1),)
DEVICE_SPECS = (
    EDGE.Spec("Level", alias=1, unit="%", low=0.0, high=100.0, initial=50.0),
    EDGE.Spec("Temperature/PV", alias=2, datatype=pb.Float, unit="°C", initial=20.5),
    EDGE.Spec("Running", alias=3, datatype=pb.Boolean, initial=True),
    EDGE.Spec("Count", alias=4, datatype=pb.Int32, initial=-3),
    EDGE.Spec("Label", alias=5, datatype=pb.String, initial="sphere 1"),
)


@pytest.fixture
def plant() -> Plant:
    return PLANT


@pytest.fixture
def edge() -> ModuleType:
    """The edge node module (``EdgeNode``, ``Spec``)."""
    return EDGE


@pytest.fixture
def make_edge_node(broker: Any) -> Iterator[Callable[..., Any]]:
    """Build edge nodes of the test plant on ``broker`` (not yet connected); closed after."""
    made: list[Any] = []

    def make(**overrides: Any) -> Any:
        settings: dict[str, Any] = {
            "group": PLANT.group,
            "node": PLANT.node,
            "node_metrics": NODE_SPECS,
            "devices": {PLANT.device: DEVICE_SPECS},
        }
        settings.update(overrides)
        node = EDGE.EdgeNode(broker.host, broker.port, **settings)
        made.append(node)
        return node

    yield make
    for node in made:
        node.close()


def sparkplug_config(broker: Any, **overrides: Any) -> SparkplugConfig:
    settings: dict[str, Any] = {
        "kind": "sparkplug",
        "name": "sparkplug-test",
        "host": broker.host,
        "port": broker.port,
        "host_id": PLANT.host_id,
        "groups": {PLANT.group: PLANT.prefix},
        "connect_timeout_s": 2.0,
        "rebirth_interval_s": 0.2,
    }
    settings.update(overrides)
    return SparkplugConfig.model_validate(settings)


@pytest.fixture
def make_connector(broker: Any) -> Callable[..., SparkplugConnector]:
    """``make_connector(link, **settings)``: a connector of the test plant on ``broker``."""

    def make(link: Link, **overrides: Any) -> SparkplugConnector:
        return SparkplugConnector(
            sparkplug_config(broker, **overrides), link, backoff=Backoff(initial=0.05, cap=0.5)
        )

    return make


class SparkplugHarness:
    """The conformance harness: a broker with one edge node publishing DDATA of TK-201."""

    keys = (PLANT.key("level"), PLANT.key("temperature-pv"))

    def __init__(self, broker: Any) -> None:
        self.broker = broker
        self.node = EDGE.EdgeNode(
            broker.host,
            broker.port,
            group=PLANT.group,
            node=PLANT.node,
            node_metrics=NODE_SPECS,
            devices={PLANT.device: DEVICE_SPECS},
        )
        self.round = 0

    async def start_source(self) -> None:
        await asyncio.to_thread(self.broker.start)
        await asyncio.to_thread(self.node.connect)

    async def stop_source(self) -> None:
        await asyncio.to_thread(self.node.close)
        await asyncio.to_thread(self.broker.stop)

    def connector(self, link: Link) -> SparkplugConnector:
        return SparkplugConnector(
            sparkplug_config(self.broker), link, backoff=Backoff(initial=0.05, cap=0.5)
        )

    async def produce(self) -> Mapping[str, float]:
        self.round += 1
        level, temperature = 10.0 + self.round * 0.5, 20.0 + self.round * 0.25
        self.node.ddata(PLANT.device, {"Level": level, "Temperature/PV": temperature})
        return {self.keys[0]: level, self.keys[1]: temperature}

    async def produce_malformed(self) -> bool:
        self.node.raw(self.node.topic("DDATA", PLANT.device), b"\xff\xff\xff not protobuf")
        return True


@pytest.fixture
def harness(broker: Any) -> Iterator[SparkplugHarness]:
    """The source starts stopped: each check starts it when it wants it."""
    broker.stop()
    made = SparkplugHarness(broker)
    yield made
    made.node.close()
