"""Refused readings and payloads, kept for inspection (see ``domain/reject.py``).

Letters are written in bulk by the ingest path and read newest first; each carries the scope
path of its tag or sending device, and scoped reads filter on it inside SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select

from hazwatch.domain.clock import Millis
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.scope import Grant
from hazwatch.storage.bulk import insert_rows
from hazwatch.storage.database import Database
from hazwatch.storage.schema import dead_letters
from hazwatch.storage.visibility import visible


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDeadLetter:
    """A dead letter with the id it was stored under."""

    id: int
    letter: DeadLetter


StoredDeadLetters = list[StoredDeadLetter]


class DeadLetterRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, letters: Sequence[DeadLetter]) -> None:
        """Store ``letters`` in one transaction, in bulk."""
        if not letters:
            return
        rows = [
            {
                "received": letter.received,
                "source": letter.source,
                "reason": letter.reason.value,
                "detail": letter.detail,
                "scope_path": letter.scope_path,
                "tag_key": letter.tag_key,
                "ts": letter.ts,
                "value": letter.value,
                "payload": letter.payload,
            }
            for letter in letters
        ]
        with self._db.engine.begin() as conn:
            insert_rows(conn, dead_letters, rows)

    def list(
        self,
        grant: Grant,
        *,
        reason: RejectReason | None = None,
        since: Millis | None = None,
        limit: int = 500,
    ) -> StoredDeadLetters:
        """Letters ``grant`` may see, newest first (``since``: received at or after it)."""
        where: list[ColumnElement[bool]] = [visible(dead_letters.c.scope_path, grant)]
        if reason is not None:
            where.append(dead_letters.c.reason == reason.value)
        if since is not None:
            where.append(dead_letters.c.received >= since)
        query = (
            select(dead_letters)
            .where(*where)
            .order_by(dead_letters.c.received.desc(), dead_letters.c.id.desc())
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [
                StoredDeadLetter(
                    id=row.id,
                    letter=DeadLetter(
                        received=row.received,
                        source=row.source,
                        reason=RejectReason(row.reason),
                        detail=row.detail,
                        scope_path=row.scope_path,
                        tag_key=row.tag_key,
                        ts=row.ts,
                        value=row.value,
                        payload=row.payload,
                    ),
                )
                for row in conn.execute(query)
            ]

    def count_by_reason(self, grant: Grant | None = None) -> dict[RejectReason, int]:
        """How many letters are stored per reason (reasons with none are absent).

        ``None`` counts every letter (for metrics); a grant counts those it may see.
        """
        query = select(dead_letters.c.reason, func.count()).group_by(dead_letters.c.reason)
        if grant is not None:
            query = query.where(visible(dead_letters.c.scope_path, grant))
        with self._db.engine.connect() as conn:
            return {RejectReason(reason): count for reason, count in conn.execute(query)}

    def delete_before(self, received: Millis) -> int:
        """Delete letters received before ``received``; returns how many went."""
        with self._db.engine.begin() as conn:
            result = conn.execute(delete(dead_letters).where(dead_letters.c.received < received))
            return result.rowcount
