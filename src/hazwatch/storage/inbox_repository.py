"""In-app notifications in the database (``respond.notify.channels.inapp.Inbox``).

An entry is keyed by its delivery's idempotency key: putting it again changes nothing.
People read their own entries, newest first, and mark them read.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select, update

from hazwatch.domain.clock import Millis
from hazwatch.respond.notify.channels.inapp import InboxEntry
from hazwatch.storage.database import Database
from hazwatch.storage.schema import inbox
from hazwatch.storage.upsert import upsert


class DatabaseInbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, user: str, entry: InboxEntry) -> None:
        statement = upsert(self._db.dialect, inbox).on_conflict_do_nothing(index_elements=["key"])
        row = {
            "key": entry.key,
            "username": user,
            "title": entry.title,
            "text": entry.text,
            "rank": entry.rank,
            "at": entry.at,
            "notice_ids": orjson.dumps(list(entry.notice_ids)).decode(),
            "read_at": None,
        }
        with self._db.engine.begin() as conn:
            conn.execute(statement, row)

    def entries(self, user: str) -> tuple[InboxEntry, ...]:
        """Every entry of ``user``, oldest first (the ``Inbox`` contract)."""
        return tuple(e for e, _ in reversed(self.latest(user, limit=10_000)))

    def latest(self, user: str, *, limit: int = 100) -> list[tuple[InboxEntry, Millis | None]]:
        """The newest entries of ``user`` with when each was read (None: unread)."""
        query = (
            select(inbox)
            .where(inbox.c.username == user)
            .order_by(inbox.c.at.desc(), inbox.c.key)
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [
                (
                    InboxEntry(
                        key=r.key,
                        title=r.title,
                        text=r.text,
                        rank=r.rank,
                        at=r.at,
                        notice_ids=tuple(orjson.loads(r.notice_ids)),
                    ),
                    r.read_at,
                )
                for r in conn.execute(query)
            ]

    def mark_read(self, user: str, key: str, *, now: Millis) -> bool:
        """Mark one entry of ``user`` read (once); False when it has no such entry."""
        with self._db.engine.begin() as conn:
            found = conn.execute(
                select(inbox.c.read_at).where(inbox.c.key == key, inbox.c.username == user)
            ).first()
            if found is None:
                return False
            if found.read_at is None:
                conn.execute(update(inbox).where(inbox.c.key == key).values(read_at=now))
        return True
