"""Contacts: the posts each user holds and how to reach them (``respond.directory``).

One row per user, the contact as JSON; saving replaces it. Reads return ``Contact`` values
ready for ``respond.directory.resolve``.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import orjson
from sqlalchemy import delete, select

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Priority
from hazwatch.respond.directory import Contact, Post
from hazwatch.respond.notify.message import QuietHours, Recipient
from hazwatch.storage.database import Database
from hazwatch.storage.schema import contacts
from hazwatch.storage.upsert import upsert


class ContactRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, contact: Contact, *, actor: str, now: Millis) -> None:
        row = {
            "username": contact.user,
            "document": orjson.dumps(document_of(contact)).decode(),
            "updated_at": now,
            "updated_by": actor,
        }
        insert = upsert(self._db.dialect, contacts)
        statement = insert.on_conflict_do_update(
            index_elements=["username"],
            set_={k: insert.excluded[k] for k in ("document", "updated_at", "updated_by")},
        )
        with self._db.engine.begin() as conn:
            conn.execute(statement, row)

    def get(self, user: str) -> Contact | None:
        with self._db.engine.connect() as conn:
            found = conn.execute(
                select(contacts.c.document).where(contacts.c.username == user)
            ).scalar()
        return None if found is None else contact_of(orjson.loads(str(found)))

    def all(self) -> list[Contact]:
        with self._db.engine.connect() as conn:
            rows = conn.execute(select(contacts.c.document).order_by(contacts.c.username))
            return [contact_of(orjson.loads(str(d))) for d in rows.scalars()]

    def remove(self, user: str) -> bool:
        with self._db.engine.begin() as conn:
            gone = conn.execute(delete(contacts).where(contacts.c.username == user)).rowcount
        return bool(gone)


def document_of(contact: Contact) -> dict[str, Any]:
    r = contact.recipient
    quiet = r.quiet_hours
    return {
        "user": contact.user,
        "posts": [{"position": p.position, "scope": p.scope} for p in contact.posts],
        "channels": list(r.channels),
        "addresses": dict(r.addresses),
        "scopes": list(r.scopes),
        "min_priority": r.min_priority.value,
        "quiet_hours": None
        if quiet is None
        else {
            "start": quiet.start.isoformat("minutes"),
            "end": quiet.end.isoformat("minutes"),
            "zone": quiet.zone,
        },
    }


def contact_of(doc: dict[str, Any]) -> Contact:
    quiet = doc.get("quiet_hours")
    return Contact(
        user=doc["user"],
        posts=tuple(Post(position=p["position"], scope=p["scope"]) for p in doc["posts"]),
        recipient=Recipient(
            user=doc["user"],
            channels=tuple(doc["channels"]),
            addresses=dict(doc["addresses"]),
            scopes=tuple(doc["scopes"]),
            min_priority=Priority(doc["min_priority"]),
            quiet_hours=None
            if quiet is None
            else QuietHours(
                start=time.fromisoformat(quiet["start"]),
                end=time.fromisoformat(quiet["end"]),
                zone=quiet["zone"],
            ),
        ),
    )
