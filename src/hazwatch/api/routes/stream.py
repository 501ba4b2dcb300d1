"""The live stream (Server-Sent Events): alarm and warning transitions, value updates.

Events: ``alarm`` (an alarm, after any transition), ``warning`` (an early warning, after
any transition; not narrowed by ``tags``), ``values`` (tag id → [epoch ms, value, quality]
of tags whose newest reading changed) and ``closed`` (the server dropped a subscriber that
fell behind; the client reconnects and re-reads the alarm and warning lists). A comment
line every 15 s keeps proxies from closing an idle stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse

from hazwatch.api.deps import PrincipalDep
from hazwatch.domain.role import Role
from hazwatch.runtime.hub import Hub, Subscription

router = APIRouter(tags=["stream"])

KEEPALIVE_S = 15.0


@router.get(
    "/stream",
    operation_id="stream_events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    principal: PrincipalDep,
    tags: Annotated[str | None, Query(description="comma-separated tag ids to follow")] = None,
) -> StreamingResponse:
    """Server-Sent Events; EventSource clients pass the token as ``access_token``."""
    hub: Hub = request.app.state.hub
    tag_filter = None
    if tags:
        try:
            tag_filter = frozenset(int(t) for t in tags.split(",") if t.strip())
        except ValueError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="tags must be integers"
            ) from None
    sub = hub.subscribe(principal.grant(Role.VIEWER), tag_filter)
    return StreamingResponse(
        _events(request, hub, sub),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _events(request: Request, hub: Hub, sub: Subscription) -> AsyncIterator[bytes]:
    try:
        yield b"retry: 3000\n\n"
        while not await request.is_disconnected():
            try:
                event = await asyncio.wait_for(sub.queue.get(), KEEPALIVE_S)
            except TimeoutError:
                yield b": keepalive\n\n"
                continue
            yield (
                b"event: " + event.kind.encode() + b"\ndata: " + orjson.dumps(event.data) + b"\n\n"
            )
            if event.kind == "closed":
                return
    finally:
        hub.unsubscribe(sub)
