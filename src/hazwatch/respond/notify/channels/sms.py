"""SMS through an HTTP gateway, described by a request template.

The template names the method, URL, headers and body, with the placeholders ``{phone}``
and ``{text}`` (and ``{key}``, the idempotency key, for gateways that take one). Values are
escaped for where they land: URL-encoded in the URL, per ``body_format`` in the body (JSON
string content, form encoding, or as is). Placeholders are replaced literally, so braces
in a JSON body template need no doubling. The text is the message title, cut to
``max_chars`` (a long SMS is split and billed per 70 Chinese characters).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import quote, quote_plus

import httpx

from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.channels.request import request
from hazwatch.respond.notify.message import Message, Recipient


class BodyFormat(StrEnum):
    JSON = "json"
    FORM = "form"
    RAW = "raw"


@dataclass(frozen=True, slots=True, kw_only=True)
class SmsTemplate:
    url: str
    method: str = "POST"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    body_format: BodyFormat = BodyFormat.JSON
    max_chars: int = 140


def _escape(value: str, fmt: BodyFormat) -> str:
    if fmt is BodyFormat.JSON:
        return json.dumps(value, ensure_ascii=False)[1:-1]
    if fmt is BodyFormat.FORM:
        return quote_plus(value)
    return value


def _fill(template: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        template = template.replace("{" + name + "}", value)
    return template


def sms_text(message: Message, max_chars: int) -> str:
    text = message.title
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


class SmsChannel:
    """Sends the message title to the recipient's ``sms`` address (a phone number)."""

    def __init__(
        self, *, client: httpx.AsyncClient, template: SmsTemplate, name: str = "sms"
    ) -> None:
        self.name, self._client, self._template = name, client, template

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        phone = recipient.address(self.name)
        if not phone:
            raise ChannelError(self.name, f"no phone number for {recipient.user}", retryable=False)
        t = self._template
        values = {"phone": phone, "text": sms_text(message, t.max_chars), "key": key}
        url = _fill(t.url, {k: quote(v, safe="") for k, v in values.items()})
        body = _fill(t.body, {k: _escape(v, t.body_format) for k, v in values.items()})
        headers = {k: _fill(v, values) for k, v in t.headers.items()}
        await request(
            self._client,
            self.name,
            method=t.method,
            url=url,
            content=body.encode("utf-8"),
            headers=headers,
        )
