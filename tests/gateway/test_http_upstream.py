"""The HTTP upstream's reading of the platform's answers, against a scripted transport."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import orjson
import pytest

from hazwatch.connectors.base import Backoff, Health
from hazwatch.gateway.config import HttpUpstreamConfig
from hazwatch.gateway.encode import report_message
from hazwatch.gateway.http_upstream import HttpUpstream

NOW = 1_800_000_000_000
BODY = report_message("gw.site.unit.pump-1.count", NOW, 7.0).body


def _config() -> HttpUpstreamConfig:
    return HttpUpstreamConfig.model_validate(
        {"kind": "http", "url": "http://platform.test", "api_key": "hzk_key", "timeout_s": 1}
    )


def _upstream(answers: list[Callable[[httpx.Request], httpx.Response]]) -> HttpUpstream:
    requests: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return answers.pop(0)(request)

    upstream = HttpUpstream(
        _config(), backoff=Backoff(initial=0.001, cap=0.002), transport=httpx.MockTransport(handle)
    )
    upstream.requests = requests  # type: ignore[attr-defined]
    return upstream


def _answer(status: int, doc: object) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=doc)


def _refuse_connection(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


async def test_a_message_is_posted_as_rows_with_the_device_key() -> None:
    async with _upstream([_answer(200, {"accepted": 1, "rejected": 0})]) as upstream:
        delivery = await upstream.submit(BODY)
    assert delivery.ok
    (request,) = upstream.requests  # type: ignore[attr-defined]
    assert str(request.url) == "http://platform.test/api/v1/ingest"
    assert request.headers["X-API-Key"] == "hzk_key"
    assert orjson.loads(request.content) == {
        "readings": [{"tag": "gw.site.unit.pump-1.count", "ts": NOW, "value": 7.0, "quality": 0}]
    }
    assert upstream.health.state is Health.OFFLINE  # closed


async def test_422_is_delivered_with_the_refused_readings_counted() -> None:
    async with _upstream([_answer(422, {"accepted": 0, "rejected": 1})]) as upstream:
        delivery = await upstream.submit(BODY)
    assert delivery.ok
    assert delivery.rejected == 1


@pytest.mark.parametrize("status", [400, 413])
async def test_an_unreadable_or_oversized_message_is_refused_for_good(status: int) -> None:
    async with _upstream([_answer(status, {"detail": "no good"})]) as upstream:
        delivery = await upstream.submit(BODY)
    assert not delivery.ok
    assert delivery.code == f"http.{status}"
    assert delivery.detail == "no good"
    assert len(upstream.requests) == 1  # type: ignore[attr-defined]


async def test_outages_busy_answers_and_a_wrong_key_are_retried_until_delivered() -> None:
    answers = [
        _refuse_connection,
        _answer(503, {"detail": "pipeline full"}),
        _answer(500, {"detail": "oops"}),
        _answer(401, {"detail": "unknown or revoked API key"}),
        _answer(200, {"accepted": 1, "rejected": 0}),
    ]
    async with _upstream(answers) as upstream:
        future = upstream.submit(BODY)
        delivery = await future
        assert delivery.ok
        assert upstream.health.state is Health.ONLINE
        assert upstream.outages == 1, "one outage, however many tries it took"
    assert len(upstream.requests) == 5  # type: ignore[attr-defined]
    assert answers == []


async def test_closing_cancels_a_message_still_being_retried() -> None:
    answers: list[Callable[[httpx.Request], httpx.Response]] = [_refuse_connection] * 1000
    upstream = _upstream(answers)
    async with upstream:
        future = upstream.submit(BODY)
        while upstream.health.state is not Health.OFFLINE:
            await asyncio.sleep(0.001)
    assert future.cancelled()
