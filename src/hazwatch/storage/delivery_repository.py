"""The delivery ledger in the database: notifications are never sent twice, across restarts.

Implements ``respond.notify.ledger.DeliveryLog``: every attempt is a row; a key with a
``sent`` or ``fell_back`` row counts as delivered. The async methods run the (short)
queries in a worker thread so the event loop that sends is never blocked.
"""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from hazwatch.respond.notify.message import Delivery, DeliveryStatus
from hazwatch.storage.database import Database
from hazwatch.storage.schema import deliveries

_DELIVERED = (DeliveryStatus.SENT.value, DeliveryStatus.FELL_BACK.value)


class DatabaseDeliveryLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def delivered(self, key: str) -> bool:
        return await asyncio.to_thread(self._delivered, key)

    async def record(self, delivery: Delivery) -> None:
        await asyncio.to_thread(self._record, delivery)

    def _delivered(self, key: str) -> bool:
        query = (
            select(deliveries.c.id)
            .where(deliveries.c.key == key, deliveries.c.status.in_(_DELIVERED))
            .limit(1)
        )
        with self._db.engine.connect() as conn:
            return conn.execute(query).first() is not None

    def _record(self, delivery: Delivery) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(
                deliveries.insert(),
                {
                    "key": delivery.key,
                    "channel": delivery.channel,
                    "recipient": delivery.recipient,
                    "status": delivery.status.value,
                    "attempts": delivery.attempts,
                    "at": delivery.at,
                    "error": delivery.error,
                },
            )

    def history(self, key: str) -> list[Delivery]:
        """Every attempt recorded under ``key``, oldest first."""
        query = select(deliveries).where(deliveries.c.key == key).order_by(deliveries.c.id)
        with self._db.engine.connect() as conn:
            return [
                Delivery(
                    channel=r.channel,
                    recipient=r.recipient,
                    key=r.key,
                    status=DeliveryStatus(r.status),
                    attempts=r.attempts,
                    at=r.at,
                    error=r.error,
                )
                for r in conn.execute(query)
            ]
