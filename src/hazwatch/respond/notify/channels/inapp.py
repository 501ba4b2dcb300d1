"""In-app notifications: an inbox per user, read in the web console and through the API.

An ``Inbox`` keeps entries per user and ignores an entry whose key it holds already;
``MemoryInbox`` keeps them in memory (tests), ``storage.inbox_repository.DatabaseInbox`` in
the database. Delivery cannot fail, which makes in-app the last resort behind every other
channel.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from hazwatch.domain.clock import Millis
from hazwatch.respond.notify.message import Message, Recipient


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxEntry:
    key: str
    title: str
    text: str
    rank: int
    at: Millis
    notice_ids: tuple[str, ...]


class Inbox(Protocol):
    """Entries per user, newest last; an entry whose key is already there is ignored."""

    def put(self, user: str, entry: InboxEntry) -> None: ...

    def entries(self, user: str) -> tuple[InboxEntry, ...]: ...


class MemoryInbox:
    """An ``Inbox`` in memory."""

    def __init__(self) -> None:
        self._entries: dict[str, list[InboxEntry]] = {}
        self._keys: set[str] = set()

    def put(self, user: str, entry: InboxEntry) -> None:
        if entry.key in self._keys:
            return
        self._keys.add(entry.key)
        self._entries.setdefault(user, []).append(entry)

    def entries(self, user: str) -> tuple[InboxEntry, ...]:
        return tuple(self._entries.get(user, ()))


class InAppChannel:
    def __init__(self, *, inbox: Inbox, name: str = "inapp") -> None:
        self.name, self.inbox = name, inbox

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        entry = InboxEntry(
            key=key,
            title=message.title,
            text=message.text,
            rank=message.rank,
            at=message.at,
            notice_ids=message.notice_ids,
        )
        await asyncio.to_thread(self.inbox.put, recipient.user, entry)
