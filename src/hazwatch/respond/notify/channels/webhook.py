"""Signed webhook: POST the message as JSON to a URL.

Headers: ``X-Hazwatch-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
shared secret>`` and ``Idempotency-Key: <key>``. The receiver recomputes the HMAC over the
bytes it received and compares in constant time; it ignores a key it has seen before.
"""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx

from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.channels.request import request
from hazwatch.respond.notify.message import Message, Recipient

SIGNATURE_HEADER = "X-Hazwatch-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def sign(body: bytes, secret: str) -> str:
    """The signature header's value for ``body``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def payload(message: Message, recipient: Recipient, key: str) -> dict[str, object]:
    """The JSON document a webhook receives."""
    return {
        "key": key,
        "recipient": recipient.user,
        "at": message.at,
        "title": message.title,
        "text": message.text,
        "counts": message.counts,
        "notices": [
            {
                "source": str(n.source),
                "id": n.id,
                "scope": n.scope,
                "level": str(n.level),
                "title": n.title,
                "text": n.text,
                "at": n.at,
                "dedup_key": n.dedup_key,
            }
            for n in message.notices
        ],
    }


class WebhookChannel:
    """POSTs to the recipient's ``webhook`` address, else to ``url``."""

    def __init__(
        self, *, client: httpx.AsyncClient, secret: str, url: str = "", name: str = "webhook"
    ) -> None:
        self.name, self._client, self._secret, self._url = name, client, secret, url

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        url = recipient.address(self.name) or self._url
        if not url:
            raise ChannelError(self.name, f"no webhook URL for {recipient.user}", retryable=False)
        body = json.dumps(payload(message, recipient, key), ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, self._secret),
            IDEMPOTENCY_HEADER: key,
        }
        await request(
            self._client, self.name, method="POST", url=url, content=body, headers=headers
        )
