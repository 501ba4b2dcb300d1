"""DingTalk (钉钉) custom group robot: a markdown message.

Body: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``. With a signing
secret (the robot's "加签" setting) the URL gains ``&timestamp=<epoch ms>&sign=<s>`` where
``s = base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))``, URL-encoded; DingTalk
refuses a timestamp more than an hour off. The robot answers HTTP 200 with ``errcode`` 0 on
success; 130101 (more than 20 messages a minute) is retried, other codes are not.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Callable

import httpx

from hazwatch.domain.clock import Millis
from hazwatch.respond.notify.channel import ChannelError
from hazwatch.respond.notify.channels.request import post_robot
from hazwatch.respond.notify.message import Message, Recipient

BUSY = frozenset({-1, 130101})


def signature(timestamp: Millis, secret: str) -> str:
    """The ``sign`` query value before URL encoding (httpx encodes it)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode("ascii")


def payload(message: Message) -> dict[str, object]:
    return {
        "msgtype": "markdown",
        "markdown": {"title": message.title, "text": f"### {message.title}\n\n{message.text}"},
    }


def _wall_clock() -> Millis:
    return int(time.time() * 1000)


class DingTalkChannel:
    """Posts to the recipient's ``dingtalk`` robot URL, else to ``url``
    (``https://oapi.dingtalk.com/robot/send?access_token=…``)."""

    def __init__(
        self,
        *,
        client: httpx.AsyncClient,
        url: str = "",
        secret: str = "",
        name: str = "dingtalk",
        clock: Callable[[], Millis] = _wall_clock,
    ) -> None:
        self.name, self._client, self._url, self._secret = name, client, url, secret
        self._clock = clock

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        url = recipient.address(self.name) or self._url
        if not url:
            raise ChannelError(self.name, f"no robot URL for {recipient.user}", retryable=False)
        params: dict[str, str] | None = None
        if self._secret:
            stamp = self._clock()
            params = {"timestamp": str(stamp), "sign": signature(stamp, self._secret)}
        await post_robot(
            self._client, self.name, url=url, payload=payload(message), busy=BUSY, params=params
        )
