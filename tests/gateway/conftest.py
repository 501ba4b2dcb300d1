"""Fakes and live services for the gateway's tests.

* ``CountingConnector``: a connector emitting numbered readings at a steady rate (reading
  n of every tag has value n and timestamp start + n ms), counting what it produced.
* ``FakeUpstream``: an in-memory upstream that can be taken offline and records what it got;
  ``LinkFakeUpstream`` carries links messages too (``links``: the decoded ones it took).
* ``Subscriber``: an MQTT client with a persistent QoS 1 session recording every reading
  it receives, with its arrival time, and every links message (``links``).
* ``PlatformServer``: a real ``hazwatch serve`` process with a plant and a device key.

Test modules get them through the fixtures at the bottom (never by importing this file).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from ports import free_port
from waiting import until

from hazwatch.connectors.base import Backoff, ConnectorBase, Health, HealthState, Link
from hazwatch.connectors.mqtt.links import links_topic_of
from hazwatch.domain.batch import Batch
from hazwatch.gateway.config import GatewayConfig
from hazwatch.gateway.encode import decode_columns
from hazwatch.gateway.upstream import Delivery
from hazwatch.storage.readings.blocks import Readings, from_blocks, from_log

ENTERPRISE = "gw"
KEYS = ("gw.site.unit.pump-1.count", "gw.site.unit.pump-2.count")
DROPPED = "gw.site.unit.gateway.dropped"
TOPIC = f"hazwatch/v1/{ENTERPRISE}/gateway/edge"


class CountingConnector(ConnectorBase):
    """Emits, every ``period_s``, reading n of each key (value n, ts start + n); stops
    producing after ``limit`` rounds or when ``pause()`` is called."""

    def __init__(self, link: Link, keys: tuple[str, ...] = KEYS, *, period_s: float = 0.01) -> None:
        super().__init__("counter", link, backoff=Backoff(initial=0.05, cap=0.1))
        self.keys = keys
        self.period_s = period_s
        self.rounds = 0
        self.limit: int | None = None
        self.start_ms = link.now()
        self.emitted_at: dict[int, float] = {}

    @property
    def produced(self) -> int:
        return self.rounds * len(self.keys)

    def stop_producing(self) -> None:
        self.limit = self.rounds

    async def session(self) -> None:
        ids = [self.link.resolve(k) for k in self.keys]
        assert all(i is not None for i in ids), "the gateway numbers every key of its own"
        self.online()
        while True:
            if self.limit is not None and self.rounds >= self.limit:
                await asyncio.sleep(0.05)
                continue
            n = self.rounds
            batch = Batch.of(
                tag=[i or 0 for i in ids],
                ts=[self.start_ms + n] * len(ids),
                value=[float(n)] * len(ids),
                received=self.link.now(),
            )
            await self.emit(batch)
            self.emitted_at[n] = time.time()
            self.rounds += 1
            await asyncio.sleep(self.period_s)


class FakeUpstream:
    """An upstream in memory: online or not; acknowledges at once while online (unless
    ``hold``), refuses bodies for which ``refuse(body)`` is true."""

    def __init__(self, *, max_in_flight: int = 4, online: bool = True) -> None:
        self.name = "fake"
        self.health = HealthState()
        self.max_in_flight = max_in_flight
        self.outages = 0
        self.received: list[bytes] = []
        self.hold = False
        self.refuse: Callable[[bytes], bool] = lambda body: False
        self._held: list[tuple[bytes, asyncio.Future[Delivery]]] = []
        self._online = online

    async def __aenter__(self) -> FakeUpstream:
        self.health.set(Health.ONLINE if self._online else Health.OFFLINE)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.health.set(Health.OFFLINE, "closed")

    def go_offline(self) -> None:
        self._online = False
        self.outages += 1
        self.health.set(Health.OFFLINE, "cut")

    def go_online(self) -> None:
        self._online = True
        self.health.set(Health.ONLINE)
        held, self._held = self._held, []
        for body, future in held:
            self._settle(body, future)

    async def ready(self) -> None:
        await self.health.wait_for(Health.ONLINE)

    def submit(self, body: bytes) -> asyncio.Future[Delivery]:
        future: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
        if self._online and not self.hold:
            self._settle(body, future)
        else:
            self._held.append((body, future))
        return future

    def release(self) -> None:
        self.hold = False
        held, self._held = self._held, []
        for body, future in held:
            self._settle(body, future)

    def _settle(self, body: bytes, future: asyncio.Future[Delivery]) -> None:
        if self.refuse(body):
            future.set_result(Delivery(ok=False, code="fake.400", detail="refused"))
            return
        self.received.append(body)
        future.set_result(Delivery(ok=True))

    def readings(self) -> list[tuple[str, int, float]]:
        """(tag, ts, value) of everything delivered, in delivery order."""
        out: list[tuple[str, int, float]] = []
        for body in self.received:
            c = decode_columns(body)
            out.extend(zip(c.tag, c.ts.tolist(), c.value.tolist(), strict=True))
        return out


class LinkFakeUpstream(FakeUpstream):
    """A ``FakeUpstream`` that takes links messages too (while online; ``fail_links``
    more of them fail as not handed over)."""

    def __init__(self, *, max_in_flight: int = 4, online: bool = True) -> None:
        super().__init__(max_in_flight=max_in_flight, online=online)
        self.links: list[dict[str, Any]] = []
        self.fail_links = 0

    def publish_links(self, body: bytes) -> asyncio.Future[Delivery]:
        future: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()
        if self.fail_links:
            self.fail_links -= 1
            future.set_exception(ConnectionError("not now"))
        elif not self._online:
            future.set_exception(ConnectionError("offline"))
        else:
            self.links.append(orjson.loads(body))
            future.set_result(Delivery(ok=True))
        return future

    def health_of(self, index: int = -1) -> dict[str, tuple[str, str]]:
        """equipment → (health, detail) of a links message taken (the last by default)."""
        return {e["equipment"]: (e["health"], e["detail"]) for e in self.links[index]["links"]}


@dataclass
class Arrival:
    tag: str
    ts: int
    value: float
    at: float  # wall-clock seconds


class Subscriber:
    """Receives everything under ``hazwatch/v1/<enterprise>/#`` at QoS 1 with a persistent
    session, so nothing published while it reconnects is lost."""

    def __init__(self, host: str, port: int, client_id: str) -> None:
        self.arrivals: list[Arrival] = []
        self.links: list[tuple[str, dict[str, Any], bool]] = []
        """(topic, payload, retained) of each links message"""
        self._lock = threading.Lock()
        self.connected = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
        )
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.connected.set()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        self.client.connect_async(host, port, clean_start=False, properties=props)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any, p: Any) -> None:
        client.subscribe(f"hazwatch/v1/{ENTERPRISE}/#", qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        now = time.time()
        if links_topic_of(message.topic) is not None:
            with self._lock:
                self.links.append((message.topic, orjson.loads(message.payload), message.retain))
            return
        columns = decode_columns(bytes(message.payload))
        with self._lock:
            self.arrivals.extend(
                Arrival(tag=t, ts=s, value=v, at=now)
                for t, s, v in zip(
                    columns.tag, columns.ts.tolist(), columns.value.tolist(), strict=True
                )
            )

    def snapshot(self) -> list[Arrival]:
        with self._lock:
            return list(self.arrivals)

    def links_seen(self) -> list[tuple[str, dict[str, Any], bool]]:
        with self._lock:
            return list(self.links)

    def distinct(self, keys: tuple[str, ...] = KEYS) -> set[tuple[str, int]]:
        return {(a.tag, a.ts) for a in self.snapshot() if a.tag in keys}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


PASSWORD = "gateway-test-password-1"

PLANT = {
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
                                        {
                                            "key": "pump-1",
                                            "tags": [{"key": "count", "range": [0, 1e9]}],
                                        },
                                        {
                                            "key": "pump-2",
                                            "tags": [{"key": "count", "range": [0, 1e9]}],
                                        },
                                        {
                                            "key": "gateway",
                                            "tags": [
                                                {
                                                    "key": "dropped",
                                                    "range": [0, 1e12],
                                                    "limits": {"H": {"value": 0.5}},
                                                }
                                            ],
                                        },
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


@dataclass
class PlatformServer:
    """A ``hazwatch serve`` process on a loopback port, with a SQLite database."""

    workdir: Path
    port: int = field(default_factory=free_port)
    api_key: str = ""
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self) -> Path:
        return self.workdir / "data" / "hazwatch.db"

    def prepare(self) -> None:
        from hazwatch.auth.password import hash_password
        from hazwatch.domain.role import Role
        from hazwatch.plant.file import parse_plant
        from hazwatch.storage.database import Database
        from hazwatch.storage.plant_repository import PlantRepository
        from hazwatch.storage.user_repository import UserRepository

        settings = {
            "data_dir": str(self.workdir / "data"),
            "host": "127.0.0.1",
            "port": self.port,
            "secret_key": "a-gateway-test-signing-key-long-enough",
            "tick_s": 0.1,
        }
        (self.workdir / "settings.yaml").write_text(yaml.safe_dump(settings))
        db = Database.open(f"sqlite:///{self.db_path}")
        try:
            db.upgrade()
            plants = PlantRepository(db)
            plants.save(parse_plant(yaml.safe_dump(PLANT), source="test plant"))
            region = plants.node_by_keys(["r"])
            assert region is not None
            UserRepository(db).add("admin", hash_password(PASSWORD), Role.ADMIN, region.id)
        finally:
            db.close()

    def start(self) -> None:
        log = (self.workdir / "server.log").open("ab")
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hazwatch", "serve", "--config", "settings.yaml"],
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        finally:
            log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = (self.workdir / "server.log").read_text()[-3000:]
                raise RuntimeError(f"hazwatch serve did not start:\n{tail}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def make_api_key(self) -> str:
        token = httpx.post(
            f"{self.url}/api/v1/auth/token", data={"username": "admin", "password": PASSWORD}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        nodes = httpx.get(f"{self.url}/api/v1/scope", headers=headers).json()
        node = next(n for n in nodes if n["key"] == ENTERPRISE)
        response = httpx.post(
            f"{self.url}/api/v1/api-keys",
            json={"name": "edge", "scope_id": node["id"]},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        self.api_key = response.json()["key"]
        return self.api_key

    def stored(self, keys: tuple[str, ...] = KEYS) -> set[tuple[str, int, float]]:
        """(tag, ts, value) of the readings stored for ``keys``, read from the database."""
        import sqlite3

        conn = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True)
        try:
            ids = dict(conn.execute("SELECT id, key FROM tags").fetchall())
            readings = Readings.concat(
                [
                    from_log(
                        conn.execute(
                            "SELECT received, tag, ts, value, quality, server FROM reading_log"
                        ).fetchall()
                    ),
                    from_blocks(
                        conn.execute(
                            "SELECT tag_id, ts, value, quality, received, server"
                            " FROM reading_blocks"
                        ).fetchall()
                    ),
                ]
            )
        finally:
            conn.close()
        rows = zip(
            readings.tag.tolist(), readings.ts.tolist(), readings.value.tolist(), strict=True
        )
        return {(ids[t], ts, v) for t, ts, v in rows if ids.get(t) in keys}


# fixtures ------------------------------------------------------------------------------


@pytest.fixture
def counting_connector() -> type[CountingConnector]:
    return CountingConnector


@pytest.fixture
def fake_upstream() -> type[FakeUpstream]:
    return FakeUpstream


@pytest.fixture
def link_upstream() -> type[LinkFakeUpstream]:
    return LinkFakeUpstream


@pytest.fixture
def wait_until() -> Callable[..., Any]:
    return until


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., GatewayConfig]:
    """A gateway configuration; ``upstream`` and queue settings as keywords."""

    def make(
        upstream: dict[str, Any] | None = None,
        *,
        connectors: list[dict[str, Any]] | None = None,
        **queue: Any,
    ) -> GatewayConfig:
        return GatewayConfig.model_validate(
            {
                "name": "edge",
                "enterprise": ENTERPRISE,
                "upstream": upstream or {"kind": "mqtt", "host": "127.0.0.1"},
                "queue": {"path": str(tmp_path / "queue.db"), **queue},
                "dropped_tag": DROPPED,
                "connectors": connectors or [],
            }
        )

    return make


@pytest.fixture
def durable_broker(broker: Any, tmp_path: Path) -> Iterator[Any]:
    """The ``broker``, sure to keep its sessions and queued messages across a restart.

    Started as root without a ``user`` setting, Mosquitto switches to its own user, which
    cannot write the test's folder: it would then lose, on restart, messages it had
    acknowledged. The gateway cannot make up for a broker that loses what it acknowledged,
    so these tests need one that keeps it."""
    settings = broker.config.read_text()
    if os.geteuid() != 0 or any(line.startswith("user ") for line in settings.splitlines()):
        yield broker
        return
    broker.stop()
    workdir = tmp_path / "durable-broker"
    workdir.mkdir()
    durable = type(broker)(workdir, extra="allow_anonymous true\nuser root\n")
    durable.start()
    try:
        yield durable
    finally:
        durable.stop()


@pytest.fixture
async def subscriber(durable_broker: Any) -> AsyncIterator[Subscriber]:
    broker = durable_broker
    sub = Subscriber(broker.host, broker.port, f"test-sub-{free_port()}")
    try:
        assert await asyncio.to_thread(sub.connected.wait, 10), "subscriber did not subscribe"
        yield sub
    finally:
        await asyncio.to_thread(sub.close)


@pytest.fixture
def platform_server(tmp_path: Path) -> Iterator[PlatformServer]:
    server = PlatformServer(workdir=tmp_path / "platform")
    server.workdir.mkdir()
    server.prepare()
    server.start()
    try:
        server.make_api_key()
        yield server
    finally:
        server.stop()


def values(arrivals: list[Arrival], key: str) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Values of ``key`` in order of first arrival."""
    seen: set[float] = set()
    out: list[float] = []
    for a in arrivals:
        if a.tag == key and a.value not in seen:
            seen.add(a.value)
            out.append(a.value)
    return np.array(out)


@pytest.fixture
def first_arrivals() -> Callable[[list[Arrival], str], np.ndarray[Any, np.dtype[np.float64]]]:
    return values
