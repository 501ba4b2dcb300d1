"""The notification channel protocol: one small interface every channel implements.

Errors::

    ChannelError           the message was not delivered over this channel
      retryable=True       the channel is down or busy (5xx, timeout, refused, rate limited)
      retryable=False      the request itself is wrong (4xx, bad address, rejected content)

A channel sends once and raises; retries, backoff and fallback belong to ``Sender``.
"""

from __future__ import annotations

from typing import Protocol

from hazwatch.respond.notify.message import Message, Recipient


class ChannelError(Exception):
    """A channel failed to deliver; ``retryable`` says whether trying again may help."""

    def __init__(self, channel: str, detail: str, *, retryable: bool) -> None:
        super().__init__(f"{channel}: {detail}")
        self.channel, self.detail, self.retryable = channel, detail, retryable


class Channel(Protocol):
    """Delivers one message to one recipient.

    ``key`` is the idempotency key of this (recipient, channel, notices): channels whose
    far end understands one pass it on (``Idempotency-Key``, ``Message-ID``), so that a
    retry after a lost acknowledgement is recognised there too.
    """

    name: str

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None: ...
