"""The MQTT connector against a real broker: persistent sessions, shared subscriptions,
a broker that goes away, acknowledgement after hand-over, large messages."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from waiting import until as _until

from hazwatch.connectors.base import ConnectError, Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.mqtt import MqttConnector
from hazwatch.connectors.mqtt.leanprops import LeanProperties, install
from hazwatch.connectors.registry import build_connector, parse_connector_config

TIMEOUT = 20.0


async def _online(connector: MqttConnector) -> None:
    await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)


def _values(reader: Reader) -> list[float]:
    return [v for batch in reader.batches for v in batch.value.tolist()]


async def test_messages_published_while_the_connector_is_away_arrive_once(
    broker: Any, kit: Any
) -> None:
    settings = kit.config(broker.port)
    link = RecordingLink(kit.KEYS)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        await asyncio.to_thread(
            kit.publish_all, broker.host, broker.port, [(kit.TOPIC, kit.single(kit.KEYS[0], -1))]
        )
        await _until(lambda: _values(reader) == [-1.0], "the first reading")
    await reader.ended()

    count = 300
    away = [(kit.TOPIC, kit.single(kit.KEYS[i % 3], float(i))) for i in range(count)]
    codes = await asyncio.to_thread(kit.publish_all, broker.host, broker.port, away)
    assert all(code is not None and not code.is_failure for code in codes)

    link = RecordingLink(kit.KEYS)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        assert connector.session_present
        await _until(lambda: len(_values(reader)) >= count, f"{count} readings")
        await asyncio.sleep(0.3)  # time for any duplicate to show
    assert sorted(_values(reader)) == [float(i) for i in range(count)]


async def test_two_connectors_of_one_group_share_the_stream_without_loss_or_duplicates(
    broker: Any, kit: Any
) -> None:
    links = [RecordingLink(kit.KEYS), RecordingLink(kit.KEYS)]
    connectors = [
        MqttConnector(
            kit.config(broker.port, name=f"ingest-{i}", share_group="hazwatch"),
            link.link(),
            backoff=kit.fast_backoff(),
        )
        for i, link in enumerate(links)
    ]
    async with connectors[0], connectors[1]:
        readers = [Reader(c, link) for c, link in zip(connectors, links, strict=True)]
        for connector in connectors:
            await _online(connector)
        count = 600
        messages = [(kit.TOPIC, kit.single(kit.KEYS[0], float(i))) for i in range(count)]
        await asyncio.to_thread(kit.publish_all, broker.host, broker.port, messages)
        await _until(
            lambda: sum(len(_values(r)) for r in readers) >= count, f"{count} readings in all"
        )
        await asyncio.sleep(0.3)
    parts = [_values(r) for r in readers]
    assert sorted(parts[0] + parts[1]) == [float(i) for i in range(count)]
    assert parts[0] and parts[1], "one connector got the whole stream"


async def test_a_plain_subscription_when_no_share_group(broker: Any, kit: Any) -> None:
    link = RecordingLink(kit.KEYS)
    settings = kit.config(broker.port, share_group=None, qos=0)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        await asyncio.to_thread(
            kit.publish_all, broker.host, broker.port, [(kit.TOPIC, kit.single(kit.KEYS[1], 7))]
        )
        await reader.until({kit.KEYS[1]: 7.0})


class _Stream:
    """Publishes one reading every few milliseconds through broker restarts; remembers
    when each value was handed to the client."""

    def __init__(self, host: str, port: int, message: Callable[[float], tuple[str, bytes]]) -> None:
        self.sent: list[tuple[float, float]] = []
        self._message = message
        self._stop = threading.Event()
        self._client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        self._client.reconnect_delay_set(min_delay=1, max_delay=1)
        self._client.connect_async(host, port)
        self._client.loop_start()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        value = 0.0
        while not self._stop.wait(0.005):
            if self._client.is_connected():
                value += 1
                self.sent.append((time.monotonic(), value))
                self._client.publish(*self._message(value), qos=1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._client.disconnect()
        self._client.loop_stop()


async def test_recovers_by_itself_when_the_broker_restarts_mid_stream(
    broker: Any, kit: Any
) -> None:
    link = RecordingLink(kit.KEYS)
    async with MqttConnector(kit.config(broker.port), link.link(), backoff=kit.fast_backoff()) as c:
        reader = Reader(c, link)
        await _online(c)
        stream = _Stream(
            broker.host, broker.port, lambda v: (kit.TOPIC, kit.single(kit.KEYS[2], v))
        )
        try:
            await _until(lambda: len(_values(reader)) >= 20, "readings before the restart")
            await asyncio.to_thread(broker.stop)
            await asyncio.wait_for(c.health.wait_for(Health.OFFLINE, Health.CONNECTING), TIMEOUT)
            assert isinstance(c.last_error, ConnectError)
            assert c.last_error.code.startswith("mqtt."), c.last_error
            await asyncio.to_thread(broker.start)
            await _online(c)
            back = time.monotonic()
            await _until(
                lambda: any(t > back + 0.2 for t, _ in stream.sent), "publishing after restart"
            )
            after = [v for t, v in stream.sent if t > back]
            await _until(
                lambda: set(after) <= set(_values(reader)), "every reading sent after recovery"
            )
        finally:
            await asyncio.to_thread(stream.close)
    assert c.errors >= 1


async def test_a_large_message_is_split_into_batches_of_the_configured_size(
    broker: Any, kit: Any
) -> None:
    keys = [f"lpg.main.farm.tk-{i}.level" for i in range(250)]
    link = RecordingLink(keys)
    settings = kit.config(broker.port, max_readings_per_batch=100)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        body = orjson.dumps(
            {"tag": keys, "ts": [1_800_000_000_000] * 250, "value": list(range(250))}
        )
        await asyncio.to_thread(kit.publish_all, broker.host, broker.port, [(kit.TOPIC, body)])
        await _until(lambda: len(_values(reader)) >= 250, "250 readings")
    assert [len(b) for b in reader.batches] == [100, 100, 50]
    assert _values(reader) == [float(i) for i in range(250)]
    assert connector.messages == 1
    assert connector.readings == 250


async def test_messages_not_handed_on_are_not_acknowledged(broker: Any, kit: Any) -> None:
    """At QoS 1 a message counts as received only once its readings were emitted: with
    nobody reading the connector, the broker keeps what it could not hand over."""
    settings = kit.config(broker.port)
    link = RecordingLink(kit.KEYS)
    connector = MqttConnector(settings, link.link(), backoff=kit.fast_backoff())
    connector._queue = asyncio.Queue(maxsize=1)  # one batch fits; the next one waits
    async with connector:
        await _online(connector)
        first = [(kit.TOPIC, kit.single(kit.KEYS[0], 1.0))]
        await asyncio.to_thread(kit.publish_all, broker.host, broker.port, first)
        await _until(lambda: connector.messages == 1, "the first message")
        rest = [(kit.TOPIC, kit.single(kit.KEYS[0], 2.0 + i)) for i in range(5)]
        await asyncio.to_thread(kit.publish_all, broker.host, broker.port, rest)
        await _until(lambda: connector.messages >= 2, "the other messages")
        # The next batch waits for room in the queue, the messages after it in the inbox;
        # none of them is acknowledged, so the broker sends them again to the next session.
    assert [b.value.tolist() async for b in connector] == [[1.0]]
    link = RecordingLink(kit.KEYS)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        await reader.until({kit.KEYS[0]: 6.0})
        await asyncio.sleep(0.2)
    assert sorted(_values(reader)) == [2.0, 3.0, 4.0, 5.0, 6.0]


async def test_the_connector_is_built_from_settings_by_kind(broker: Any, kit: Any) -> None:
    settings = parse_connector_config(
        {"kind": "mqtt", "name": "plant", "port": broker.port, "client_id": "hazwatch-reg-1"}
    )
    link = RecordingLink(kit.KEYS)
    connector = build_connector(settings, link.link())
    assert isinstance(connector, MqttConnector)
    async with connector:
        await _online(connector)


async def test_an_unreachable_broker_is_reported_with_the_socket_error(kit: Any) -> None:
    from socket import socket

    with socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, not listening: connections are refused
        link = RecordingLink(kit.KEYS)
        connector = MqttConnector(kit.config(port), link.link(), backoff=kit.fast_backoff())
        async with connector:
            await _until(lambda: connector.errors >= 1, "a failed attempt")
            assert connector.health.state is not Health.ONLINE
    assert connector.last_error is not None
    assert connector.last_error.code == "socket.ECONNREFUSED"


def test_lean_properties_decode_like_paho(broker: Any, kit: Any) -> None:
    """The stand-in for paho's Properties leaves MQTT v5 properties intact."""
    assert install()
    got: list[paho.MQTTMessage] = []
    arrived = threading.Event()

    def on_message(_c: object, _u: object, message: paho.MQTTMessage) -> None:
        got.append(message)
        if len(got) == 2:
            arrived.set()

    subscribed = threading.Event()
    sub = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    sub.on_message = on_message
    sub.on_subscribe = lambda *_: subscribed.set()
    sub.connect(broker.host, broker.port)
    sub.loop_start()
    try:
        sub.subscribe(kit.TOPIC, qos=1)
        assert subscribed.wait(5)
        publisher = kit.Publisher(broker.host, broker.port)
        try:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.UserProperty = ("site", "main")
            properties.MessageExpiryInterval = 60
            publisher.client.publish(kit.TOPIC, b"with", qos=1, properties=properties)
            publisher.publish(kit.TOPIC, b"without")
        finally:
            publisher.close()
        assert arrived.wait(5)
    finally:
        sub.disconnect()
        sub.loop_stop()
    with_props, without = got
    assert isinstance(with_props.properties, LeanProperties)
    assert getattr(with_props.properties, "UserProperty", None) == [("site", "main")]
    assert 0 < getattr(with_props.properties, "MessageExpiryInterval", 0) <= 60
    assert without.payload == b"without"
    assert isinstance(without.properties, LeanProperties)
    assert not hasattr(without.properties, "UserProperty")


@pytest.mark.parametrize("qos", [0, 1])
async def test_refused_input_becomes_dead_letters_and_the_rest_is_read(
    broker: Any, kit: Any, qos: int
) -> None:
    link = RecordingLink(kit.KEYS)
    settings = kit.config(broker.port, qos=qos)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        messages = [
            (kit.TOPIC, b"\xff\xfe not JSON"),
            (kit.TOPIC, kit.single("acme.main.farm.tk-1.level", 1)),  # not an lpg key
            (
                kit.TOPIC,
                orjson.dumps({"tag": [kit.KEYS[0], "lpg.x.y.z.unknown"], "ts": 1, "value": [1, 2]}),
            ),
        ]
        await asyncio.to_thread(kit.publish_all, broker.host, broker.port, messages, qos)
        await reader.until({kit.KEYS[0]: 1.0})
        await _until(lambda: len(link.refused) >= 3, "three dead letters")
    reasons = sorted(letter.reason for letter in link.refused)
    assert reasons == ["forbidden", "malformed", "unknown_tag"]
    assert all(letter.source == "mqtt:test" for letter in link.refused)


async def test_tls_with_the_brokers_ca(tls_broker: Any, kit: Any) -> None:
    broker, ca_file = tls_broker
    link = RecordingLink(kit.KEYS)
    settings = kit.config(broker.port, tls=True, ca_file=ca_file)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        tls_publisher = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        tls_publisher.tls_set(ca_certs=str(ca_file))
        tls_publisher.connect(broker.host, broker.port)
        tls_publisher.loop_start()
        try:
            info = tls_publisher.publish(kit.TOPIC, kit.single(kit.KEYS[0], 42.0), qos=1)
            await asyncio.to_thread(info.wait_for_publish, 5)
        finally:
            tls_publisher.disconnect()
            tls_publisher.loop_stop()
        await reader.until({kit.KEYS[0]: 42.0})


async def test_an_untrusted_certificate_is_a_setting_to_fix(tls_broker: Any, kit: Any) -> None:
    broker, _ = tls_broker
    settings = kit.config(broker.port, tls=True)  # the system's CAs do not know the test CA
    connector = MqttConnector(settings, RecordingLink(kit.KEYS).link(), backoff=kit.fast_backoff())
    async with connector:
        await _until(lambda: connector.errors >= 1, "a refused handshake")
    assert isinstance(connector.last_error, ConnectError)
    assert connector.last_error.code == "tls.CERTIFICATE_VERIFY_FAILED"
    assert not connector.last_error.retryable


@pytest.mark.slow
async def test_an_idle_connection_is_kept_alive(broker: Any, kit: Any) -> None:
    """The network thread sends keep-alive pings while nothing arrives (the broker drops a
    client silent for 1.5 keep-alive periods)."""
    link = RecordingLink(kit.KEYS)
    settings = kit.config(broker.port, keepalive_s=5)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _online(connector)
        await asyncio.sleep(13)
        assert connector.errors == 0
        assert connector.health.state is Health.ONLINE
        await asyncio.to_thread(
            kit.publish_all, broker.host, broker.port, [(kit.TOPIC, kit.single(kit.KEYS[0], 5))]
        )
        await reader.until({kit.KEYS[0]: 5.0})
