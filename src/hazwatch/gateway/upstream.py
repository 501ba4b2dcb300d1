"""What the gateway forwards to: the upstream contract, shared by MQTT and HTTP.

An upstream is an async context manager. ``submit(body)`` hands one message over at once,
in call order, and returns a future of its ``Delivery``: it resolves only when the far side
has acknowledged the message (an MQTT PUBACK, an HTTP 200 or 422) or refused it for good.
Transient failures are the upstream's own business: it retries (or, for MQTT, the client
resends once reconnected) and the future stays pending meanwhile, so messages never
overtake each other because of a retry.

``ready()`` returns when the upstream takes messages; ``outages`` counts the times it went
offline, so a caller can tell that an outage happened between two looks.

An upstream that can also carry the health of the gateway's links is a ``LinkUpstream``:
``publish_links(body)`` sends one links message (docs/mqtt.md, "Link health") beside the
readings, outside the queue — it is state, sent again whole on every change and
reconnection. Its future resolves like ``submit``'s; it fails (raises) when the message
could not be handed over for now, and the gateway tries again later with the state of then.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from hazwatch.connectors.base import HealthState


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """The fate of one message. ``ok``: the far side has it (``rejected`` readings of it
    were refused there and kept as its dead letters). Not ``ok``: refused for good; ``code``
    and ``detail`` say why (the gateway keeps the message as a dead letter)."""

    ok: bool
    code: str = ""
    detail: str = ""
    rejected: int = 0


class Upstream(Protocol):
    name: str
    health: HealthState
    max_in_flight: int
    outages: int

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def ready(self) -> None: ...

    def submit(self, body: bytes) -> asyncio.Future[Delivery]: ...


@runtime_checkable
class LinkUpstream(Protocol):
    """An upstream that carries links messages too (see the module docstring)."""

    def publish_links(self, body: bytes) -> asyncio.Future[Delivery]: ...


@runtime_checkable
class WillUpstream(Protocol):
    """An upstream that leaves a last will: a links message the far side receives if the
    gateway vanishes without a word (``set_will`` takes effect at the next connection)."""

    def set_will(self, body: bytes) -> None: ...
