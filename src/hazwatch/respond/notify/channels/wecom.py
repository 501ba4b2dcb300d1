"""WeCom (企业微信) group robot: a markdown message.

Body: ``{"msgtype": "markdown", "markdown": {"content": …}}`` posted to
``https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…``; content is at most 4,096 bytes
of UTF-8, so longer text is cut. The robot answers HTTP 200 with ``errcode`` 0 on success;
45009 (frequency limit, 20 a minute) and -1 (busy) are retried, other codes are not.
"""

from __future__ import annotations

import httpx

from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.channels.request import post_robot
from hazwatch.respond.notify.message import Message, Recipient

BUSY = frozenset({-1, 45009})
MAX_CONTENT_BYTES = 4096


def content(message: Message) -> str:
    """The markdown content, cut on a character boundary to fit ``MAX_CONTENT_BYTES``."""
    text = f"### {message.title}\n{message.text}"
    raw = text.encode("utf-8")
    if len(raw) <= MAX_CONTENT_BYTES:
        return text
    return raw[: MAX_CONTENT_BYTES - 3].decode("utf-8", errors="ignore") + "…"


def payload(message: Message) -> dict[str, object]:
    return {"msgtype": "markdown", "markdown": {"content": content(message)}}


class WeComChannel:
    """Posts to the recipient's ``wecom`` robot URL, else to ``url``."""

    def __init__(self, *, client: httpx.AsyncClient, url: str = "", name: str = "wecom") -> None:
        self.name, self._client, self._url = name, client, url

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        url = recipient.address(self.name) or self._url
        if not url:
            raise ChannelError(self.name, f"no robot URL for {recipient.user}", retryable=False)
        await post_robot(self._client, self.name, url=url, payload=payload(message), busy=BUSY)
