"""The health of the gateway's links, sent upstream as state.

A link is a connector whose entry has an ``equipment``, or a device that a connector
reports through ``Link.device``. ``LinkReporter`` keeps the latest health of each and sends
all of them in one links message (docs/mqtt.md, "Link health") whenever the health of one
changes and whenever the upstream comes up (at start, and back from every outage): the
platform then raises the same device-offline and degraded alarms as for the connectors it
runs itself. A new detail without a new health waits for the next message.

Only equipment keys of the gateway's enterprise are sent (the platform would refuse any
other); a key that is not one is logged once and left out. Links messages bypass the queue:
what matters is the state of now, so a message that cannot go is not kept but replaced by
the state of the next attempt (after a capped backoff). The upstream must be a
``LinkUpstream``; with another, nothing is sent.

When the gateway stops, ``close`` sends every link as offline: the platform learns that
nothing watches them any more (after its on-delay, as for any outage).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from hazwatch.connectors.base import Backoff, Health
from hazwatch.connectors.mqtt.links import MAX_DETAIL, LinkEntry, encode_links, last_will
from hazwatch.domain.clock import Millis
from hazwatch.domain.keys import EQUIPMENT_KEY
from hazwatch.gateway.upstream import LinkUpstream, Upstream, WillUpstream

log = logging.getLogger(__name__)


class LinkReporter:
    """Keeps the health of the gateway's links and sends it upstream (see module docstring)."""

    def __init__(
        self,
        *,
        name: str,
        enterprise: str,
        upstream: Upstream,
        now: Callable[[], Millis],
        backoff: Backoff | None = None,
    ) -> None:
        self.name = name
        self.enterprise = enterprise
        self.upstream = upstream
        self.links: dict[str, LinkEntry] = {}
        """the latest health of each link, by equipment key"""
        self.sent = 0
        """links messages the upstream took"""
        self.refused = 0
        """links messages the upstream refused for good"""
        self._now = now
        self._backoff = backoff or Backoff(initial=1.0, cap=30.0)
        self._dirty = False
        self._changed = asyncio.Event()
        self._left_out: set[str] = set()

    @property
    def supported(self) -> bool:
        """Whether the upstream carries links messages."""
        return isinstance(self.upstream, LinkUpstream)

    def set(self, equipment: str, health: Health, detail: str = "") -> bool:
        """Record a link's health (from the event loop's thread); True when it changed, and a
        links message will go."""
        if not EQUIPMENT_KEY.fullmatch(equipment) or equipment.split(".", 1)[0] != self.enterprise:
            if equipment not in self._left_out:
                self._left_out.add(equipment)
                log.warning(
                    "gateway %s: link %r is not an equipment key of enterprise %r; its health "
                    "is not sent upstream",
                    self.name,
                    equipment,
                    self.enterprise,
                )
            return False
        before = self.links.get(equipment)
        self.links[equipment] = LinkEntry(
            equipment=equipment, health=health, detail=detail[:MAX_DETAIL]
        )
        if before is None and isinstance(self.upstream, WillUpstream):
            # the will lists every link known, for a platform that restarted meanwhile
            self.upstream.set_will(last_will(self._now(), self.name, self.links))
        if before is not None and before.health is health:
            return False
        self._dirty = True
        self._changed.set()
        return True

    def health(self) -> Mapping[str, Health]:
        return {key: entry.health for key, entry in self.links.items()}

    async def run(self) -> None:
        """Send the links on every change and every (re)connection, until cancelled."""
        upstream = self.upstream
        if not isinstance(upstream, LinkUpstream):
            log.info(
                "gateway %s: upstream %s carries no link health", self.name, self.upstream.name
            )
            return
        seen_outages: int | None = None
        while True:
            version = self.upstream.health.version
            self._changed.clear()
            await self.upstream.ready()
            if self.upstream.outages != seen_outages:  # up at last, or back from an outage
                seen_outages = self.upstream.outages
                self._dirty = True
            if self._dirty and self.links:
                self._dirty = False
                if not await self._send(upstream, self.links.values()):
                    self._dirty = True  # again after a while, or once the upstream changes
                    delay = asyncio.sleep(self._backoff.next())
                    await _first(delay, self.upstream.health.changed_since(version))
                continue
            await _first(self._changed.wait(), self.upstream.health.changed_since(version))

    async def close(self, timeout: float) -> None:
        """Send every link as offline, waiting at most ``timeout`` seconds (the gateway
        stops; nothing watches them any more). Call it once ``run`` has ended."""
        upstream = self.upstream
        if not self.links or not isinstance(upstream, LinkUpstream):
            return
        if upstream.health.state is Health.OFFLINE:
            log.warning("gateway %s: upstream offline; links not reported offline", self.name)
            return
        detail = f"gateway {self.name} stopped"
        offline = [
            LinkEntry(equipment=key, health=Health.OFFLINE, detail=detail) for key in self.links
        ]
        try:
            await asyncio.wait_for(self._send(upstream, offline), timeout)
        except TimeoutError:
            log.warning("gateway %s: the last links message was not acknowledged", self.name)

    async def _send(self, upstream: LinkUpstream, links: Iterable[LinkEntry]) -> bool:
        """One links message; False when it could not be handed over (try again later)."""
        body = encode_links(self._now(), list(links))
        try:
            delivery = await upstream.publish_links(body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("gateway %s: link health not sent (%s); trying again", self.name, exc)
            return False
        self._backoff.reset()
        if delivery.ok:
            self.sent += 1
        else:
            self.refused += 1
            log.error(
                "gateway %s: the upstream refused the link health [%s] %s",
                self.name,
                delivery.code,
                delivery.detail,
            )
        return True


async def _first(*waits: Coroutine[Any, Any, object]) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
