"""Forwarding to the platform's HTTP ingest: ``POST <url>/api/v1/ingest`` with a device key.

One request at a time, so messages arrive in the order they are submitted. The answer
decides a message's fate:

* 200, or 422 (some readings refused: the platform kept them as its dead letters): delivered.
* 400 (the payload cannot be read) or 413 (too large): refused for good; the gateway keeps
  the message as a dead letter instead of retrying it forever.
* anything else (no connection, a timeout, 5xx, 503 when the platform is busy, and also
  401/403/404, which say the key or the URL is wrong rather than the message): the upstream
  is offline and the same message is tried again with a capped backoff. A wrong key thus
  holds the queue instead of throwing every message away; fixing the key sends it all.

Links messages (``publish_links``) go to ``POST <url>/api/v1/links`` as they are, beside the
readings. A 2xx answer delivers one; 400, 403 (a link outside the key's scope), 404, 405,
413 and 422 refuse it for good; anything else raises ``ConnectionError`` and the gateway
sends the state of then a little later. They leave ``health`` to the readings.
"""

from __future__ import annotations

import asyncio
import logging
from types import TracebackType
from typing import Self

import httpx
import orjson

from hazwatch.connectors.base import Backoff, Health, HealthState
from hazwatch.gateway.config import HttpUpstreamConfig
from hazwatch.gateway.encode import rows_body
from hazwatch.gateway.upstream import Delivery

log = logging.getLogger(__name__)

INGEST_PATH = "/api/v1/ingest"
LINKS_PATH = "/api/v1/links"
REFUSED = frozenset({400, 413})
LINKS_REFUSED = frozenset({400, 403, 404, 405, 413, 422})


class HttpUpstream:
    """Posts messages to the platform (see the module docstring)."""

    def __init__(
        self,
        config: HttpUpstreamConfig,
        *,
        backoff: Backoff | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.config = config
        self.name = config.url.rstrip("/") + INGEST_PATH
        self.links_url = config.url.rstrip("/") + LINKS_PATH
        self.health = HealthState()
        self.max_in_flight = 1
        self.outages = 0
        self._backoff = backoff or Backoff(initial=0.2, cap=10.0)
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tasks: set[asyncio.Task[Delivery]] = set()
        self.links_posted = 0
        """links messages the platform took"""

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(
            timeout=self.config.timeout_s,
            transport=self._transport,
            headers={
                "X-API-Key": self.config.api_key.get_secret_value(),
                "Content-Type": "application/json",
            },
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
        self.health.set(Health.OFFLINE, "closed")

    async def ready(self) -> None:
        return None  # a request is its own probe: an offline upstream retries it

    def submit(self, body: bytes) -> asyncio.Future[Delivery]:
        task = asyncio.get_running_loop().create_task(self._post(body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def publish_links(self, body: bytes) -> asyncio.Future[Delivery]:
        task = asyncio.get_running_loop().create_task(self._post_links(body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _post_links(self, body: bytes) -> Delivery:
        assert self._client is not None, "use the upstream inside `async with`"
        try:
            response = await self._client.post(self.links_url, content=body)
        except httpx.HTTPError as exc:
            raise ConnectionError(f"{type(exc).__name__}: {exc}".rstrip(": ")) from None
        status = response.status_code
        if 200 <= status < 300:
            self.links_posted += 1
            return Delivery(ok=True)
        if status in LINKS_REFUSED:
            return Delivery(ok=False, code=f"http.{status}", detail=_detail(response))
        raise ConnectionError(f"HTTP {status}: {_detail(response)}")

    async def _post(self, body: bytes) -> Delivery:
        assert self._client is not None, "use the upstream inside `async with`"
        try:
            content = rows_body(body)
        except ValueError as exc:
            return Delivery(ok=False, code="gateway.malformed", detail=str(exc))
        while True:
            try:
                response = await self._client.post(self.name, content=content)
            except httpx.HTTPError as exc:
                await self._retry(f"{type(exc).__name__}: {exc}".rstrip(": "))
                continue
            status = response.status_code
            if status in (200, 422):
                self._went(Health.ONLINE, f"HTTP {status}")
                self._backoff.reset()
                return Delivery(ok=True, rejected=_rejected(response) if status == 422 else 0)
            if status in REFUSED:
                self._went(Health.ONLINE, f"HTTP {status}")
                return Delivery(ok=False, code=f"http.{status}", detail=_detail(response))
            await self._retry(f"HTTP {status}: {_detail(response)}")

    async def _retry(self, detail: str) -> None:
        self._went(Health.OFFLINE, detail)
        await asyncio.sleep(self._backoff.next())

    def _went(self, state: Health, detail: str) -> None:
        previous = self.health.state
        if state is Health.OFFLINE and previous is not Health.OFFLINE:
            self.outages += 1
            log.warning("upstream %s offline: %s", self.name, detail)
        elif state is Health.ONLINE and previous is not Health.ONLINE:
            log.info("upstream %s online", self.name)
        self.health.set(state, detail)


def _detail(response: httpx.Response) -> str:
    try:
        doc = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.text[:200]
    if isinstance(doc, dict) and "detail" in doc:
        return str(doc["detail"])[:500]
    return response.text[:200]


def _rejected(response: httpx.Response) -> int:
    try:
        doc = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return 0
    value = doc.get("rejected", 0) if isinstance(doc, dict) else 0
    return value if isinstance(value, int) else 0
