"""A Sparkplug B edge node for tests, written against the generated protobuf module and paho
only: it shares no code with the connector, so the two meet only on the wire.

It behaves as a Sparkplug 3.0 edge node: every connect carries an NDEATH will with a new
``bdSeq``; after connecting (and, with ``primary_host``, once that host's STATE says online)
it publishes NBIRTH (``seq`` 0, ``bdSeq``, ``Node Control/Rebirth``) and a DBIRTH per
device, then DDATA by alias; it answers an NCMD ``Node Control/Rebirth`` with its births.
``seq`` runs 0–255 over every message but NDEATH. ``crash()`` drops the connection without
a DISCONNECT, so the broker publishes the will; ``close()`` says NDEATH first.

Calls block (briefly) and are safe from any thread; async tests call them directly.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from hazwatch.connectors.sparkplug import sparkplug_b_pb2 as pb

NAMESPACE = "spBv1.0"
REBIRTH = "Node Control/Rebirth"


@dataclass(frozen=True, slots=True)
class Spec:
    """A metric of a birth: its name, alias, datatype and optional properties."""

    name: str
    alias: int
    datatype: int = pb.Double
    unit: str | None = None
    low: float | None = None
    high: float | None = None
    initial: float | bool | str = 0.0


@dataclass(slots=True)
class Seen:
    """What the edge node received."""

    rebirths: int = 0
    states: list[dict[str, object]] = field(default_factory=list)


class EdgeNode:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        group: str,
        node: str,
        node_metrics: Sequence[Spec] = (),
        devices: Mapping[str, Sequence[Spec]] | None = None,
        primary_host: str | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.group, self.node = group, node
        self.node_metrics = tuple(node_metrics)
        self.devices = {name: tuple(specs) for name, specs in (devices or {}).items()}
        self.primary_host = primary_host
        self.bd_seq = -1
        self.seq = 0
        self.values: dict[tuple[str | None, str], float | bool | str] = {}
        for spec in self.node_metrics:
            self.values[None, spec.name] = spec.initial
        for device, specs in self.devices.items():
            for spec in specs:
                self.values[device, spec.name] = spec.initial
        self.seen = Seen()
        self.births = 0
        self._client: mqtt.Client | None = None
        self._lock = threading.RLock()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._born = threading.Event()
        self._changed = threading.Condition()

    # topics

    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"{NAMESPACE}/{self.group}/{kind}/{self.node}"
        return base if device is None else f"{base}/{device}"

    # session

    def connect(self, timeout: float = 10.0) -> None:
        """Connect with a new bdSeq; birth at once, or once the primary host is online."""
        self.bd_seq = (self.bd_seq + 1) % 256
        self._connected.clear()
        self._subscribed.clear()
        self._born.clear()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"edge-{self.group}-{self.node}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
            reconnect_on_failure=False,
        )
        client.will_set(self.topic("NDEATH"), self._ndeath(), qos=1, retain=False)
        client.on_connect = lambda *_: self._connected.set()
        client.on_subscribe = lambda *_: self._subscribed.set()
        client.on_message = self._on_message
        client.on_socket_open = _no_delay
        self._client = client
        client.connect(self.host, self.port, keepalive=30)
        client.loop_start()
        _wait(self._connected, timeout, "CONNACK")
        topics = [(f"{NAMESPACE}/{self.group}/NCMD/{self.node}", 1)]
        topics.append((f"{NAMESPACE}/{self.group}/DCMD/{self.node}/+", 1))
        if self.primary_host is not None:
            topics.append((f"{NAMESPACE}/STATE/{self.primary_host}", 1))
        client.subscribe(topics)
        _wait(self._subscribed, timeout, "SUBACK")
        if self.primary_host is None:
            for sent in self.birth():
                sent.wait_for_publish(timeout)

    def wait_born(self, timeout: float = 10.0) -> None:
        _wait(self._born, timeout, "birth")

    def birth(self) -> list[mqtt.MQTTMessageInfo]:
        """NBIRTH, then a DBIRTH per device; returns what paho is sending."""
        with self._lock:
            self.seq = 0
            node = self._payload(self.node_metrics, None, birth=True, with_seq=False)
            node.seq = 0
            bd = node.metrics.add(name="bdSeq", datatype=pb.Int64)
            bd.long_value = self.bd_seq
            node.metrics.add(name=REBIRTH, datatype=pb.Boolean, boolean_value=False)
            sent = [self._publish(self.topic("NBIRTH"), node)]
            for device, specs in self.devices.items():
                payload = self._payload(specs, device, birth=True)
                sent.append(self._publish(self.topic("DBIRTH", device), payload))
            self.births += 1
        self._born.set()
        self._notify()
        return sent

    def ddata(
        self,
        device: str,
        values: Mapping[str, float | bool],
        *,
        by_name: bool = False,
        skip_seq: int = 0,
        null: Sequence[str] = (),
        stamp: int | None = None,
    ) -> None:
        """Publish DDATA: by alias (or ``by_name``); ``skip_seq`` numbers are left out."""
        with self._lock:
            self.seq = (self.seq + skip_seq) % 256
            specs = {spec.name: spec for spec in self.devices[device]}
            payload = pb.Payload(timestamp=stamp or _now(), seq=self._next())
            for name, value in values.items():
                self.values[device, name] = value
                metric = payload.metrics.add()
                if by_name:
                    metric.name = name
                else:
                    metric.alias = specs[name].alias
                _set(metric, specs[name].datatype, value)
            for name in null:
                payload.metrics.add(alias=specs[name].alias, is_null=True)
            self._publish(self.topic("DDATA", device), payload)

    def ndata(self, values: Mapping[str, float | bool]) -> None:
        with self._lock:
            specs = {spec.name: spec for spec in self.node_metrics}
            payload = pb.Payload(timestamp=_now(), seq=self._next())
            for name, value in values.items():
                self.values[None, name] = value
                metric = payload.metrics.add(alias=specs[name].alias)
                _set(metric, specs[name].datatype, value)
            self._publish(self.topic("NDATA"), payload)

    def ddata_alias(self, device: str, alias: int, value: float) -> None:
        """DDATA with one metric by a raw alias (which may be unknown)."""
        with self._lock:
            payload = pb.Payload(timestamp=_now(), seq=self._next())
            payload.metrics.add(alias=alias, double_value=value)
            self._publish(self.topic("DDATA", device), payload)

    def ddeath(self, device: str) -> None:
        with self._lock:
            payload = pb.Payload(timestamp=_now(), seq=self._next())
            self._publish(self.topic("DDEATH", device), payload)

    def raw(self, topic: str, data: bytes) -> None:
        """Publish bytes as they are (no sequence number is used)."""
        assert self._client is not None
        self._client.publish(topic, data, qos=0).wait_for_publish(5)

    def close(self) -> None:
        """Leave on purpose: NDEATH first, then DISCONNECT."""
        client = self._client
        if client is None:
            return
        if client.is_connected():
            client.publish(self.topic("NDEATH"), self._ndeath(), qos=1).wait_for_publish(5)
            client.disconnect()
        client.loop_stop()
        self._client = None

    def crash(self) -> None:
        """Drop the connection without a DISCONNECT: the broker publishes the will."""
        client = self._client
        if client is None:
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + 5
        while client.is_connected() and time.monotonic() < deadline:
            time.sleep(0.01)
        client.disconnect()
        client.loop_stop()
        self._client = None

    def wait_rebirths(self, count: int, timeout: float = 10.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: self.seen.rebirths >= count, timeout):
                raise AssertionError(f"{self.seen.rebirths} rebirth requests, not {count}")

    def wait_state(self, online: bool, timeout: float = 10.0) -> dict[str, object]:
        def found() -> dict[str, object] | None:
            return next((s for s in self.seen.states if s.get("online") is online), None)

        with self._changed:
            if not self._changed.wait_for(lambda: found() is not None, timeout):
                raise AssertionError(f"no STATE online={online}; seen {self.seen.states}")
            state = found()
            assert state is not None
            return state

    # paho's thread

    def _on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        if message.topic.startswith(f"{NAMESPACE}/STATE/"):
            state = json.loads(message.payload)
            with self._changed:
                self.seen.states.append(state)
            self._notify()
            if state.get("online") is True and not self._born.is_set():
                self.birth()
            return
        command = pb.Payload.FromString(message.payload)
        if any(m.name == REBIRTH and m.boolean_value for m in command.metrics):
            with self._changed:
                self.seen.rebirths += 1
            self.birth()

    # payloads

    def _payload(
        self,
        specs: Sequence[Spec],
        device: str | None,
        *,
        birth: bool,
        with_seq: bool = True,
    ) -> pb.Payload:
        payload = pb.Payload(timestamp=_now())
        if with_seq:
            payload.seq = self._next()
        for spec in specs:
            metric = payload.metrics.add(name=spec.name, alias=spec.alias, datatype=spec.datatype)
            _set(metric, spec.datatype, self.values[device, spec.name])
            if birth:
                _properties(metric, spec)
        return payload

    def _ndeath(self) -> bytes:
        payload = pb.Payload(timestamp=_now())
        metric = payload.metrics.add(name="bdSeq", datatype=pb.Int64)
        metric.long_value = self.bd_seq
        return payload.SerializeToString()

    def _next(self) -> int:
        self.seq = (self.seq + 1) % 256
        return self.seq

    def _publish(self, topic: str, payload: pb.Payload) -> mqtt.MQTTMessageInfo:
        assert self._client is not None
        return self._client.publish(topic, payload.SerializeToString(), qos=0)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()


def _set(metric: pb.Payload.Metric, datatype: int, value: float | bool | str) -> None:
    if datatype == pb.Boolean:
        metric.boolean_value = bool(value)
    elif datatype == pb.Double:
        metric.double_value = float(value)
    elif datatype == pb.Float:
        metric.float_value = float(value)
    elif datatype in (pb.Int8, pb.Int16, pb.Int32):
        metric.int_value = int(value) & 0xFFFFFFFF  # two's complement, 32 bits
    elif datatype in (pb.UInt8, pb.UInt16, pb.UInt32):
        metric.int_value = int(value)
    elif datatype in (pb.Int64, pb.UInt64):
        metric.long_value = int(value) & 0xFFFFFFFFFFFFFFFF
    else:
        metric.string_value = str(value)


def _properties(metric: pb.Payload.Metric, spec: Spec) -> None:
    if spec.unit is not None:
        metric.properties.keys.append("engUnit")
        metric.properties.values.add(type=pb.String, string_value=spec.unit)
    for key, bound in (("engLow", spec.low), ("engHigh", spec.high)):
        if bound is not None:
            metric.properties.keys.append(key)
            metric.properties.values.add(type=pb.Double, double_value=bound)


def _no_delay(client: mqtt.Client, userdata: object, sock: object) -> None:
    """Births go out at once (no TCP delay), so they are on the broker when ``connect`` ends."""
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _now() -> int:
    return int(time.time() * 1000)


def _wait(event: threading.Event, timeout: float, what: str) -> None:
    if not event.wait(timeout):
        raise TimeoutError(f"edge node: no {what} within {timeout} s")
