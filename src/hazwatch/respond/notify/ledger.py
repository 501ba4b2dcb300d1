"""The delivery ledger: which idempotency keys were sent, and every delivery attempt.

The interface is small so that a database repository can replace the in-memory one.
"""

from __future__ import annotations

from typing import Protocol

from hazwatch.respond.notify.message import Delivery, DeliveryStatus

_DELIVERED = (DeliveryStatus.SENT, DeliveryStatus.FELL_BACK)


class DeliveryLog(Protocol):
    async def delivered(self, key: str) -> bool:
        """True when a delivery with this key was sent (directly or as a fallback)."""
        ...

    async def record(self, delivery: Delivery) -> None: ...


class MemoryDeliveryLog:
    """A ``DeliveryLog`` in memory: lost on restart (tests, demos, single process)."""

    def __init__(self) -> None:
        self.records: list[Delivery] = []
        self._sent: set[str] = set()

    async def delivered(self, key: str) -> bool:
        return key in self._sent

    async def record(self, delivery: Delivery) -> None:
        self.records.append(delivery)
        if delivery.status in _DELIVERED:
            self._sent.add(delivery.key)
