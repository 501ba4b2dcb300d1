"""The delivery ledger in the database: nothing is sent twice, also after a restart."""

from __future__ import annotations

import random

from hazwatch.domain.tag import Priority
from hazwatch.respond.notify.channels.inapp import InAppChannel, MemoryInbox
from hazwatch.respond.notify.message import (
    Delivery,
    DeliveryStatus,
    Message,
    Notice,
    Recipient,
    SourceKind,
)
from hazwatch.respond.notify.pipeline import plan
from hazwatch.respond.notify.sender import Retry, Sender
from hazwatch.storage.database import Database
from hazwatch.storage.delivery_repository import DatabaseDeliveryLog

T0 = 1_800_000_000_000


async def test_only_sent_or_fallen_back_keys_count_as_delivered(db: Database) -> None:
    db.upgrade()
    log = DatabaseDeliveryLog(db)
    failed = Delivery(channel="webhook", recipient="wang", key="k1", status=DeliveryStatus.FAILED)
    await log.record(failed)
    assert not await log.delivered("k1")
    await log.record(
        Delivery(channel="inapp", recipient="wang", key="k1", status=DeliveryStatus.FELL_BACK)
    )
    assert await DatabaseDeliveryLog(db).delivered("k1"), "a new process sees it"
    assert [d.status for d in log.history("k1")] == [
        DeliveryStatus.FAILED,
        DeliveryStatus.FELL_BACK,
    ]
    assert not await log.delivered("k2")


async def test_a_replayed_plan_after_a_restart_sends_nothing(db: Database) -> None:
    db.upgrade()
    wang = Recipient(user="wang", channels=("inapp",))
    notice = Notice(
        source=SourceKind.ALARM,
        id="7.HH",
        scope="chlor.main.cl2-storage",
        level=Priority.HIGH,
        title="Cl2 detector AT-103 HH",
        at=T0,
        dedup_key="7.HH",
    )
    message = Message(recipient="wang", notices=(notice,), at=T0)
    inbox = MemoryInbox()
    for _ in range(2):  # the second time is the process after a restart
        sender = Sender(
            channels={"inapp": InAppChannel(inbox=inbox)},
            log=DatabaseDeliveryLog(db),
            clock=lambda: T0,
            retry=Retry(attempts=1),
            rng=random.Random(1),
        )
        for planned in plan([message], [wang], T0).deliveries:
            await sender.deliver(planned)
    assert len(inbox.entries("wang")) == 1
