"""One HTTP request of an HTTP channel, with transport failures mapped to ``ChannelError``.

5xx, 429, timeouts and connection failures are retryable; other 4xx are not (the request
is wrong and will stay wrong).
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from hazwatch.respond.notify.channel import ChannelError

RETRYABLE_STATUS = frozenset({408, 425, 429})


async def request(
    client: httpx.AsyncClient,
    channel: str,
    *,
    method: str,
    url: str,
    content: bytes,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None = None,
) -> httpx.Response:
    """Send one request; the response when its status is 2xx, else ``ChannelError``."""
    target = httpx.URL(url)
    if params:
        # merged, because httpx's own ``params=`` would replace the URL's query (access_token)
        target = target.copy_merge_params(dict(params))
    try:
        response = await client.request(method, target, content=content, headers=dict(headers))
    except httpx.TimeoutException as exc:
        raise ChannelError(channel, f"timeout: {exc!r}", retryable=True) from exc
    except httpx.TransportError as exc:
        raise ChannelError(channel, f"transport: {exc!r}", retryable=True) from exc
    if response.is_success:
        return response
    status = response.status_code
    retryable = status >= 500 or status in RETRYABLE_STATUS
    raise ChannelError(channel, f"HTTP {status}: {response.text[:200]}", retryable=retryable)


def robot_reply(response: httpx.Response, channel: str, *, busy: frozenset[int]) -> None:
    """Check a chat robot's JSON reply ``{"errcode": 0, "errmsg": "ok"}``: the robots answer
    HTTP 200 even when they refuse a message. ``busy`` error codes (rate limited) are
    retryable; any other non-zero code is not."""
    try:
        reply = response.json()
    except ValueError as exc:
        raise ChannelError(
            channel, f"unreadable reply: {response.text[:200]}", retryable=True
        ) from exc
    code = reply.get("errcode", 0) if isinstance(reply, dict) else 0
    if code == 0:
        return
    detail = f"errcode {code}: {reply.get('errmsg', '')}"
    raise ChannelError(channel, detail, retryable=int(code) in busy)


async def post_robot(
    client: httpx.AsyncClient,
    channel: str,
    *,
    url: str,
    payload: Mapping[str, object],
    busy: frozenset[int],
    params: Mapping[str, str] | None = None,
) -> None:
    """POST a chat robot's JSON message (UTF-8, Chinese as is) and check its reply."""
    response = await request(
        client,
        channel,
        method="POST",
        url=url,
        content=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        params=params,
    )
    robot_reply(response, channel, busy=busy)
