"""Forwarding to an MQTT broker: MQTT v5, QoS 1 (or 2), a persistent session.

The client id is fixed and the session outlives a disconnection (``clean_start`` false,
a session expiry), so the broker keeps its side while the gateway is away. A message is
delivered when its PUBACK (PUBCOMP for QoS 2) arrives with a success code; until then the
client keeps it and resends it, in order, after reconnecting. A PUBACK with a failure code
(such as 0x87, not authorized) is a refusal. The client reconnects by itself with a
capped backoff; ``health`` follows the connection.

Links messages (``publish_links``) go on the links topic, retained and at QoS 1, so that a
subscriber that comes later finds the current state; their acknowledgements are tracked
like those of readings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from types import TracebackType
from typing import Any, Self

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from hazwatch.connectors.base import Health, HealthState
from hazwatch.connectors.mqtt.links import last_will, links_topic
from hazwatch.gateway.config import MqttUpstreamConfig
from hazwatch.gateway.upstream import Delivery

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 1


class MqttUpstream:
    """Publishes messages on one topic of a broker (see the module docstring)."""

    def __init__(
        self,
        config: MqttUpstreamConfig,
        *,
        topic: str,
        client_id: str,
        links_topic: str | None = None,
    ) -> None:
        self.config = config
        self.topic = topic
        self.client_id = client_id
        self.links_topic = links_topic or _links_topic_for(topic)
        """where links messages go; by default hazwatch/v1/<enterprise>/links/<the topic's
        last level> (the gateway's name, for its default topic)"""
        self.name = f"mqtt://{config.host}:{config.port}/{topic}"
        self.health = HealthState()
        self.max_in_flight = config.max_in_flight
        self.outages = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending: dict[int, asyncio.Future[Delivery]] = {}
        self._early: dict[int, ReasonCode] = {}
        self._client = self._make_client()
        self.set_will(last_will(int(time.time() * 1000), self.links_topic.rsplit("/", 1)[-1], ()))

    def set_will(self, body: bytes) -> None:
        """The links message the broker publishes (retained) if this gateway vanishes without
        a word; it takes effect at the next connection."""
        self._client.will_set(self.links_topic, body, qos=1, retain=True)

    def _make_client(self) -> mqtt.Client:
        client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5,
        )
        if self.config.username is not None:
            password = self.config.password.get_secret_value() if self.config.password else None
            client.username_pw_set(self.config.username, password)
        if self.config.tls:
            client.tls_set(ca_certs=str(self.config.ca_file) if self.config.ca_file else None)
        client.max_inflight_messages_set(self.max_in_flight)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(RECONNECT_MIN_S, self.config.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_publish = self._on_publish
        return client

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = self.config.session_expiry_s
        self._client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive_s,
            clean_start=False,
            properties=props,
        )
        self._client.loop_start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self._stop)
        with self._lock:
            pending = list(self._pending.values())
            self._pending.clear()
        for future in pending:
            future.cancel()
        self.health.set(Health.OFFLINE, "closed")

    def _stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    async def ready(self) -> None:
        await self.health.wait_for(Health.ONLINE)

    def submit(self, body: bytes) -> asyncio.Future[Delivery]:
        return self._publish(self.topic, body, qos=self.config.qos, retain=False)

    def publish_links(self, body: bytes) -> asyncio.Future[Delivery]:
        """Publish a links message: retained, at QoS 1 — so the broker keeps it for the
        platform even when nobody subscribes yet."""
        sent = self._publish(self.links_topic, body, qos=1, retain=True)
        kept: asyncio.Future[Delivery] = asyncio.get_running_loop().create_future()

        def settle(done: asyncio.Future[Delivery]) -> None:
            if done.cancelled():
                kept.cancel()
            elif isinstance(done.exception(), NoSubscribersError):
                kept.set_result(Delivery(ok=True))
            elif (error := done.exception()) is not None:
                kept.set_exception(error)
            else:
                kept.set_result(done.result())

        sent.add_done_callback(settle)
        return kept

    def _publish(
        self, topic: str, body: bytes, *, qos: int, retain: bool
    ) -> asyncio.Future[Delivery]:
        loop = self._loop or asyncio.get_running_loop()
        future: asyncio.Future[Delivery] = loop.create_future()
        try:
            info = self._client.publish(topic, body, qos=qos, retain=retain)
        except ValueError as exc:  # paho refuses a payload it cannot send (too large)
            future.set_result(Delivery(ok=False, code="mqtt.payload", detail=str(exc)))
            return future
        if info.rc not in (MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_NO_CONN):
            # not taken by the client at all: nothing was sent, so a later try may work
            future.set_exception(ConnectionError(f"publish failed: {mqtt.error_string(info.rc)}"))
            return future
        with self._lock:
            early = self._early.pop(info.mid, None)
            if early is None:
                self._pending[info.mid] = future
        if early is not None:
            _resolve(future, early)
        return future

    # paho's network thread ---------------------------------------------------------------

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> None:
        with self._lock:
            future = self._pending.pop(mid, None)
            if future is None:
                self._early[mid] = reason_code
                return
        self._call(_resolve, future, reason_code)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            detail = f"broker refused the connection: {reason_code} [mqtt.{reason_code.value}]"
            self._call(self._went, Health.OFFLINE, detail)
            return
        self._call(
            self._went, Health.ONLINE, f"connected, session present: {flags.session_present}"
        )

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._call(self._went, Health.OFFLINE, f"disconnected: {reason_code}")

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        detail = f"cannot connect to {self.config.host}:{self.config.port}"
        self._call(self._went, Health.OFFLINE, detail)

    def _call(self, func: Any, *args: Any) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(func, *args)

    def _went(self, state: Health, detail: str) -> None:
        if state is self.health.state and detail == self.health.detail:
            return
        if state is Health.OFFLINE and self.health.state is not Health.OFFLINE:
            self.outages += 1
        if state is Health.ONLINE:
            log.info("upstream %s online (%s)", self.name, detail)
        else:
            log.warning("upstream %s %s (%s)", self.name, state, detail)
        self.health.set(state, detail)


def _links_topic_for(topic: str) -> str:
    levels = topic.split("/")
    enterprise = levels[2] if len(levels) > 2 else ""
    return links_topic(enterprise, levels[-1])


NO_MATCHING_SUBSCRIBERS = 0x10


class NoSubscribersError(ConnectionError):
    """The broker took the message but nobody subscribes to it (PUBACK 0x10): nobody has it."""


def _resolve(future: asyncio.Future[Delivery], code: ReasonCode) -> None:
    """Settle a message by its PUBACK. "No matching subscribers" is not a delivery: the
    platform has not subscribed yet (or again, after a broker restart forgot a shared
    subscription), so the message goes back to the queue and is sent again later."""
    if future.done():
        return
    if code.value == NO_MATCHING_SUBSCRIBERS:
        future.set_exception(NoSubscribersError(f"nobody subscribes yet [mqtt.{code.value}]"))
    elif code.is_failure:
        detail = f"broker refused: {code}"
        future.set_result(Delivery(ok=False, code=f"mqtt.{code.value}", detail=detail))
    else:
        future.set_result(Delivery(ok=True))
