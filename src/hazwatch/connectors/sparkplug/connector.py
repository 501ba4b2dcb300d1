"""The Sparkplug B connector: a Sparkplug host application reading edge nodes over MQTT.

One connection's life (``session``): connect to the broker with the host's STATE death as
will (when ``host_id`` is set), subscribe ``spBv1.0/<group>/#`` for every configured group
and the host's own STATE topic, publish the STATE birth (retained), then read. Leaving on
purpose publishes the STATE death first. A STATE death of this host seen while connected
(the will of an earlier connection, delivered late) is answered with the birth again.

Messages are taken from paho's network thread as they come and handed to the event loop
in batches: the callback only appends to a list (and wakes the loop when the list was
empty). When the list holds ``PENDING_MAX`` messages the callback waits, so a reader that
falls behind slows the socket instead of growing memory. QoS 1 messages are acknowledged
once their readings are handed on, so with MQTT 5 the broker never has more than
``receive_maximum`` of them on the way.

The meaning of the messages (births, aliases, sequence numbers, deaths) is ``session``'s;
this module turns its outcome into effects: new tags are declared through the link, keys
resolved to ids, readings emitted as one batch per run of messages, device health reported
by equipment key, rebirths requested by NCMD ``Node Control/Rebirth``.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import threading
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from hazwatch.connectors.base import (
    AuthError,
    Backoff,
    ConnectError,
    ConnectorBase,
    Health,
    Link,
    ProtocolError,
)
from hazwatch.connectors.sparkplug import codec, state
from hazwatch.connectors.sparkplug.config import SparkplugConfig
from hazwatch.connectors.sparkplug.session import Host, Outcome
from hazwatch.connectors.sparkplug.topic import command_topic, group_filter, state_topic
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import Millis
from hazwatch.domain.reject import DeadLetter, RejectReason

log = logging.getLogger(__name__)

PENDING_MAX = 10_000
"""Messages waiting for the event loop before paho's thread waits too."""
_AUTH_CODES = frozenset({134, 135})  # bad user name or password; not authorized
_LEAVE_TIMEOUT_S = 2.0


class _Wire:
    """The meeting point of paho's thread and the event loop for one connection."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.ready = asyncio.Event()
        self.connack: asyncio.Future[ReasonCode] = loop.create_future()
        self.lost: str | None = None
        self.lost_code = ""
        self.connected = False
        self._subacks: dict[int, asyncio.Future[list[ReasonCode]]] = {}
        self._pending: list[mqtt.MQTTMessage] = []
        self._room = threading.Condition()
        self._closing = False

    # paho's thread

    def on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self._connected, code)

    def on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self._lose, code)

    def on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self.loop.call_soon_threadsafe(self._subscribed, mid, codes)

    def on_message(self, client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._room:
            while len(self._pending) >= PENDING_MAX and not self._closing:
                self._room.wait(1.0)
            self._pending.append(message)
            first = len(self._pending) == 1
        if first:
            self.loop.call_soon_threadsafe(self.ready.set)

    # the event loop

    def take(self) -> list[mqtt.MQTTMessage]:
        with self._room:
            taken, self._pending = self._pending, []
            self.ready.clear()
            self._room.notify_all()
        return taken

    def close(self) -> None:
        """Release paho's thread if it waits for room."""
        with self._room:
            self._closing = True
            self._room.notify_all()

    def suback(self, mid: int) -> asyncio.Future[list[ReasonCode]]:
        future = self._subacks[mid] = self.loop.create_future()
        return future

    def _connected(self, code: ReasonCode) -> None:
        self.connected = not code.is_failure
        if not self.connack.done():
            self.connack.set_result(code)

    def _lose(self, code: ReasonCode) -> None:
        self.lost = str(code)
        self.lost_code = f"mqtt.{code.value}"
        if not self.connack.done():
            self.connack.set_exception(
                ConnectError(f"the broker closed the connection: {code}", code=self.lost_code)
            )
        for future in self._subacks.values():
            if not future.done():
                future.set_exception(ConnectError("lost before SUBACK", code=self.lost_code))
        self.ready.set()

    def _subscribed(self, mid: int, codes: list[ReasonCode]) -> None:
        future = self._subacks.pop(mid, None)
        if future is not None and not future.done():
            future.set_result(codes)


class SparkplugConnector(ConnectorBase):
    """Readings of the edge nodes of ``config.groups``, as a Sparkplug host application."""

    def __init__(
        self, config: SparkplugConfig, link: Link, *, backoff: Backoff | None = None
    ) -> None:
        super().__init__(config.name, link, backoff=backoff)
        self.config = config
        self.host = Host(
            config.groups,
            source=config.name,
            rebirth_on_gap=config.rebirth_on_gap,
            rebirth_interval_ms=round(config.rebirth_interval_s * 1000),
        )
        self.rebirths_requested = 0
        self._ids: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self._declared: set[int] = set()  # declared since their birth, yet not resolved

    # one connection

    async def session(self) -> None:
        wire = _Wire(asyncio.get_running_loop())
        connected_at = self.link.now()
        client = self._client(wire, connected_at)
        connecting: asyncio.Future[object] | None = None
        try:
            connecting = asyncio.get_running_loop().run_in_executor(
                None, functools.partial(self._connect, client)
            )
            await self._connack(client, wire, connecting)
            detail = await self._subscribe(client, wire)
            self._announce(client, connected_at)
            self.online(f"{self.config.host}:{self.config.port}")
            if detail:
                self.health.set(Health.DEGRADED, detail)
            await self._read(client, wire, connected_at)
        finally:
            await self._close(client, wire, connecting)

    def _client(self, wire: _Wire, connected_at: Millis) -> mqtt.Client:
        cfg = self.config
        v5 = cfg.mqtt_version == "5"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.mqtt_client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else cfg.clean_start,
            manual_ack=True,
            reconnect_on_failure=False,  # the base class reconnects, with its backoff
        )
        client.on_connect = wire.on_connect
        client.on_disconnect = wire.on_disconnect
        client.on_subscribe = wire.on_subscribe
        client.on_message = wire.on_message
        client.on_socket_open = _no_delay
        client.connect_timeout = cfg.connect_timeout_s
        if cfg.username is not None:
            password = cfg.password.get_secret_value() if cfg.password is not None else None
            client.username_pw_set(cfg.username, password)
        if cfg.tls:
            client.tls_set(ca_certs=str(cfg.ca_file) if cfg.ca_file is not None else None)
        if cfg.host_id is not None:
            death = state.encode(False, connected_at)
            client.will_set(state_topic(cfg.host_id), death, qos=1, retain=True)
        return client

    def _connect(self, client: mqtt.Client) -> None:
        """Open the connection and start paho's thread (blocking: run in an executor)."""
        cfg = self.config
        if cfg.mqtt_version == "5":
            properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            properties.SessionExpiryInterval = 0 if cfg.clean_start else cfg.session_expiry_s
            properties.ReceiveMaximum = cfg.receive_maximum
            client.connect(
                cfg.host,
                cfg.port,
                cfg.keepalive_s,
                clean_start=cfg.clean_start,
                properties=properties,
            )
        else:
            client.connect(cfg.host, cfg.port, cfg.keepalive_s)
        client.loop_start()

    async def _connack(
        self, client: mqtt.Client, wire: _Wire, connecting: asyncio.Future[object]
    ) -> None:
        cfg = self.config
        where = f"{cfg.host}:{cfg.port}"
        try:
            await asyncio.shield(connecting)  # cancelled, ``_close`` still waits for it
        except OSError as exc:
            raise ConnectError(
                f"cannot reach the broker at {where}: {exc}", code=type(exc).__name__
            ) from exc
        try:
            code = await asyncio.wait_for(wire.connack, cfg.connect_timeout_s)
        except TimeoutError:
            raise ConnectError(
                f"the broker at {where} did not answer within {cfg.connect_timeout_s} s",
                code="mqtt.timeout",
            ) from None
        if code.is_failure:
            kind = AuthError if code.value in _AUTH_CODES else ConnectError
            message = f"the broker at {where} refused the connection: {code}"
            raise kind(message, code=f"mqtt.{code.value}")

    async def _subscribe(self, client: mqtt.Client, wire: _Wire) -> str:
        """Subscribe; return what was refused (empty when nothing was)."""
        cfg = self.config
        topics = [group_filter(group) for group in cfg.groups]
        if cfg.host_id is not None:
            topics.append(state_topic(cfg.host_id))
        if cfg.mqtt_version == "5":
            result, mid = client.subscribe([(t, SubscribeOptions(qos=cfg.qos)) for t in topics])
        else:
            levels: list[tuple[str, int]] = [(t, cfg.qos) for t in topics]
            result, mid = client.subscribe(levels)
        if result != mqtt.MQTT_ERR_SUCCESS or mid is None:
            message = f"cannot subscribe: {mqtt.error_string(result)}"
            raise ConnectError(message, code=f"mqtt.{result}")
        try:
            codes = await asyncio.wait_for(wire.suback(mid), cfg.connect_timeout_s)
        except TimeoutError:
            raise ConnectError("the broker did not answer SUBSCRIBE", code="mqtt.timeout") from None
        refused = [(t, c) for t, c in zip(topics, codes, strict=False) if c.is_failure]
        if sum(1 for t, _ in refused if t.endswith("/#")) == len(cfg.groups):
            code = refused[0][1]
            message = f"the broker refused every group's subscription ({code})"
            if code.value in _AUTH_CODES:
                raise AuthError(message, code=f"mqtt.{code.value}")
            raise ProtocolError(message, code=f"mqtt.{code.value}")
        return "; ".join(f"subscription {t} refused: {c}" for t, c in refused)

    def _announce(self, client: mqtt.Client, connected_at: Millis) -> None:
        """Publish the STATE birth: this host application is online."""
        host_id = self.config.host_id
        if host_id is not None:
            birth = state.encode(True, connected_at)
            client.publish(state_topic(host_id), birth, qos=1, retain=True)

    async def _read(self, client: mqtt.Client, wire: _Wire, connected_at: Millis) -> None:
        while True:
            await wire.ready.wait()
            messages = wire.take()
            if messages:
                await self._handle(client, wire, messages, connected_at)
            if wire.lost is not None:
                raise ConnectError(f"lost the broker: {wire.lost}", code=wire.lost_code)

    async def _close(
        self, client: mqtt.Client, wire: _Wire, connecting: asyncio.Future[object] | None
    ) -> None:
        wire.close()
        if connecting is not None and not connecting.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(connecting)
        death: mqtt.MQTTMessageInfo | None = None
        if wire.connected and wire.lost is None and self.config.host_id is not None:
            topic = state_topic(self.config.host_id)
            body = state.encode(False, self.link.now())
            death = client.publish(topic, body, qos=1, retain=True)
        await asyncio.to_thread(_leave, client, death)

    # messages

    async def _handle(
        self,
        client: mqtt.Client,
        wire: _Wire,
        messages: Sequence[mqtt.MQTTMessage],
        connected_at: Millis,
    ) -> None:
        now = self.link.now()
        own_state = None if self.config.host_id is None else state_topic(self.config.host_id)
        pairs: list[tuple[str, bytes]] = []
        for message in messages:
            topic = _topic(message)
            if topic == own_state:
                seen = state.decode(bytes(message.payload))
                if seen is not None and not seen.online and wire.lost is None:
                    log.info("connector %s: own STATE death seen; birth again", self.name)
                    self._announce(client, connected_at)
                continue
            pairs.append((topic, bytes(message.payload)))
        out = self.host.feed(pairs, now)
        for note in out.notes:
            log.info("connector %s: %s", self.name, note)
        for letter in out.refused:
            self.link.refuse(letter)
        for rebirth in out.rebirths:
            log.info(
                "connector %s: asking %s/%s to rebirth (%s)",
                self.name,
                rebirth.group,
                rebirth.edge_node,
                rebirth.reason,
            )
            topic = command_topic(rebirth.group, rebirth.edge_node)
            client.publish(topic, codec.rebirth(now), qos=0)
            self.rebirths_requested += 1
        batch = await self._batch(out, now)
        for key, health, detail in out.devices:
            self.link.device(key, health, detail)
        await self.emit(batch)
        if wire.lost is None:
            for message in messages:
                if message.qos > 0:
                    client.ack(message.mid, message.qos)

    async def _batch(self, out: Outcome, now: Millis) -> Batch:
        """The readings under tag ids; readings of tags the platform lacks are refused."""
        if len(self._ids) < len(self.host.keys):
            grown = np.full(len(self.host.keys), -1, dtype=np.int64)
            grown[: len(self._ids)] = self._ids
            self._ids = grown
        slots = out.slots()
        self._declared.difference_update(out.born)
        wanted = np.unique(np.concatenate([slots, np.asarray(out.born, dtype=np.int64)]))
        wanted = wanted[self._ids[wanted] < 0]
        if len(wanted):
            await self._resolve(wanted.tolist())
        ids = self._ids[slots]
        ts = np.asarray(out.ts, dtype=np.int64)
        value = np.asarray(out.value, dtype=np.float64)
        quality = np.asarray(out.quality, dtype=np.uint8)
        known = ids >= 0
        if not known.all():
            self._refuse_unknown(slots[~known], ts[~known], value[~known], now)
        return Batch(
            tag=ids[known].astype(np.int32),
            ts=ts[known],
            value=value[known],
            quality=quality[known],
            received=now,
        )

    async def _resolve(self, slots: list[int]) -> None:
        """Find the ids of ``slots``' tags; declare those the platform lacks (once a birth)."""
        missing = [s for s in slots if not self._resolved(s)]
        declare = self.link.declare
        todo = [s for s in missing if s not in self._declared]
        if declare is None or not todo:
            return
        try:
            await declare([self.host.declaration(s) for s in todo])
        except Exception as exc:  # the runner's failure: its readings are refused meanwhile
            log.warning("connector %s: declaring %d tags failed: %s", self.name, len(todo), exc)
            return
        self._declared.update(todo)
        for slot in todo:
            self._resolved(slot)

    def _resolved(self, slot: int) -> bool:
        tag_id = self.link.resolve(self.host.keys[slot])
        if tag_id is None:
            return False
        self._ids[slot] = tag_id
        return True

    def _refuse_unknown(
        self,
        slots: npt.NDArray[np.int64],
        ts: npt.NDArray[np.int64],
        value: npt.NDArray[np.float64],
        now: Millis,
    ) -> None:
        why = (
            "unknown tag: declared from a Sparkplug birth, but not known to the platform"
            if self.link.declare is not None
            else "unknown tag: this runner cannot create tags from Sparkplug births"
        )
        for slot, stamp, number in zip(slots.tolist(), ts.tolist(), value.tolist(), strict=True):
            self.link.refuse(
                DeadLetter(
                    received=now,
                    source=self.name,
                    reason=RejectReason.UNKNOWN_TAG,
                    detail=why,
                    tag_key=self.host.keys[slot],
                    ts=stamp,
                    value=number,
                )
            )


def _topic(message: mqtt.MQTTMessage) -> str:
    try:
        return message.topic
    except UnicodeDecodeError:  # the broker should have refused it; keep it readable
        return message._topic.decode("utf-8", "replace")


def _no_delay(client: mqtt.Client, userdata: object, sock: object) -> None:
    """Send small packets (acknowledgements, rebirth commands) at once: without this, TCP
    holds one back until the previous one is acknowledged, tens of milliseconds later."""
    if isinstance(sock, socket.socket):  # an ssl.SSLSocket is one too
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def _leave(client: mqtt.Client, death: mqtt.MQTTMessageInfo | None) -> None:
    """Send the STATE death said on leaving, disconnect and stop paho's thread (blocking).

    The DISCONNECT also closes a socket whose CONNECT was never answered."""
    if death is not None:
        with contextlib.suppress(Exception):
            death.wait_for_publish(_LEAVE_TIMEOUT_S)
    client.disconnect()
    client.loop_stop()
