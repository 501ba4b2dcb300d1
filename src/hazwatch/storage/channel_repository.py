"""Notification channels (``respond.notify.channel_config``): one row per channel name.

Each row holds the whole entry as JSON, secrets included, so the database is to be guarded
as the settings file is. Reads validate the document again (``parse_channel``), so what
comes out is an entry ``build_channel`` accepts. ``put`` creates or replaces an entry in one
statement; nothing is merged — a caller that must keep masked secrets resolves them first
(``parse_channel(…, stored=repository.get(name))``).
"""

from __future__ import annotations

import orjson
from sqlalchemy import delete, select

from hazwatch.domain.clock import Millis
from hazwatch.respond.notify.channel_config import ChannelEntry, document_of, parse_channel
from hazwatch.storage.database import Database
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.schema import channels
from hazwatch.storage.upsert import upsert


class ChannelRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def list(self) -> list[ChannelEntry]:
        """Every channel, enabled or not, by name."""
        with self._db.engine.connect() as conn:
            documents = conn.execute(select(channels.c.document).order_by(channels.c.name))
            return [parse_channel(orjson.loads(str(d))) for d in documents.scalars()]

    def get(self, name: str) -> ChannelEntry | None:
        with self._db.engine.connect() as conn:
            found = conn.execute(
                select(channels.c.document).where(channels.c.name == name)
            ).scalar()
        return None if found is None else parse_channel(orjson.loads(str(found)))

    def put(self, entry: ChannelEntry, *, actor: str, now: Millis) -> PutOutcome:
        """Create the channel or replace the one of the same name; ``actor`` and ``now``
        (epoch ms) record who changed it last."""
        row = {
            "name": entry.name,
            "kind": entry.kind.value,
            "enabled": entry.enabled,
            "document": orjson.dumps(document_of(entry)).decode(),
            "updated_at": now,
            "updated_by": actor,
        }
        insert = upsert(self._db.dialect, channels)
        statement = insert.on_conflict_do_update(
            index_elements=["name"],
            set_={k: insert.excluded[k] for k in row if k != "name"},
        )
        with self._db.engine.begin() as conn:
            existed = conn.execute(
                select(channels.c.name).where(channels.c.name == entry.name)
            ).first()
            conn.execute(statement, row)
        return PutOutcome.CREATED if existed is None else PutOutcome.REPLACED

    def delete(self, name: str) -> bool:
        """Remove a channel; False when there was none of that name."""
        with self._db.engine.begin() as conn:
            gone = conn.execute(delete(channels).where(channels.c.name == name)).rowcount
        return bool(gone)
