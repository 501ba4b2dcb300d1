"""The sender: retries with backoff, fallback, delivery records, no notification twice;
and the whole pipeline under an alarm flood and a channel outage."""

from __future__ import annotations

import random
from collections import Counter
from typing import TYPE_CHECKING

import httpx
import pytest
from ports import free_port

from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.respond.notify.channel import Channel
from hazwatch.respond.notify.channels.inapp import InAppChannel, MemoryInbox
from hazwatch.respond.notify.channels.webhook import WebhookChannel
from hazwatch.respond.notify.ledger import MemoryDeliveryLog
from hazwatch.respond.notify.message import DeliveryStatus, Message, Recipient
from hazwatch.respond.notify.pipeline import Dedup, Grouper, RateLimit, mute, plan
from hazwatch.respond.notify.sender import Retry, Sender

if TYPE_CHECKING:
    from conftest import Factory, HttpServer

SECOND = 1000
RETRY = Retry(attempts=3, initial=0.01, cap=0.02)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _sender(channels: dict[str, Channel], log: MemoryDeliveryLog, sleeps: Sleeps) -> Sender:
    return Sender(
        channels=channels,
        log=log,
        clock=lambda: 1_780_000_000_000,
        retry=RETRY,
        sleep=sleeps,
        rng=random.Random(7),
    )


@pytest.fixture
def wang(http_server: HttpServer) -> Recipient:
    return Recipient(
        user="wang", channels=("webhook", "inapp"), addresses={"webhook": http_server.url + "/in"}
    )


async def test_an_outage_is_retried_then_falls_back_and_is_recorded(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory, wang: Recipient
) -> None:
    http_server.default = (503, "maintenance")
    inbox, log, sleeps = MemoryInbox(), MemoryDeliveryLog(), Sleeps()
    sender = _sender(
        {"webhook": WebhookChannel(client=client, secret="s"), "inapp": InAppChannel(inbox=inbox)},
        log,
        sleeps,
    )
    (planned,) = plan([make.message(make.alarm(1))], [wang], make.t0).deliveries
    final = await sender.deliver(planned)

    assert len(http_server.received) == RETRY.attempts
    assert len(sleeps.delays) == RETRY.attempts - 1
    assert all(RETRY.initial / 2 <= d <= RETRY.cap for d in sleeps.delays)
    assert final is not None and final.status is DeliveryStatus.FELL_BACK
    assert [(d.channel, d.status, d.attempts) for d in log.records] == [
        ("webhook", DeliveryStatus.FAILED, 3),
        ("inapp", DeliveryStatus.FELL_BACK, 1),
    ]
    assert "503" in log.records[0].error
    assert [e.notice_ids for e in inbox.entries("wang")] == [("alarm:1:HH:1",)]


async def test_a_refusing_port_also_falls_back(client: httpx.AsyncClient, make: Factory) -> None:
    inbox, log, sleeps = MemoryInbox(), MemoryDeliveryLog(), Sleeps()
    sender = _sender(
        {"webhook": WebhookChannel(client=client, secret="s"), "inapp": InAppChannel(inbox=inbox)},
        log,
        sleeps,
    )
    dead = Recipient(
        user="wang", channels=("webhook",), addresses={"webhook": f"http://127.0.0.1:{free_port()}"}
    )
    (planned,) = plan([make.message()], [dead], make.t0).deliveries
    final = await sender.deliver(planned)
    assert final is not None and final.status is DeliveryStatus.FELL_BACK
    assert log.records[0].attempts == RETRY.attempts
    assert len(inbox.entries("wang")) == 1


async def test_a_refusal_is_not_retried(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory, wang: Recipient
) -> None:
    http_server.default = (400, "bad")
    log, sleeps = MemoryDeliveryLog(), Sleeps()
    sender = _sender(
        {
            "webhook": WebhookChannel(client=client, secret="s"),
            "inapp": InAppChannel(inbox=MemoryInbox()),
        },
        log,
        sleeps,
    )
    (planned,) = plan([make.message()], [wang], make.t0).deliveries
    await sender.deliver(planned)
    assert len(http_server.received) == 1 and sleeps.delays == []
    assert log.records[0].attempts == 1


async def test_a_brief_outage_recovers_on_the_preferred_channel(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory, wang: Recipient
) -> None:
    http_server.script = [(503, "busy")]
    inbox, log = MemoryInbox(), MemoryDeliveryLog()
    sender = _sender(
        {"webhook": WebhookChannel(client=client, secret="s"), "inapp": InAppChannel(inbox=inbox)},
        log,
        Sleeps(),
    )
    (planned,) = plan([make.message()], [wang], make.t0).deliveries
    final = await sender.deliver(planned)
    assert final is not None and (final.status, final.attempts) == (DeliveryStatus.SENT, 2)
    assert inbox.entries("wang") == ()
    # both tries carried the same idempotency key, so the far end can drop a repeat
    keys = {r.headers["idempotency-key"] for r in http_server.received}
    assert keys == {planned.keys[0]}


async def test_a_replayed_plan_sends_nothing_twice(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory, wang: Recipient
) -> None:
    inbox, log = MemoryInbox(), MemoryDeliveryLog()
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(client=client, secret="s"),
        "inapp": InAppChannel(inbox=inbox),
    }
    sender = _sender(channels, log, Sleeps())
    messages = [make.message(make.alarm(1)), make.message(make.alarm(2), make.alarm(3))]
    for planned in plan(messages, [wang], make.t0).deliveries:
        assert await sender.deliver(planned) is not None
    # a restart replays the same plan, with the notices in another order, an hour later
    replay = [make.message(make.alarm(1)), make.message(make.alarm(3), make.alarm(2))]
    for planned in plan(replay, [wang], make.t0 + 60 * MINUTE_MS).deliveries:
        assert await _sender(channels, log, Sleeps()).deliver(planned) is None
    assert len(http_server.received) == 2
    assert len(log.records) == 2


async def test_a_message_that_fell_back_is_not_resent_on_replay(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory, wang: Recipient
) -> None:
    http_server.default = (503, "down")
    inbox, log = MemoryInbox(), MemoryDeliveryLog()
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(client=client, secret="s"),
        "inapp": InAppChannel(inbox=inbox),
    }
    (planned,) = plan([make.message()], [wang], make.t0).deliveries
    await _sender(channels, log, Sleeps()).deliver(planned)
    http_server.default = (200, "{}")
    assert await _sender(channels, log, Sleeps()).deliver(planned) is None
    assert len(http_server.received) == RETRY.attempts  # none after the fallback


async def test_a_flood_during_an_outage_is_grouped_and_never_silent(
    http_server: HttpServer, client: httpx.AsyncClient, make: Factory
) -> None:
    """500 alarms in a minute, a few of them shelved, the webhook down: every unshelved
    alarm reaches each recipient exactly once, in a handful of messages, through the
    fallback channel."""
    http_server.default = (503, "down")
    recipients = [
        Recipient(user=u, channels=("webhook", "inapp"), addresses={"webhook": http_server.url})
        for u in ("wang", "li")
    ]
    inbox, log = MemoryInbox(), MemoryDeliveryLog()
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(client=client, secret="s"),
        "inapp": InAppChannel(inbox=inbox),
    }
    sender = _sender(channels, log, Sleeps())
    shelved = {f"alarm:{n}:HH:1" for n in range(0, 500, 50)}
    flood = [make.alarm(n, at=make.t0 + n * 120) for n in range(500)]
    dedup = Dedup(window_ms=5 * MINUTE_MS)
    grouper = Grouper(wait_ms=10 * SECOND, interval_ms=MINUTE_MS)
    limit = RateLimit(burst=5, refill_ms=MINUTE_MS)
    sent: list[Message] = []
    for second in range(181):
        now: Millis = make.t0 + second * SECOND
        arriving = [a for a in flood if now - SECOND < a.at <= now]
        arriving += arriving[:3]  # chatter: some raised twice
        grouper.add(dedup.admit(mute(arriving, lambda n: n.id in shelved), now), recipients, now)
        the_plan = plan(grouper.flush(now), recipients, now, limit)
        assert the_plan.deferred == ()
        for planned in the_plan.deliveries:
            await sender.deliver(planned)
            sent.append(planned.message)

    per_user = Counter(m.recipient for m in sent)
    assert per_user == {"wang": per_user["wang"], "li": per_user["li"]}
    assert 1 <= per_user["wang"] <= 3
    expected = sorted(a.id for a in flood if a.id not in shelved)
    for user in ("wang", "li"):
        got = sorted(i for e in inbox.entries(user) for i in e.notice_ids)
        assert got == expected
    assert all(r.status in (DeliveryStatus.FAILED, DeliveryStatus.FELL_BACK) for r in log.records)
    assert len(http_server.received) == RETRY.attempts * len(sent)


async def test_a_replay_in_quiet_hours_does_not_repeat_a_message_already_sent(
    make: Factory,
) -> None:
    from dataclasses import replace
    from datetime import time

    from hazwatch.respond.notify.message import QuietHours

    inbox, log = MemoryInbox(), MemoryDeliveryLog()
    wang = Recipient(user="wang", channels=("inapp",))
    channels: dict[str, Channel] = {
        "inapp": InAppChannel(inbox=inbox),
        "sms": InAppChannel(inbox=inbox),
    }
    loud = replace(wang, channels=("sms",))
    (first,) = plan([make.message()], [loud], make.t0).deliveries
    assert first.channels == ("sms", "inapp")
    assert await _sender(channels, log, Sleeps()).deliver(first) is not None
    quiet = replace(loud, quiet_hours=QuietHours(start=time(0), end=time(23, 59)))
    (replayed,) = plan([make.message()], [quiet], make.t0).deliveries
    assert replayed.channels == ("inapp",)
    assert await _sender(channels, log, Sleeps()).deliver(replayed) is None
