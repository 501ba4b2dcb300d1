"""The edge gateway: runs connectors at the plant and forwards their batches upstream.

Every batch a connector yields is encoded into messages and appended to the disk-backed
queue (durably) before anything is sent; the ``Forwarder`` sends from the queue (see its
module for the ordering guarantee). While the upstream is down the queue grows, up to its
quota; beyond it the oldest messages are evicted, counted, logged, and reported upstream
on the ``dropped_tag`` once the upstream is back.

The health of its links — each connector whose entry has an ``equipment``, and every
device its connectors report — goes upstream as links messages (``LinkReporter``), beside
the queue: on every change and every (re)connection of the upstream.

Stopping (``stop`` set, or SIGTERM/SIGINT under ``run_gateway``) closes the connectors,
stores the batches they had already read, records what was delivered, reports every link
offline and closes the queue: nothing read is lost. What is queued is sent after the next
start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence

from hazwatch.connectors.base import Connector, Health, Link
from hazwatch.connectors.registry import build_connector
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import Millis
from hazwatch.domain.reject import DeadLetter
from hazwatch.gateway.config import GatewayConfig, HttpUpstreamConfig
from hazwatch.gateway.encode import encode_batch
from hazwatch.gateway.forwarder import Forwarder
from hazwatch.gateway.http_upstream import HttpUpstream
from hazwatch.gateway.keys import TagKeys
from hazwatch.gateway.link_reporter import LinkReporter
from hazwatch.gateway.mqtt_upstream import MqttUpstream
from hazwatch.gateway.queue import MessageQueue
from hazwatch.gateway.status import GatewayStatus
from hazwatch.gateway.upstream import Upstream
from hazwatch.runtime.clock import wall_now

log = logging.getLogger(__name__)

ConnectorFactory = Callable[[Link], Sequence[Connector]]

INBOX_BATCHES = 256
DRAIN_BATCHES = 64
STORE_RETRY_S = 1.0
CLOSE_TIMEOUT_S = 10.0
EVICTION_LOG_EVERY_S = 60.0
SETTLE_S = 3.0
"""on stopping, how long to wait for the acknowledgement of messages in flight"""


def make_upstream(config: GatewayConfig) -> Upstream:
    """The upstream the configuration names."""
    upstream = config.upstream
    if isinstance(upstream, HttpUpstreamConfig):
        return HttpUpstream(upstream)
    return MqttUpstream(
        upstream,
        topic=config.mqtt_topic,
        client_id=config.mqtt_client_id,
        links_topic=config.links_topic,
    )


def connectors_of(config: GatewayConfig) -> ConnectorFactory:
    """Builds the configured connectors through the registry (given the gateway's link)."""
    entries = config.connector_entries()

    def build(link: Link) -> list[Connector]:
        return [build_connector(entry.config, link) for entry in entries]

    return build


class Gateway:
    """Connectors → queue → upstream, for one ``GatewayConfig`` (see module docstring)."""

    def __init__(
        self,
        config: GatewayConfig,
        connectors: ConnectorFactory,
        *,
        upstream: Upstream | None = None,
        now: Callable[[], Millis] = wall_now,
    ) -> None:
        self.config = config
        self.keys = TagKeys(config.enterprise)
        self.now = now
        self.link = Link(
            resolve=self.keys.resolve, refuse=self._refuse, device=self._device, now=now
        )
        self.connectors = list(connectors(self.link))
        self.upstream = upstream or make_upstream(config)
        self.reporter = LinkReporter(
            name=config.name, enterprise=config.enterprise, upstream=self.upstream, now=now
        )
        entries = config.connector_entries() if config.connectors else []
        self.equipment = {e.name: e.equipment for e in entries if e.equipment is not None}
        """the equipment key of each connector that has one, by connector name"""
        self.running = asyncio.Event()
        self.queue: MessageQueue | None = None
        self.forwarder: Forwarder | None = None
        self._inbox: asyncio.Queue[Batch] = asyncio.Queue(maxsize=INBOX_BATCHES)
        self._devices: dict[str, Health] = {}
        self._refused_input = 0
        self._evicted = 0
        self._evicted_logged = -EVICTION_LOG_EVERY_S

    # running ---------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until ``stop`` is set (or the task is cancelled)."""
        stop = stop or asyncio.Event()
        settings = self.config.queue
        queue = await asyncio.to_thread(
            MessageQueue.open, settings.path, quota_bytes=settings.quota_bytes
        )
        self.queue = queue
        forwarder = Forwarder(
            queue,
            self.upstream,
            replay_per_s=settings.replay_per_s,
            now=self.now,
            dropped_key=self.config.dropped_tag,
        )
        self.forwarder = forwarder
        stats = queue.stats()
        log.info(
            "gateway %s starting: %d messages (%d readings) queued, forwarding to %s",
            self.config.name,
            stats.messages,
            stats.readings,
            self.upstream.name,
        )
        try:
            async with self.upstream:
                forwarding = asyncio.create_task(forwarder.run(), name="gateway forwarder")
                storing = asyncio.create_task(self._store(queue, forwarder), name="gateway store")
                reporting = asyncio.create_task(self._log_status(), name="gateway status")
                links = [
                    asyncio.create_task(self._watch(c, self.equipment[c.name]))
                    for c in self.connectors
                    if c.name in self.equipment
                ]
                links.append(asyncio.create_task(self.reporter.run(), name="gateway links"))
                closing: list[asyncio.Task[None]] = []
                try:
                    await self._run_connectors(stop, watch=(forwarding, storing))
                    await _cancel(links)
                    closing.append(asyncio.create_task(self.reporter.close(SETTLE_S)))
                    if not storing.done():
                        await self._inbox.join()
                    if not forwarding.done():
                        await forwarder.settle(SETTLE_S)
                    await closing[0]
                finally:
                    await _cancel([*links, *closing, storing, reporting, forwarding])
        finally:
            self.running.clear()
            log.info(self.status().line())
            await asyncio.to_thread(queue.close)

    async def _run_connectors(
        self, stop: asyncio.Event, *, watch: Sequence[asyncio.Task[None]]
    ) -> None:
        readers: list[asyncio.Task[None]] = []
        try:
            async with contextlib.AsyncExitStack() as stack:
                for connector in self.connectors:
                    await stack.enter_async_context(connector)
                readers = [
                    asyncio.create_task(self._read(c), name=f"gateway reads {c.name}")
                    for c in self.connectors
                ]
                self.running.set()
                stopping = asyncio.create_task(stop.wait())
                try:
                    await asyncio.wait([stopping, *watch], return_when=asyncio.FIRST_COMPLETED)
                finally:
                    stopping.cancel()
                    log.info("gateway %s stopping", self.config.name)
            # the connectors are closed: their readers end after the batches already read
            if readers:
                await asyncio.wait(readers, timeout=CLOSE_TIMEOUT_S)
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
        for task in watch:
            if task.done() and not task.cancelled() and task.exception() is not None:
                raise RuntimeError(f"{task.get_name()} failed") from task.exception()

    async def _read(self, connector: Connector) -> None:
        try:
            async for batch in connector:
                await self._inbox.put(batch)
        except Exception:
            log.exception("gateway: reading connector %s failed", connector.name)

    async def _store(self, queue: MessageQueue, forwarder: Forwarder) -> None:
        while True:
            batches = [await self._inbox.get()]
            while len(batches) < DRAIN_BATCHES and not self._inbox.empty():
                batches.append(self._inbox.get_nowait())
            while True:
                try:
                    await asyncio.to_thread(self._append, queue, batches)
                    break
                except Exception:
                    log.exception(
                        "gateway: cannot store %d batches; retrying in %.0f s",
                        len(batches),
                        STORE_RETRY_S,
                    )
                    await asyncio.sleep(STORE_RETRY_S)
            for _ in batches:
                self._inbox.task_done()
            forwarder.stored()

    def _append(self, queue: MessageQueue, batches: list[Batch]) -> None:
        batch = batches[0] if len(batches) == 1 else Batch.concat(batches)
        encoded = encode_batch(batch, self.keys.table(), self.config.queue.max_readings_per_message)
        if encoded.unknown:
            log.error("gateway: %d readings with tag ids no key was given for", encoded.unknown)
        if not encoded.messages:
            return
        appended = queue.append(encoded.messages)
        if appended.evicted_readings:
            self._evicted += appended.evicted_readings
            now = time.monotonic()
            if now - self._evicted_logged >= EVICTION_LOG_EVERY_S:
                log.warning(
                    "gateway: queue over its quota of %g MB: evicted the oldest %d readings "
                    "since the last warning; %d readings dropped in all",
                    self.config.queue.quota_mb,
                    self._evicted,
                    queue.dropped_readings,
                )
                self._evicted, self._evicted_logged = 0, now

    async def _log_status(self) -> None:
        while True:
            await asyncio.sleep(self.config.status_every_s)
            log.info(self.status().line())

    # the link ----------------------------------------------------------------------------

    def _refuse(self, letter: DeadLetter) -> None:
        self._refused_input += 1
        log.warning(
            "gateway: refused input from %s: %s %s", letter.source, letter.reason, letter.detail
        )
        queue = self.queue
        if queue is None:
            return
        try:
            queue.refuse(letter)
        except Exception:
            log.exception("gateway: cannot keep a refused input")

    def _device(self, key: str, health: Health, detail: str) -> None:
        if self._devices.get(key) is not health:
            log.info("gateway: device %s %s %s", key, health, detail)
        self._devices[key] = health
        self.reporter.set(key, health, detail)

    async def _watch(self, connector: Connector, equipment: str) -> None:
        """Report a connector's own health as the link at its ``equipment``."""
        while True:
            version = connector.health.version
            self.reporter.set(equipment, connector.health.state, connector.health.detail)
            await connector.health.changed_since(version)

    # health ------------------------------------------------------------------------------

    def status(self) -> GatewayStatus:
        """The gateway's health now."""
        queue, forwarder = self.queue, self.forwarder
        stats = queue.stats() if queue is not None else None
        counters = forwarder.counters if forwarder is not None else None
        return GatewayStatus(
            name=self.config.name,
            upstream=self.upstream.health.state,
            upstream_detail=self.upstream.health.detail,
            queued_messages=stats.messages if stats else 0,
            queued_readings=stats.readings if stats else 0,
            queued_bytes=stats.bytes if stats else 0,
            replaying=forwarder.replaying if forwarder else False,
            in_flight=counters.in_flight if counters else 0,
            delivered_messages=counters.delivered_messages if counters else 0,
            delivered_readings=counters.delivered_readings if counters else 0,
            rejected_readings=counters.rejected_readings if counters else 0,
            refused_messages=counters.refused_messages if counters else 0,
            dropped_readings=stats.dropped_readings if stats else 0,
            unreported_dropped=(stats.dropped_readings - stats.reported_dropped) if stats else 0,
            refused_input=self._refused_input,
            connectors={c.name: c.health.state for c in self.connectors},
            devices=dict(self._devices),
            links=self.reporter.health(),
            links_sent=self.reporter.sent,
        )


async def _cancel(tasks: Sequence[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run_gateway(config: GatewayConfig, *, stop: asyncio.Event | None = None) -> None:
    """Run the gateway of ``config`` until ``stop`` is set; without ``stop``, until SIGTERM
    or SIGINT. For ``hazwatch gateway --config FILE``."""
    gateway = Gateway(config, connectors_of(config))
    if stop is not None:
        await gateway.run(stop)
        return
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    try:
        await gateway.run(stop)
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
