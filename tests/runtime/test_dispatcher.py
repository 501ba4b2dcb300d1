"""The dispatcher: notify orders delivered off the engine thread, floods grouped, a channel
outage falls back, a request posted again after a restart sends nothing twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace

import pytest

from hazwatch.domain.tag import Priority
from hazwatch.respond.notify.channel import Channel, ChannelError
from hazwatch.respond.notify.ledger import MemoryDeliveryLog
from hazwatch.respond.notify.message import Message, Notice, Recipient, SourceKind
from hazwatch.respond.notify.sender import Retry
from hazwatch.respond.playbook import StepOutcome
from hazwatch.runtime.clock import ManualClock
from hazwatch.runtime.dispatcher import Dispatcher, Grouping, NotifyRequest

T0 = 1_800_000_000_000


class Recording:
    def __init__(self, name: str, *, down: bool = False) -> None:
        self.name, self.down = name, down
        self.sent: list[tuple[str, tuple[str, ...], str]] = []

    async def send(self, message: Message, recipient: Recipient, *, key: str) -> None:
        if self.down:
            raise ChannelError(self.name, "503 service unavailable", retryable=True)
        self.sent.append((recipient.user, message.notice_ids, key))


def _notice(key: str, at: int = T0, priority: Priority = Priority.CRITICAL) -> Notice:
    return Notice(
        source=SourceKind.ALARM,
        id=key,
        scope="chlor.main.cl2.gas-detection.at-101",
        level=priority,
        title="AT-101 HH",
        at=at,
        dedup_key=key,
    )


PEOPLE = (
    Recipient(user="li.na", channels=("webhook",)),
    Recipient(user="wang.fang", channels=("email", "webhook")),
)


@asynccontextmanager
async def _running(
    channels: dict[str, Channel], log: MemoryDeliveryLog, clock: ManualClock
) -> AsyncIterator[tuple[Dispatcher, dict[str, tuple[StepOutcome, str]]]]:
    reports: dict[str, tuple[StepOutcome, str]] = {}
    dispatcher = Dispatcher(
        channels=lambda: channels,
        log=log,
        clock=clock,
        grouping=Grouping(wait_ms=0, interval_ms=60_000, burst=100),
        retry=Retry(attempts=2, initial=0.001, cap=0.001),
    )
    dispatcher.report = lambda key, outcome, detail: reports.__setitem__(key, (outcome, detail))
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher, reports
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def _until(check: Callable[[], bool]) -> None:
    for _ in range(200):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not reached in time")


async def test_each_person_is_told_over_their_channels_and_the_step_reported() -> None:
    webhook, email, inapp = Recording("webhook"), Recording("email"), Recording("inapp")
    channels: dict[str, Channel] = {"webhook": webhook, "email": email, "inapp": inapp}
    async with _running(channels, MemoryDeliveryLog(), ManualClock(T0)) as (dispatcher, reports):
        dispatcher.post(NotifyRequest(notice=_notice("run:shift:1"), recipients=PEOPLE))
        await _until(lambda: "run:shift:1" in reports)
    assert [s[0] for s in webhook.sent] == ["li.na"]
    assert [s[0] for s in email.sent] == ["wang.fang"]
    outcome, detail = reports["run:shift:1"]
    assert outcome is StepOutcome.DONE
    assert "li.na (webhook)" in detail and "wang.fang (email)" in detail


async def test_the_steps_channels_are_each_used_instead_of_the_persons_own() -> None:
    webhook, email, sms = Recording("webhook"), Recording("email"), Recording("sms")
    channels: dict[str, Channel] = {
        "webhook": webhook,
        "email": email,
        "sms": sms,
        "inapp": Recording("inapp"),
    }
    person = Recipient(user="li.na", channels=("sms",))
    async with _running(channels, MemoryDeliveryLog(), ManualClock(T0)) as (dispatcher, reports):
        request = NotifyRequest(
            notice=_notice("k1"), recipients=(person,), channels=("email", "webhook")
        )
        dispatcher.post(request)
        await _until(lambda: "k1" in reports)
    assert [s[0] for s in email.sent] == ["li.na"] == [s[0] for s in webhook.sent]
    assert sms.sent == []
    assert reports["k1"] == (StepOutcome.DONE, "told li.na (email), li.na (webhook)")


async def test_a_channel_outage_falls_back_never_to_silence() -> None:
    webhook, inapp = Recording("webhook", down=True), Recording("inapp")
    log = MemoryDeliveryLog()
    channels: dict[str, Channel] = {"webhook": webhook, "inapp": inapp}
    async with _running(channels, log, ManualClock(T0)) as (dispatcher, reports):
        dispatcher.post(NotifyRequest(notice=_notice("k2"), recipients=PEOPLE[:1]))
        await _until(lambda: "k2" in reports)
    assert [s[0] for s in inapp.sent] == ["li.na"]
    assert [(r.channel, r.status.value, r.attempts) for r in log.records] == [
        ("webhook", "failed", 2),
        ("inapp", "fell_back", 1),
    ]
    assert reports["k2"][0] is StepOutcome.DONE


async def test_nobody_reachable_is_a_failed_step_naming_the_error() -> None:
    channels: dict[str, Channel] = {"webhook": Recording("webhook", down=True)}
    async with _running(channels, MemoryDeliveryLog(), ManualClock(T0)) as (dispatcher, reports):
        dispatcher.post(NotifyRequest(notice=_notice("k3"), recipients=PEOPLE[:1]))
        await _until(lambda: "k3" in reports)
    outcome, detail = reports["k3"]
    assert outcome is StepOutcome.FAILED
    assert "not told li.na" in detail and "not configured" in detail


async def test_a_flood_becomes_two_messages_per_person() -> None:
    webhook = Recording("webhook")
    clock = ManualClock(T0)
    channels: dict[str, Channel] = {"webhook": webhook, "inapp": Recording("inapp")}
    async with _running(channels, MemoryDeliveryLog(), clock) as (dispatcher, reports):
        for i in range(500):
            clock.current = T0 + i * 100  # 500 alarms in 50 s
            dispatcher.post(
                NotifyRequest(notice=_notice(f"r{i}", at=clock.current), recipients=PEOPLE[:1])
            )
            if i % 50 == 0:
                await asyncio.sleep(0.01)
        await _until(lambda: len(webhook.sent) >= 1)
        clock.current = T0 + 61_000
        await _until(lambda: len(reports) == 500)
    assert len(webhook.sent) == 2, "the first at once, the rest grouped into one"
    assert sum(len(ids) for _, ids, _ in webhook.sent) == 500
    assert all(outcome is StepOutcome.DONE for outcome, _ in reports.values())


async def test_a_request_posted_again_after_a_restart_sends_nothing_twice() -> None:
    webhook = Recording("webhook")
    log = MemoryDeliveryLog()
    channels: dict[str, Channel] = {"webhook": webhook, "inapp": Recording("inapp")}
    request = NotifyRequest(notice=_notice("run:park:9"), recipients=PEOPLE[:1])
    async with _running(channels, log, ManualClock(T0)) as (dispatcher, reports):
        dispatcher.post(request)
        await _until(lambda: "run:park:9" in reports)
    async with _running(channels, log, ManualClock(T0 + 5000)) as (dispatcher, reports):
        dispatcher.post(request)
        await _until(lambda: "run:park:9" in reports)
    assert len(webhook.sent) == 1
    assert reports["run:park:9"] == (StepOutcome.DONE, "told li.na (already told)")


async def test_a_notice_below_a_persons_minimum_goes_in_app_only() -> None:
    webhook, inapp = Recording("webhook"), Recording("inapp")
    channels: dict[str, Channel] = {"webhook": webhook, "inapp": inapp}
    person = Recipient(user="li.na", channels=("webhook",), min_priority=Priority.HIGH)
    async with _running(channels, MemoryDeliveryLog(), ManualClock(T0)) as (dispatcher, reports):
        notice = _notice("k4", priority=Priority.LOW)
        dispatcher.post(NotifyRequest(notice=notice, recipients=(person,)))
        await _until(lambda: "k4" in reports)
    assert webhook.sent == [] and [s[0] for s in inapp.sent] == ["li.na"]


async def test_the_same_step_for_the_same_alarm_is_told_once_within_the_window() -> None:
    webhook = Recording("webhook")
    clock = ManualClock(T0)
    channels: dict[str, Channel] = {"webhook": webhook, "inapp": Recording("inapp")}
    chattering = [
        NotifyRequest(
            notice=replace(_notice(f"run{i}:notify:1"), dedup_key="book:notify:7.HH"),
            recipients=PEOPLE[:1],
        )
        for i in range(3)
    ]
    async with _running(channels, MemoryDeliveryLog(), clock) as (dispatcher, reports):
        dispatcher.post(chattering[0])
        await _until(lambda: "run0:notify:1" in reports)
        clock.current = T0 + 120_000
        dispatcher.post(chattering[1])
        await _until(lambda: "run1:notify:1" in reports)
        clock.current = T0 + 11 * 60_000
        dispatcher.post(chattering[2])
        await _until(lambda: "run2:notify:1" in reports)
    assert [ids for _, ids, _ in webhook.sent] == [("run0:notify:1",), ("run2:notify:1",)]
    assert reports["run1:notify:1"] == (StepOutcome.DONE, "li.na told of it already (dedup)")
