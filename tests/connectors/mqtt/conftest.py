"""Fixtures of the MQTT connector tests: a test publisher, the conformance harness, and a
private broker with the dynamic-security plugin."""

from __future__ import annotations

import asyncio
import glob
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

from hazwatch.connectors.base import Backoff, Link
from hazwatch.connectors.mqtt import MqttConfig, MqttConnector
from hazwatch.connectors.mqtt.dynsec import bootstrap_config

KEYS = (
    "lpg.main.sphere-farm.tk-201.level",
    "lpg.main.sphere-farm.tk-201.pressure",
    "lpg.main.sphere-farm.tk-202.level",
)
TOPIC = "hazwatch/v1/lpg/main/sphere-farm"
TS = 1_800_000_000_000
ADMIN = ("hazwatch-admin", "admin-secret")
PLUGIN_GLOBS = (
    "/usr/lib/*/mosquitto_dynamic_security.so",
    "/usr/lib/mosquitto_dynamic_security.so",
    "/usr/local/lib/mosquitto_dynamic_security.so",
    "/usr/lib64/mosquitto_dynamic_security.so",
)


class BrokerLike(Protocol):
    host: str
    port: int
    workdir: Path

    def start(self) -> None: ...

    def stop(self) -> None: ...

    @property
    def running(self) -> bool: ...


class Publisher:
    """A paho MQTT v5 client that publishes and waits for each acknowledgement."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.timeout = timeout
        self.connack: ReasonCode | None = None
        self._connected = threading.Event()
        self._acks: dict[int, ReasonCode] = {}
        self._acked = threading.Condition()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"test-pub-{uuid.uuid4().hex[:10]}",
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_disconnect = lambda *_: self._connected.set()
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.close()
            raise TimeoutError("no CONNACK")

    def _on_connect(self, _c: object, _u: object, _f: object, code: ReasonCode, _p: object) -> None:
        self.connack = code
        self._connected.set()

    def _on_publish(self, _c: object, _u: object, mid: int, code: ReasonCode, _p: object) -> None:
        with self._acked:
            self._acks[mid] = code
            self._acked.notify_all()

    @property
    def refused(self) -> bool:
        return self.connack is None or self.connack.is_failure

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, *, retain: bool = False
    ) -> ReasonCode | None:
        """Publish; at QoS 1 return the broker's PUBACK reason code."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        if qos == 0:
            info.wait_for_publish(self.timeout)
            return None
        with self._acked:
            if not self._acked.wait_for(lambda: info.mid in self._acks, self.timeout):
                raise TimeoutError(f"no PUBACK for {topic}")
            return self._acks.pop(info.mid)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        # paho keeps the wake-up socket pair of loop_start until the client is collected,
        # which a reference cycle may delay into another test
        self.client._reset_sockets()


def publish_all(
    host: str, port: int, messages: Sequence[tuple[str, bytes]], qos: int = 1, **login: Any
) -> list[ReasonCode | None]:
    publisher = Publisher(host, port, **login)
    try:
        return [publisher.publish(topic, payload, qos) for topic, payload in messages]
    finally:
        publisher.close()


def single(key: str, value: float, ts: int = TS) -> bytes:
    return orjson.dumps({"tag": key, "ts": ts, "value": value})


def config(port: int, **overrides: Any) -> MqttConfig:
    fields: dict[str, Any] = {
        "name": "test",
        "port": port,
        "client_id": f"hazwatch-test-{uuid.uuid4().hex[:10]}",
        "flush_ms": 5,
        "connect_timeout_s": 5,
    }
    return MqttConfig.model_validate(fields | overrides)


def fast_backoff() -> Backoff:
    return Backoff(initial=0.05, cap=0.5)


class MqttHarness:
    """The conformance harness: a private broker, a publisher, an MQTT connector.

    Each ``produce`` publishes the keys' new values in one of the three payload forms in
    turn (one reading per message, rows, columns)."""

    keys: Sequence[str] = KEYS

    def __init__(self, broker: BrokerLike) -> None:
        self.broker = broker
        self.config = config(broker.port)
        self._round = 0

    async def start_source(self) -> None:
        if not self.broker.running:
            await asyncio.to_thread(self.broker.start)

    async def stop_source(self) -> None:
        await asyncio.to_thread(self.broker.stop)

    def connector(self, link: Link) -> MqttConnector:
        return MqttConnector(self.config, link, backoff=fast_backoff())

    async def produce(self) -> Mapping[str, float]:
        self._round += 1
        values = {key: self._round * 100 + index + 0.25 for index, key in enumerate(self.keys)}
        form = self._round % 3
        if form == 0:
            messages = [(TOPIC, single(key, value)) for key, value in values.items()]
        elif form == 1:
            rows = [{"tag": k, "ts": TS, "value": v, "quality": "good"} for k, v in values.items()]
            messages = [(TOPIC, orjson.dumps({"readings": rows}))]
        else:
            columns = {"tag": list(values), "ts": TS, "value": list(values.values())}
            messages = [(TOPIC, orjson.dumps(columns))]
        await asyncio.to_thread(publish_all, self.broker.host, self.broker.port, messages)
        return values

    async def produce_malformed(self) -> bool:
        await asyncio.to_thread(
            publish_all, self.broker.host, self.broker.port, [(TOPIC, b'{"tag": [1, ')]
        )
        return True


class MqttKit:
    """What the tests of this folder share (test modules do not import each other)."""

    KEYS = KEYS
    TOPIC = TOPIC
    TS = TS
    ADMIN = ADMIN
    Publisher = Publisher
    config = staticmethod(config)
    single = staticmethod(single)
    publish_all = staticmethod(publish_all)
    fast_backoff = staticmethod(fast_backoff)


@pytest.fixture
def kit() -> MqttKit:
    return MqttKit()


@pytest.fixture
def harness(broker: BrokerLike) -> MqttHarness:
    broker.stop()  # the checks start the source themselves
    return MqttHarness(broker)


def dynsec_plugin() -> str:
    for pattern in PLUGIN_GLOBS:
        found = sorted(glob.glob(pattern))
        if found:
            return found[0]
    pytest.skip("Mosquitto's dynamic-security plugin is not installed")


@pytest.fixture
def secure_broker(broker: BrokerLike, tmp_path: Path) -> Iterator[BrokerLike]:
    """A private Mosquitto with the dynamic-security plugin, whose administrator is
    ``ADMIN``; anonymous clients are refused."""
    plugin = dynsec_plugin()
    broker.stop()
    workdir = tmp_path / "secure-broker"
    workdir.mkdir()
    settings = workdir / "dynamic-security.json"
    settings.write_bytes(orjson.dumps(bootstrap_config(*ADMIN)))
    extra = (
        f"plugin {plugin}\nplugin_opt_config_file {settings}\n"
        "allow_anonymous false\nper_listener_settings false\n"
        # Mosquitto 2.0 disconnects a client after refusing its PUBLISH when its queue
        # limit reads 0 ("no limit" elsewhere): give it a real limit.
        "max_queued_messages 1000000\n"
    )
    secure: BrokerLike = type(broker)(workdir, extra=extra)  # type: ignore[call-arg]
    secure.start()
    yield secure
    secure.stop()


@pytest.fixture
def tls_broker(broker: BrokerLike, tmp_path: Path) -> Iterator[tuple[BrokerLike, Path]]:
    """A private Mosquitto whose listener speaks TLS with a certificate for 127.0.0.1 from
    a throw-away CA; yields the broker and the CA's certificate file."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    broker.stop()
    workdir = tmp_path / "tls-broker"
    workdir.mkdir()

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=workdir, check=True, capture_output=True)

    run(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    )
    run(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
    )
    (workdir / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san.ext",
        "-out",
        "server.pem",
    )
    for name in ("server.key", "server.pem", "ca.pem"):
        (workdir / name).chmod(0o644)  # the broker may run as another user
    extra = (
        f"cafile {workdir / 'ca.pem'}\ncertfile {workdir / 'server.pem'}\n"
        f"keyfile {workdir / 'server.key'}\nallow_anonymous true\n"
    )
    secure: BrokerLike = type(broker)(workdir, extra=extra)  # type: ignore[call-arg]
    secure.start()
    yield secure, workdir / "ca.pem"
    secure.stop()
