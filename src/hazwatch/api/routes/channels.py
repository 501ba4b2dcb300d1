"""Notification channels: list, read, set, remove, and send a test message (admins only).

A channel is ``{"name", "kind", "enabled", "config"}`` (``respond.notify.channel_config``);
the name in the path is a key segment and is the channel's name. Secrets never leave: they
read as ``"***"``, listed in ``secrets_set``, and a document sent back with ``"***"`` keeps
the stored secret. A refused document answers 422 with ``problems`` each naming the field
(``config.url: expected an http or https URL``).

The test sends one short message over the stored channel (enabled or not, so it can be tried
before it is switched on) to the address in the body, once, without retries: 200 when the
far end took it, 502 with the channel's error when not.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Body, Depends, HTTPException, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hazwatch.api.deps import AdminGrant, PlatformDep, PrincipalDep
from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Priority
from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.channel_config import (
    ChannelConfigError,
    ChannelEntry,
    ChannelKind,
    build_channel,
    masked_document,
    parse_channel,
)
from hazwatch.respond.notify.message import Message, Notice, Recipient, SourceKind
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.outcome import PutOutcome

router = APIRouter(tags=["channels"])

TEST_TIMEOUT_S = 10.0
"""How long a test waits for an HTTP channel's far end (e-mail uses its own ``timeout_s``)."""

_NEEDS_ADDRESS = {ChannelKind.EMAIL: "an e-mail address", ChannelKind.SMS: "a phone number"}


def channel_repository(platform: PlatformDep) -> ChannelRepository:
    return ChannelRepository(platform.db)


ChannelsDep = Annotated[ChannelRepository, Depends(channel_repository)]

ChannelBody = Annotated[
    dict[str, Any],
    Body(
        description="kind (webhook, dingtalk, wecom, email, sms, inapp), enabled, and the "
        'kind\'s config; a secret sent as "***" keeps the stored one',
        examples=[
            {
                "kind": "dingtalk",
                "enabled": True,
                "config": {
                    "url": "https://oapi.dingtalk.com/robot/send?access_token=…",
                    "secret": "SEC…",
                },
            }
        ],
    ),
]


class ChannelTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str = Field(
        default="",
        max_length=500,
        description="e-mail address, phone number, or robot/webhook URL; empty: the "
        "channel's own URL (in-app: the caller's inbox)",
    )
    title: str = Field(
        default="",
        max_length=200,
        description="the message title (a DingTalk robot with a keyword needs it in there)",
    )


@router.get("/channels", operation_id="list_channels")
def list_channels(channels: ChannelsDep, grant: AdminGrant) -> list[dict[str, Any]]:
    """Every channel, by name, with its secrets masked."""
    return [masked_document(e) for e in channels.list()]


@router.get("/channels/{name}", operation_id="get_channel")
def get_channel(name: str, channels: ChannelsDep, grant: AdminGrant) -> dict[str, Any]:
    return masked_document(_stored(channels, name))


@router.put("/channels/{name}", operation_id="set_channel")
def set_channel(
    name: str,
    body: ChannelBody,
    channels: ChannelsDep,
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: AdminGrant,
) -> JSONResponse:
    """Create (201) or replace (200) the channel ``name``."""
    problems: list[str] = []
    if "name" in body and body["name"] != name:
        problems.append(f"name: {body['name']!r} differs from the name in the path {name!r}")
    entry: ChannelEntry | None = None
    try:
        entry = parse_channel(body | {"name": name}, stored=channels.get(name))
    except ChannelConfigError as exc:
        problems += exc.problems
    if problems or entry is None:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "the channel is not valid", "problems": problems},
        )
    outcome = channels.put(entry, actor=principal.name, now=platform.clock.now())
    created = outcome is PutOutcome.CREATED
    return JSONResponse(
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        content=masked_document(entry),
    )


@router.delete(
    "/channels/{name}", operation_id="delete_channel", status_code=status.HTTP_204_NO_CONTENT
)
def delete_channel(name: str, channels: ChannelsDep, grant: AdminGrant) -> Response:
    if not channels.delete(name):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no channel {name!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/channels/{name}/test", operation_id="test_channel")
async def test_channel(
    name: str,
    body: ChannelTestIn,
    channels: ChannelsDep,
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: AdminGrant,
) -> JSONResponse:
    """Send one test message over the channel: 200 ``{"outcome": "sent"}``, or 502 with the
    channel's error and whether trying again may help."""
    entry = _stored(channels, name)
    needed = _NEEDS_ADDRESS.get(entry.kind)
    if needed and not body.address:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={
                "detail": "the test has no recipient",
                "problems": [f"address: the {entry.kind} channel needs {needed} to send to"],
            },
        )
    recipient = Recipient(
        user=principal.name,
        channels=(name,),
        addresses={name: body.address} if body.address else {},
    )
    message = _test_message(entry, principal.name, body.title, now=platform.clock.now())
    key = uuid.uuid4().hex
    async with httpx.AsyncClient(timeout=TEST_TIMEOUT_S) as client:
        channel = build_channel(entry, client=client, inbox=platform.inbox)
        try:
            await channel.send(message, recipient, key=key)
        except ChannelError as exc:
            return JSONResponse(
                status_code=status.HTTP_502_BAD_GATEWAY,
                content={
                    "detail": f"{name}: {exc.detail}",
                    "channel": name,
                    "outcome": "failed",
                    "retryable": exc.retryable,
                },
            )
    return JSONResponse(
        status_code=status.HTTP_200_OK,
        content={"channel": name, "kind": entry.kind.value, "outcome": "sent", "key": key},
    )


def _stored(channels: ChannelRepository, name: str) -> ChannelEntry:
    entry = channels.get(name)
    if entry is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no channel {name!r}")
    return entry


def _test_message(entry: ChannelEntry, user: str, title: str, *, now: Millis) -> Message:
    """One lowest-rank notice of source ``test``, so no receiver takes it for an alarm."""
    notice = Notice(
        source=SourceKind.TEST,
        id=f"test:{entry.name}:{now}",
        scope="",
        level=Priority.LOW,
        title=title or f"hazwatch 测试消息 / test message ({entry.name})",
        text=f"sent by {user} to check the {entry.kind} channel {entry.name!r}",
        at=now,
        dedup_key=f"test:{entry.name}",
    )
    return Message(recipient=user, notices=(notice,), at=now)
