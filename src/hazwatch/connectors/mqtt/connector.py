"""The MQTT JSON connector: readings that devices and gateways publish to a broker.

One session is one MQTT v5 connection (paho-mqtt): connect with the fixed client id, no
clean start and a session expiry, so that the broker keeps the subscription and queues
QoS 1 messages while the connector is away; subscribe (shared by default,
``$share/<group>/hazwatch/v1/#``); then read until the connection is lost, which raises
``ConnectError`` with the MQTT reason code, and the base class reconnects with backoff.
A refused user name or password raises ``AuthError``.

Paho's network I/O runs in a thread of its own (``NetworkThread``), whose only work per
message, besides paho's decoding, is to append it to an ``Inbox``.
The event loop waits for the first message, gathers for ``flush_ms`` (or until enough are
waiting), decodes them all into one batch (``decode.Decoder``), hands refusals to the link
and emits the batch (split at ``max_readings_per_batch``). Links messages (the health of a
sender's links, ``links.py``) become ``link.device`` calls, for the links whose health
changed since that sender's previous message. At QoS 1 the messages are
acknowledged only after their readings were emitted: a crash or a lost connection before
that leaves them with the broker, which sends them again. The broker sends at most
``max_inflight`` unacknowledged messages, so a slow reader slows the broker, not memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import logging
import socket
import ssl
import struct
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
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
from hazwatch.connectors.mqtt.config import MqttConfig
from hazwatch.connectors.mqtt.decode import Decoder
from hazwatch.connectors.mqtt.inbox import Inbox
from hazwatch.connectors.mqtt.leanprops import install as lean_properties
from hazwatch.connectors.mqtt.links import LinkMemory
from hazwatch.connectors.mqtt.network import NetworkThread
from hazwatch.domain.batch import Batch

log = logging.getLogger(__name__)

AUTH_REFUSALS = frozenset({0x86, 0x87, 0x8A, 0x8C})
"""CONNACK reason codes about who we are (bad user name or password, not authorized,
banned, bad authentication method): trying again with the same settings cannot help."""

NOT_AUTHORIZED = 0x87


class MqttConnector(ConnectorBase):
    """Reads hazwatch JSON readings from an MQTT broker (see module docstring)."""

    def __init__(self, config: MqttConfig, link: Link, *, backoff: Backoff | None = None) -> None:
        super().__init__(config.name, link, backoff=backoff)
        lean_properties()
        self.config = config
        self.decoder = Decoder(
            link.resolve, source=f"mqtt:{config.name}", max_payload_bytes=config.max_payload_bytes
        )
        self.messages = 0
        """Messages read since the connector was made."""
        self.readings = 0
        """Readings emitted since the connector was made."""
        self.link_messages = 0
        """Links messages read since the connector was made."""
        self.link_memory = LinkMemory()
        """What each sender of links messages said last."""
        self.session_present = False
        """Whether the broker still had our session at the last connection."""
        # Gathering stops early once this many messages wait: half the broker's window of
        # unacknowledged messages at QoS 1 (so that it never stalls), a full batch's worth.
        early = config.max_readings_per_batch
        if config.qos == 1:
            early = min(early, config.max_inflight // 2)
        self._early = max(1, early)
        self._capacity = max(4 * self._early, 1_000)

    async def session(self) -> None:
        loop = asyncio.get_running_loop()
        inbox = Inbox(loop, capacity=self._capacity)
        events = _Events(loop, inbox)
        client = self._client(inbox, events)
        network = NetworkThread(
            client,
            received=lambda: inbox.received,
            on_error=lambda exc: inbox.fail(
                ConnectError(f"{type(exc).__name__}: {exc}", code=type(exc).__name__)
            ),
            name=f"mqtt {self.name}",
        )
        try:
            await self._connect(client, events, network)
            await self._subscribe(client, events)
            self.decoder.forget()
            await self._read(client, inbox)
        finally:
            inbox.close()
            await asyncio.shield(asyncio.to_thread(_drop, client, network))

    # Connecting.

    def _client(self, inbox: Inbox, events: _Events) -> paho.Client:
        cfg = self.config
        client = paho.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id,
            protocol=paho.MQTTv5,
            reconnect_on_failure=False,
            manual_ack=cfg.qos == 1,
        )
        client.connect_timeout = cfg.connect_timeout_s
        if cfg.tls:
            client.tls_set(ca_certs=str(cfg.ca_file) if cfg.ca_file is not None else None)
        if cfg.username is not None:
            secret = cfg.password.get_secret_value() if cfg.password is not None else None
            client.username_pw_set(cfg.username, secret)
        put = inbox.put

        def on_message(_c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
            try:
                topic = message.topic
            except UnicodeDecodeError:  # refused by the decoder as outside the convention
                topic = "<topic not UTF-8>"
            put(topic, message.payload, message.mid if message.qos else 0)

        client.on_message = on_message
        client.on_connect = events.on_connect
        client.on_disconnect = events.on_disconnect
        client.on_subscribe = events.on_subscribe
        return client

    async def _connect(self, client: paho.Client, events: _Events, network: NetworkThread) -> None:
        cfg = self.config
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = cfg.session_expiry_s
        properties.ReceiveMaximum = cfg.max_inflight
        connect = functools.partial(
            client.connect,
            cfg.host,
            cfg.port,
            keepalive=cfg.keepalive_s,
            clean_start=cfg.clean_start,
            properties=properties,
        )
        opening = asyncio.get_running_loop().run_in_executor(None, _open, connect)
        try:
            await asyncio.shield(opening)
        except asyncio.CancelledError:  # close the socket once the attempt is over
            opening.add_done_callback(lambda _: _drop(client, None))
            raise
        except ssl.SSLCertVerificationError as exc:  # a setting to fix, not a passing fault
            raise ConnectError(
                f"the certificate of {cfg.host}:{cfg.port} is not trusted: {exc.verify_message}",
                code=socket_code(exc),
                retryable=False,
            ) from None
        except OSError as exc:
            raise ConnectError(
                f"cannot reach {cfg.host}:{cfg.port}: {exc.strerror or exc}",
                code=socket_code(exc),
            ) from None
        network.start()
        try:
            code, present = await asyncio.wait_for(events.connack, cfg.connect_timeout_s)
        except TimeoutError:
            raise ConnectError(
                f"no answer to CONNECT from {cfg.host}:{cfg.port} within "
                f"{cfg.connect_timeout_s:g} s",
                code="mqtt.timeout",
            ) from None
        if code.is_failure:
            message = f"broker {cfg.host}:{cfg.port} refused the connection: {code}"
            if code.value in AUTH_REFUSALS:
                raise AuthError(message, code=f"mqtt.{code.value}")
            raise ConnectError(message, code=f"mqtt.{code.value}")
        self.session_present = present
        if not present and not cfg.clean_start:
            log.info(
                "connector %s: the broker had no session for %s; messages published while "
                "it was away are not there",
                self.name,
                cfg.client_id,
            )

    async def _subscribe(self, client: paho.Client, events: _Events) -> None:
        cfg = self.config
        # Retain handling 1: retained messages only for a new subscription, not again at
        # every reconnection of a persistent session (shared subscriptions get none).
        options = SubscribeOptions(qos=cfg.qos, retainHandling=1)
        filters = cfg.subscriptions()
        client.subscribe([(topic, options) for topic in filters])
        try:
            codes = await asyncio.wait_for(events.suback, cfg.connect_timeout_s)
        except TimeoutError:
            raise ConnectError(
                f"no answer to SUBSCRIBE within {cfg.connect_timeout_s:g} s", code="mqtt.timeout"
            ) from None
        refused = [
            (topic, code) for topic, code in zip(filters, codes, strict=False) if code.is_failure
        ]
        if len(refused) == len(filters):
            topic, code = refused[0]
            message = f"subscription to {topic} refused: {code}"
            if code.value == NOT_AUTHORIZED:
                raise AuthError(message, code=f"mqtt.{code.value}")
            raise ProtocolError(message, code=f"mqtt.{code.value}")
        where = f"{cfg.host}:{cfg.port}"
        if refused:
            detail = "; ".join(f"{topic} refused: {code}" for topic, code in refused)
            self.online(where)
            self.health.set(Health.DEGRADED, detail)
            log.warning("connector %s: %s", self.name, detail)
        else:
            self.online(where)
        for topic, code in zip(filters, codes, strict=False):
            if not code.is_failure and code.value < cfg.qos:
                log.warning("connector %s: %s granted at QoS %d only", self.name, topic, code.value)

    # Reading.

    async def _read(self, client: paho.Client, inbox: Inbox) -> None:
        cfg = self.config
        gather_s = cfg.flush_ms / 1000
        while True:
            await inbox.wait()
            if inbox.error is None:
                await inbox.wait(self._early, timeout=gather_s)
            if inbox.error is not None:
                break
            await self._flush(client, *inbox.drain())
        error = inbox.error
        assert error is not None
        # QoS 1 messages not yet acknowledged come again on the next connection of a kept
        # session; anything else received is handed on now rather than lost.
        if cfg.qos == 0 or cfg.clean_start:
            await self._flush(client, *inbox.drain())
        raise error

    async def _flush(
        self,
        client: paho.Client,
        topics: list[str],
        payloads: list[bytes | bytearray],
        ids: list[int],
    ) -> None:
        if not topics:
            return
        decoded = self.decoder.decode(zip(topics, payloads, strict=True), self.link.now())
        for letter in decoded.refused:
            self.link.refuse(letter)
        for message in decoded.links:
            self.link_messages += 1
            for entry in self.link_memory.changes(message):
                self.link.device(entry.equipment, entry.health, entry.detail)
        self.messages += decoded.messages
        batch = decoded.batch
        size = self.config.max_readings_per_batch
        for start in range(0, len(batch), size):
            part = batch if len(batch) <= size else _slice(batch, start, start + size)
            await self.emit(part)
        self.readings += len(batch)
        _acknowledge(client, [packet_id for packet_id in ids if packet_id])


class _Events:
    """Paho's callbacks (network thread) turned into futures and failures on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, inbox: Inbox) -> None:
        self._loop = loop
        self._inbox = inbox
        self.connack: asyncio.Future[tuple[ReasonCode, bool]] = loop.create_future()
        self.suback: asyncio.Future[list[ReasonCode]] = loop.create_future()
        for future in (self.connack, self.suback):  # a failure nobody awaits is no error
            future.add_done_callback(_retrieve)

    def _settle(self, future: asyncio.Future[Any], value: object) -> None:
        def settle() -> None:
            if future.done():
                return
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)

        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            self._loop.call_soon_threadsafe(settle)

    def on_connect(
        self,
        _client: paho.Client,
        _userdata: object,
        flags: paho.ConnectFlags,
        code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._settle(self.connack, (code, flags.session_present))

    def on_subscribe(
        self,
        _client: paho.Client,
        _userdata: object,
        _mid: int,
        codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        self._settle(self.suback, codes)

    def on_disconnect(
        self,
        _client: paho.Client,
        _userdata: object,
        flags: paho.DisconnectFlags,
        code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if flags.is_disconnect_packet_from_server:
            reason = getattr(properties, "ReasonString", "")
            said = f"the broker disconnected: {code}" + (f" ({reason})" if reason else "")
        else:  # paho reports a dropped socket as "unspecified error"
            said = f"connection lost: {code}"
        error = ConnectError(said, code=f"mqtt.{code.value}")
        self._inbox.fail(error)
        # Before CONNACK or SUBACK, a lost connection fails whoever waits for them.
        self._settle(self.connack, error)
        self._settle(self.suback, error)


def _open(connect: Callable[[], object]) -> None:
    """Run paho's (blocking) connect. Paho leaves the socket of a failed TLS handshake
    open; it is closed here, from the frames the error passed through."""
    try:
        connect()
    except ssl.SSLError as exc:
        trace = exc.__traceback__
        while trace is not None:
            for value in list(trace.tb_frame.f_locals.values()):
                if isinstance(value, socket.socket):
                    value.close()
            trace = trace.tb_next
        raise


def _retrieve(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _slice(batch: Batch, start: int, stop: int) -> Batch:
    return Batch(
        tag=batch.tag[start:stop],
        ts=batch.ts[start:stop],
        value=batch.value[start:stop],
        quality=batch.quality[start:stop],
        received=batch.received,
    )


def _acknowledge(client: paho.Client, ids: list[int]) -> None:
    """PUBACK these QoS 1 messages, in order. All go in one buffer through paho's packet
    queue, so that the network thread is woken once, not once per message (which costs the
    event loop a hand-over of the interpreter lock per message); where paho lacks that
    queue, one ``ack`` each."""
    if not ids:
        return
    queue = getattr(client, "_packet_queue", None)
    if queue is None:
        for packet_id in ids:
            client.ack(packet_id, 1)
        return
    # A PUBACK with reason "success" and no properties: 0x40, remaining length 2, packet id.
    packet = struct.pack(f">{len(ids)}I", *[_PUBACK | packet_id for packet_id in ids])
    queue(paho.PUBACK, packet, 0, 0)


_PUBACK = 0x4002_0000


def socket_code(exc: OSError) -> str:
    """The code of a failed connection: ``socket.ECONNREFUSED``, ``socket.timeout``…"""
    if isinstance(exc, ssl.SSLError):
        return f"tls.{exc.reason or type(exc).__name__}"
    if isinstance(exc, TimeoutError):
        return "socket.timeout"
    name = errno.errorcode.get(exc.errno) if isinstance(exc.errno, int) else None
    return f"socket.{name or type(exc).__name__}"


def _drop(client: paho.Client, network: NetworkThread | None) -> None:
    """Say goodbye (the session stays with the broker) and stop the network thread."""
    with contextlib.suppress(Exception):
        client.disconnect()
    if network is not None:
        network.stop()
    with contextlib.suppress(Exception):  # a socket the network thread did not close
        sock = client.socket()
        if sock is not None:
            sock.close()
