"""The gateway's link health upstream: the links it knows (connectors with an equipment,
devices its connectors report), sent whole on every change and every reconnection, and
all offline when it stops."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import orjson
import pytest

from hazwatch.connectors.base import Backoff, Health
from hazwatch.connectors.conformance import RecordingLink
from hazwatch.connectors.mqtt import MqttConfig, MqttConnector
from hazwatch.gateway import Gateway
from hazwatch.gateway.config import HttpUpstreamConfig
from hazwatch.gateway.http_upstream import HttpUpstream
from hazwatch.gateway.link_reporter import LinkReporter

Until = Callable[..., Any]
NOW = 1_800_000_000_000
PLC_GW = "gw.site.unit.plc-gw"
PLC1 = "gw.site.unit.plc-1"
PLC2 = "gw.site.unit.plc-2"
LINKS_TOPIC = "hazwatch/v1/gw/links/edge"


def _with_equipment(name: str = "counter") -> list[dict[str, Any]]:
    """A connector entry named like the counting connector, with a status equipment."""
    return [{"kind": "mqtt", "name": name, "client_id": "unused", "equipment": PLC_GW}]


def _gateway(config: Any, counting_connector: Any, upstream: Any = None) -> Gateway:
    return Gateway(
        config,
        lambda link: [counting_connector(link, period_s=0.05)],
        upstream=upstream,
        now=lambda: NOW,
    )


async def test_links_go_on_every_change_and_reconnection_and_all_offline_at_the_end(
    make_config: Any, counting_connector: Any, link_upstream: Any, wait_until: Until
) -> None:
    upstream = link_upstream()
    gateway = _gateway(make_config(connectors=_with_equipment()), counting_connector, upstream)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    try:
        await wait_until(
            lambda: upstream.links and upstream.health_of()[PLC_GW][0] == "online",
            "the connector's own link online",
        )
        assert upstream.links[-1]["ts"] == NOW

        gateway.link.device(PLC1, Health.OFFLINE, "no answer [modbus.timeout]")
        await wait_until(lambda: PLC1 in upstream.health_of(), "the device's link")
        assert upstream.health_of() == {
            PLC_GW: ("online", ""),
            PLC1: ("offline", "no answer [modbus.timeout]"),
        }
        sent = len(upstream.links)

        # the same health again, a key of another enterprise, a key that is no equipment:
        # nothing to send; the next change carries the newest detail
        gateway.link.device(PLC1, Health.OFFLINE, "still no answer [modbus.timeout]")
        gateway.link.device("other.site.unit.plc-1", Health.OFFLINE, "")
        gateway.link.device("gw.site.unit", Health.OFFLINE, "")
        gateway.link.device(PLC2, Health.DEGRADED, "one unit of two")
        await wait_until(lambda: len(upstream.links) > sent, "the next change")
        assert len(upstream.links) == sent + 1
        assert upstream.health_of() == {
            PLC_GW: ("online", ""),
            PLC1: ("offline", "still no answer [modbus.timeout]"),
            PLC2: ("degraded", "one unit of two"),
        }

        upstream.go_offline()
        upstream.go_online()
        await wait_until(lambda: len(upstream.links) > sent + 1, "sent again on reconnection")
        assert upstream.links[-1] == upstream.links[-2]

        status = gateway.status()
        assert status.links[PLC1] is Health.OFFLINE
        assert status.links_sent == len(upstream.links)
        assert "links: 1 online, 2 not" in status.line()
    finally:
        stop.set()
        await task
    final = upstream.health_of()
    assert set(final) == {PLC_GW, PLC1, PLC2}
    assert all(health == ("offline", "gateway edge stopped") for health in final.values())


async def test_without_links_or_with_an_upstream_that_carries_none_nothing_is_sent(
    make_config: Any, counting_connector: Any, link_upstream: Any, fake_upstream: Any
) -> None:
    upstream = link_upstream()
    gateway = _gateway(make_config(), counting_connector, upstream)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    await asyncio.wait_for(gateway.running.wait(), 10)
    stop.set()
    await task
    assert upstream.links == []  # no connector with an equipment, no device

    plain = fake_upstream()
    gateway = _gateway(make_config(connectors=_with_equipment()), counting_connector, plain)
    assert not gateway.reporter.supported
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    await asyncio.wait_for(gateway.running.wait(), 10)
    gateway.link.device(PLC1, Health.OFFLINE, "")
    assert gateway.status().links[PLC1] is Health.OFFLINE  # known, though not sent
    stop.set()
    await task
    assert all("tag" in orjson.loads(body) for body in plain.received)  # readings only


async def test_a_links_message_that_cannot_go_is_sent_later_with_the_state_of_then(
    link_upstream: Any, wait_until: Until
) -> None:
    upstream = link_upstream()
    upstream.fail_links = 2
    reporter = LinkReporter(
        name="edge",
        enterprise="gw",
        upstream=upstream,
        now=lambda: NOW,
        backoff=Backoff(initial=0.01, cap=0.02),
    )
    async with upstream:
        reporter.set(PLC1, Health.OFFLINE, "first")
        task = asyncio.create_task(reporter.run())
        try:
            await wait_until(lambda: upstream.fail_links == 0, "two failed attempts")
            reporter.set(PLC1, Health.ONLINE, "")
            await wait_until(lambda: upstream.links, "a message taken")
            await wait_until(lambda: upstream.health_of()[PLC1][0] == "online", "the newest")
            assert reporter.sent == len(upstream.links)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


# against a broker --------------------------------------------------------------------


def _mqtt(broker: Any) -> dict[str, Any]:
    return {"kind": "mqtt", "host": broker.host, "port": broker.port, "reconnect_max_s": 1}


def _platform_connector(broker: Any, link: RecordingLink) -> MqttConnector:
    config = MqttConfig(
        name="platform",
        port=broker.port,
        client_id=f"platform-{uuid.uuid4().hex[:8]}",
        flush_ms=5,
        connect_timeout_s=5,
    )
    return MqttConnector(config, link.link(), backoff=Backoff(initial=0.05, cap=0.5))


async def _read(connector: MqttConnector) -> None:
    async for _ in connector:
        pass


async def test_links_reach_the_platform_through_a_broker_retained_and_after_its_restart(
    durable_broker: Any,
    subscriber: Any,
    make_config: Any,
    counting_connector: Any,
    wait_until: Until,
) -> None:
    broker = durable_broker
    platform = RecordingLink(open_world=True)
    connector = _platform_connector(broker, platform)
    config = make_config(_mqtt(broker), connectors=_with_equipment())
    gateway = _gateway(config, counting_connector)
    stop = asyncio.Event()
    async with connector:
        reading = asyncio.create_task(_read(connector))
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 20)
        task = asyncio.create_task(gateway.run(stop))
        try:
            await wait_until(lambda: (PLC_GW, Health.ONLINE, "") in platform.devices, "up")
            gateway.link.device(PLC1, Health.OFFLINE, "no answer [modbus.timeout]")
            await wait_until(
                lambda: (PLC1, Health.OFFLINE, "no answer [modbus.timeout]") in platform.devices,
                "the device offline at the platform",
            )
            topic, _, retained = subscriber.links_seen()[-1]
            assert topic == LINKS_TOPIC
            assert not retained  # retained is set only for later subscribers

            await asyncio.to_thread(broker.stop)
            await wait_until(lambda: not gateway.status().online, "the gateway sees the outage")
            seen = len(subscriber.links_seen())
            gateway.link.device(PLC1, Health.ONLINE, "")  # while the broker is away
            await asyncio.to_thread(broker.start)
            await wait_until(
                lambda: (PLC1, Health.ONLINE, "") in platform.devices,
                "the change made while away, at the platform",
            )
            await wait_until(
                lambda: len(subscriber.links_seen()) > seen, "sent again on reconnection"
            )
            assert platform.devices.count((PLC1, Health.ONLINE, "")) == 1
            assert platform.refused == []
        finally:
            stop.set()
            await task
    await reading

    # a subscriber that comes later finds the last state, retained: all offline, stopped
    late = await asyncio.to_thread(_retained, broker.host, broker.port, LINKS_TOPIC)
    assert {e["equipment"]: e["health"] for e in late["links"]} == {
        PLC_GW: "offline",
        PLC1: "offline",
    }


async def test_a_gateway_that_vanishes_leaves_its_links_offline_by_its_last_will(
    broker: Any, make_config: Any, counting_connector: Any, wait_until: Until
) -> None:
    platform = RecordingLink(open_world=True)
    connector = _platform_connector(broker, platform)
    gateway = _gateway(make_config(_mqtt(broker), connectors=_with_equipment()), counting_connector)
    stop = asyncio.Event()
    async with connector:
        reading = asyncio.create_task(_read(connector))
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 20)
        task = asyncio.create_task(gateway.run(stop))
        try:
            gateway.link.device(PLC1, Health.ONLINE, "")
            await wait_until(lambda: (PLC1, Health.ONLINE, "") in platform.devices, "up")
            await wait_until(lambda: gateway.status().links_sent >= 1, "links sent")
            # the link to the broker breaks without a word (a crash, a cut cable): the broker
            # publishes the gateway's will, and every link it knows is offline
            sock = gateway.upstream._client.socket()  # type: ignore[attr-defined]
            sock.shutdown(socket.SHUT_RDWR)

            def lost(key: str) -> bool:
                return any(
                    k == key and h is Health.OFFLINE and "lost its connection" in d
                    for k, h, d in platform.devices
                )

            await wait_until(lambda: lost(PLC1) and lost(PLC_GW), "the will at the platform")
            # the gateway reconnects by itself and says how things are again
            await wait_until(
                lambda: (
                    platform.devices[-1][1] is Health.ONLINE
                    and platform.devices.count((PLC1, Health.ONLINE, "")) == 2
                ),
                "back online after the reconnection",
            )
        finally:
            stop.set()
            await task
    await reading


def _retained(host: str, port: int, topic: str, timeout: float = 10.0) -> Any:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    got: list[bytes] = []
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.on_message = lambda c, u, m: got.append(bytes(m.payload)) if m.retain else None
    client.connect(host, port)
    client.loop_start()
    try:
        deadline = time.monotonic() + timeout
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        client.disconnect()
        client.loop_stop()
        client._reset_sockets()
    assert got, f"no retained message on {topic}"
    return orjson.loads(got[-1])


# over HTTP ---------------------------------------------------------------------------


def _http_upstream(answer: Callable[[httpx.Request], httpx.Response]) -> HttpUpstream:
    config = HttpUpstreamConfig.model_validate(
        {"kind": "http", "url": "http://platform.test/", "api_key": "hzk_key", "timeout_s": 1}
    )
    return HttpUpstream(config, transport=httpx.MockTransport(answer))


async def test_over_http_links_are_posted_as_they_are_and_answers_sorted() -> None:
    posted: list[httpx.Request] = []
    body = orjson.dumps({"ts": NOW, "links": [{"equipment": PLC1, "health": "offline"}]})

    def answer(status: int) -> Callable[[httpx.Request], httpx.Response]:
        def handle(request: httpx.Request) -> httpx.Response:
            posted.append(request)
            return httpx.Response(status, json={"detail": f"answer {status}"})

        return handle

    async with _http_upstream(answer(202)) as upstream:
        assert (await upstream.publish_links(body)).ok
    assert str(posted[0].url) == "http://platform.test/api/v1/links"
    assert posted[0].headers["X-API-Key"] == "hzk_key"
    assert posted[0].content == body
    assert upstream.links_posted == 1

    async with _http_upstream(answer(403)) as upstream:
        refused = await upstream.publish_links(body)
    assert (refused.ok, refused.code, refused.detail) == (False, "http.403", "answer 403")

    for status in (401, 503):
        async with _http_upstream(answer(status)) as upstream:
            with pytest.raises(ConnectionError, match=f"HTTP {status}"):
                await upstream.publish_links(body)

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with _http_upstream(unreachable) as upstream:
        with pytest.raises(ConnectionError, match="ConnectError"):
            await upstream.publish_links(body)


@pytest.mark.slow
async def test_over_http_the_platform_makes_status_tags_of_the_links(
    platform_server: Any, make_config: Any, counting_connector: Any, wait_until: Until
) -> None:
    server = platform_server
    upstream = {"kind": "http", "url": server.url, "api_key": server.api_key, "timeout_s": 5}
    gateway = _gateway(make_config(upstream, connectors=_with_equipment()), counting_connector)
    stop = asyncio.Event()
    task = asyncio.create_task(gateway.run(stop))
    statuses = (f"{PLC_GW}.link-status", f"{PLC1}.link-status")
    try:
        gateway.link.device(PLC1, Health.OFFLINE, "no answer [modbus.timeout]")
        await wait_until(
            lambda: (
                {(t, v) for t, _, v in server.stored(statuses)}
                >= {(statuses[0], 0.0), (statuses[1], 2.0)}
            ),
            "both status tags written: the connector online, the device offline",
            every=0.1,
        )
        assert gateway.reporter.refused == 0
    finally:
        stop.set()
        await task


def test_the_links_topic_is_kept_for_link_health(make_config: Any) -> None:
    from hazwatch.gateway import GatewayConfigError, parse_gateway_config

    config = make_config()
    assert config.links_topic == LINKS_TOPIC
    data = config.model_dump(mode="json")
    data["upstream"]["topic"] = "hazwatch/v1/gw/links/readings"
    with pytest.raises(GatewayConfigError, match=r"upstream\.topic: .*link health"):
        parse_gateway_config(data, source="gateway.yaml")
