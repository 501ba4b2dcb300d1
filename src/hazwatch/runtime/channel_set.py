"""The notification channels in force: the enabled ones configured through the API.

Read from the database at most every ``REFRESH_S`` wall seconds, so a channel added or
changed through ``/api/v1/channels`` carries the next messages without a restart. A channel
is rebuilt only when its document changed. In-app is always there: it is everyone's last
resort (``notify.pipeline.LAST_RESORT``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping

import httpx

from hazwatch.respond.notify.channel import Channel
from hazwatch.respond.notify.channel_config import ChannelEntry, build_channel, document_of
from hazwatch.respond.notify.channels.inapp import InAppChannel, Inbox
from hazwatch.respond.notify.pipeline import LAST_RESORT
from hazwatch.storage.channel_repository import ChannelRepository

REFRESH_S = 5.0
TIMEOUT_S = 10.0
"""Per request to a webhook, robot or SMS gateway; a retry follows a timeout."""


class ChannelSet:
    def __init__(self, repository: ChannelRepository, inbox: Inbox) -> None:
        self._repository = repository
        self._inbox = inbox
        self._client = httpx.AsyncClient(timeout=TIMEOUT_S)
        self._built: dict[str, tuple[str, Channel]] = {}
        self._read_at = -REFRESH_S

    def __call__(self) -> Mapping[str, Channel]:
        """The channels by name, as configured now."""
        if time.monotonic() - self._read_at >= REFRESH_S:
            self._read_at = time.monotonic()
            self._refresh(self._repository.list())
        out = {name: channel for name, (_, channel) in self._built.items()}
        out.setdefault(LAST_RESORT, InAppChannel(inbox=self._inbox, name=LAST_RESORT))
        return out

    def _refresh(self, entries: list[ChannelEntry]) -> None:
        built: dict[str, tuple[str, Channel]] = {}
        for entry in entries:
            if not entry.enabled:
                continue
            text = json.dumps(document_of(entry), sort_keys=True)
            kept = self._built.get(entry.name)
            if kept is not None and kept[0] == text:
                built[entry.name] = kept
            else:
                channel = build_channel(entry, client=self._client, inbox=self._inbox)
                built[entry.name] = (text, channel)
        self._built = built

    async def close(self) -> None:
        await self._client.aclose()
