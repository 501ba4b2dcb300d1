"""Builders and loopback servers for the notification tests.

``make`` builds notices and messages; ``http_server`` is a real HTTP server on loopback
that records requests and answers from a script; ``smtp_server`` a real SMTP server
(aiosmtpd) that captures mail and can be told to refuse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from receivers import HttpServer, SmtpServer, http_receiver, smtp_receiver

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour
from hazwatch.respond.notify.message import Message, Notice, SourceKind

T0: Millis = 1_780_000_000_000


class Factory:
    t0 = T0

    def alarm(
        self,
        n: int,
        *,
        at: Millis = T0,
        priority: Priority = Priority.HIGH,
        scope: str = "lpg.main.sphere-farm",
        dedup_key: str | None = None,
    ) -> Notice:
        return Notice(
            source=SourceKind.ALARM,
            id=f"alarm:{n}:HH:1",
            scope=scope,
            level=priority,
            title=f"PT-{n} pressure high-high",
            text="1.92 MPa ≥ 1.80 MPa",
            at=at,
            dedup_key=dedup_key or f"alarm:{n}:HH",
        )

    def warning(self, n: int, colour: Colour, *, at: Millis = T0) -> Notice:
        return Notice(
            source=SourceKind.WARNING,
            id=f"warning:{n}",
            scope="lpg.main",
            level=colour,
            title=f"储罐区 {colour.chinese}色预警 {n}",
            at=at,
            dedup_key=f"warning:{n}",
        )

    def message(self, *notices: Notice, user: str = "wang", at: Millis = T0) -> Message:
        return Message(recipient=user, notices=notices or (self.alarm(1),), at=at)


@pytest.fixture
def make() -> Factory:
    return Factory()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5.0) as c:
        yield c


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    with http_receiver() as server:
        yield server


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with smtp_receiver() as server:
        yield server
