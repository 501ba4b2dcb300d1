"""The pure stages: mute, dedup, group, rate limit, plan (quiet hours, idempotency keys)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import pytest

from hazwatch.domain.clock import HOUR_MS, MINUTE_MS, to_millis
from hazwatch.domain.tag import Priority
from hazwatch.domain.warning import Colour
from hazwatch.respond.notify.message import LISTED_NOTICES, QuietHours, Recipient
from hazwatch.respond.notify.pipeline import (
    Dedup,
    Grouper,
    RateLimit,
    idempotency_key,
    mute,
    plan,
)

if TYPE_CHECKING:
    from conftest import Factory

SECOND = 1000


def test_mute_drops_exactly_the_notices_the_predicate_names(make: Factory) -> None:
    shelved = {"alarm:2:HH:1", "alarm:4:HH:1"}
    notices = [make.alarm(n) for n in range(1, 6)]
    kept = mute(notices, lambda n: n.id in shelved)
    assert [n.id for n in kept] == ["alarm:1:HH:1", "alarm:3:HH:1", "alarm:5:HH:1"]


def test_dedup_tells_a_condition_once_per_window_edges_included(make: Factory) -> None:
    dedup = Dedup(window_ms=MINUTE_MS)
    t0 = make.t0
    assert len(dedup.admit([make.alarm(1), make.alarm(1)], t0)) == 1  # twice in one batch
    assert dedup.admit([make.alarm(1)], t0 + MINUTE_MS - 1) == []  # last ms of the window
    assert len(dedup.admit([make.alarm(1)], t0 + MINUTE_MS)) == 1  # window over
    assert len(dedup.admit([make.alarm(2)], t0 + MINUTE_MS + 1)) == 1  # other key unaffected


def test_dedup_window_counts_from_the_last_notice_let_through(make: Factory) -> None:
    dedup = Dedup(window_ms=MINUTE_MS)
    t0 = make.t0
    admitted_at = [
        t0 + s * SECOND for s in range(0, 181, 10) if dedup.admit([make.alarm(1)], t0 + s * SECOND)
    ]
    # chattering every 10 s for 3 min is told at 0, 60, 120 and 180 s, not only once
    assert admitted_at == [t0, t0 + MINUTE_MS, t0 + 2 * MINUTE_MS, t0 + 3 * MINUTE_MS]


def _recipients() -> list[Recipient]:
    return [
        Recipient(user="wang", channels=("dingtalk",)),  # the whole park
        Recipient(user="li", channels=("sms",), scopes=("lpg.main.sphere-farm",)),
        Recipient(user="zhao", channels=("email",), min_priority=Priority.CRITICAL),
    ]


def test_a_flood_of_500_alarms_in_a_minute_becomes_a_handful_of_messages(make: Factory) -> None:
    grouper = Grouper(wait_ms=10 * SECOND, interval_ms=MINUTE_MS)
    recipients = _recipients()
    priorities = [Priority.LOW, Priority.MEDIUM, Priority.HIGH, Priority.CRITICAL]
    scopes = ["lpg.main.sphere-farm", "lpg.main.loading"]
    flood = [
        make.alarm(n, at=make.t0 + n * 120, priority=priorities[n % 4], scope=scopes[n % 2])
        for n in range(500)
    ]  # 500 alarms in 60 s
    messages = []
    for second in range(0, 181):  # the pipeline runs once a second for 3 min
        now = make.t0 + second * SECOND
        grouper.add([a for a in flood if now - SECOND < a.at <= now], recipients, now)
        messages += grouper.flush(now)

    per_user = Counter(m.recipient for m in messages)
    assert set(per_user) == {"wang", "li", "zhao"}
    assert max(per_user.values()) <= 3
    told = {u: [n.id for m in messages if m.recipient == u for n in m.notices] for u in per_user}
    assert sorted(told["wang"]) == sorted(a.id for a in flood)  # each exactly once
    assert sorted(told["li"]) == sorted(a.id for a in flood if a.scope == scopes[0])
    assert sorted(told["zhao"]) == sorted(a.id for a in flood if a.level is Priority.CRITICAL)
    for m in messages:
        assert sum(m.counts.values()) == len(m.notices)
        assert list(m.counts) == sorted(m.counts, key=lambda p: -priorities.index(Priority(p)))
    big = max(messages, key=lambda m: len(m.notices))
    assert big.text.count("\n- ") == LISTED_NOTICES  # 20 listed + the "… and N more" line
    assert f"and {len(big.notices) - LISTED_NOTICES} more" in big.text


def test_group_waits_then_sends_at_most_once_per_interval(make: Factory) -> None:
    grouper = Grouper(wait_ms=10 * SECOND, interval_ms=MINUTE_MS)
    wang = [Recipient(user="wang", channels=("inapp",))]
    t0 = make.t0
    grouper.add([make.alarm(1)], wang, t0)
    assert grouper.flush(t0 + 10 * SECOND - 1) == []
    assert len(grouper.flush(t0 + 10 * SECOND)) == 1
    grouper.add([make.alarm(2)], wang, t0 + 20 * SECOND)
    assert grouper.flush(t0 + 30 * SECOND) == []  # within the interval after a message
    assert [m.notice_ids for m in grouper.flush(t0 + 70 * SECOND)] == [("alarm:2:HH:1",)]
    # idle for an interval: the next notice again waits only wait_ms
    grouper.add([make.alarm(3)], wang, t0 + 200 * SECOND)
    assert len(grouper.flush(t0 + 210 * SECOND)) == 1


def test_a_message_lists_the_most_severe_first_and_counts_colours(make: Factory) -> None:
    m = make.message(
        make.warning(1, Colour.YELLOW), make.warning(2, Colour.RED), make.warning(3, Colour.YELLOW)
    )
    grouper = Grouper(wait_ms=0, interval_ms=MINUTE_MS)
    grouper.add(m.notices, [Recipient(user="wang", channels=())], make.t0)
    (grouped,) = grouper.flush(make.t0)
    assert grouped.notices[0].level is Colour.RED
    assert grouped.counts == {"red": 1, "yellow": 2}
    assert grouped.rank == 4
    assert grouped.title == "3 notices (1 red, 2 yellow)"


def test_token_bucket_allows_a_burst_then_refills(make: Factory) -> None:
    limit = RateLimit(burst=3, refill_ms=MINUTE_MS)
    t0 = make.t0
    assert [limit.take("wang", "sms", t0) for _ in range(4)] == [True, True, True, False]
    assert limit.take("wang", "email", t0)  # per channel
    assert limit.take("li", "sms", t0)  # per recipient
    assert not limit.take("wang", "sms", t0 + MINUTE_MS - 1)
    assert limit.take("wang", "sms", t0 + MINUTE_MS)
    assert not limit.take("wang", "sms", t0 + MINUTE_MS)


def test_rate_limited_channel_falls_to_the_next_and_never_drops(make: Factory) -> None:
    limit = RateLimit(burst=1, refill_ms=HOUR_MS)
    wang = Recipient(user="wang", channels=("sms", "email"))
    first = plan([make.message(make.alarm(1))], [wang], make.t0, limit)
    second = plan([make.message(make.alarm(2))], [wang], make.t0, limit)
    third = plan([make.message(make.alarm(3))], [wang], make.t0, limit)
    fourth = plan([make.message(make.alarm(4))], [wang], make.t0, limit)
    assert first.deliveries[0].channels == ("sms", "email", "inapp")
    assert second.deliveries[0].channels == ("email", "inapp")
    assert third.deliveries[0].channels == ("inapp",)
    assert fourth.deliveries == () and len(fourth.deferred) == 1


@pytest.mark.parametrize(
    ("local", "level", "expected"),
    [
        ("23:30", Priority.HIGH, ("inapp",)),  # quiet: only the silent channel
        ("06:59", Priority.HIGH, ("inapp",)),  # still quiet, span wraps midnight
        ("07:00", Priority.HIGH, ("sms", "email", "inapp")),  # end is excluded
        ("21:59", Priority.HIGH, ("sms", "email", "inapp")),
        ("22:00", Priority.HIGH, ("inapp",)),  # start is included
        ("23:30", Priority.CRITICAL, ("sms", "email", "inapp")),  # never for the highest
        ("23:30", Colour.RED, ("sms", "email", "inapp")),
        ("23:30", Colour.ORANGE, ("inapp",)),
    ],
)
def test_quiet_hours_hold_back_all_but_the_highest_priority(
    make: Factory, local: str, level: Priority | Colour, expected: tuple[str, ...]
) -> None:
    wang = Recipient(
        user="wang",
        channels=("sms", "email"),
        quiet_hours=QuietHours(start=time(22), end=time(7), zone="Asia/Shanghai"),
    )
    hour, minute = map(int, local.split(":"))
    now = to_millis(datetime(2026, 5, 29, hour, minute, tzinfo=ZoneInfo("Asia/Shanghai")))
    notice = make.warning(1, level) if isinstance(level, Colour) else make.alarm(1, priority=level)
    (delivery,) = plan([make.message(notice, at=now)], [wang], now).deliveries
    assert delivery.channels == expected


def test_minimum_priority_and_scope_decide_who_is_told(make: Factory) -> None:
    zhao = Recipient(user="zhao", channels=(), min_priority=Priority.HIGH, scopes=("lpg.main",))
    assert zhao.wants(make.alarm(1, priority=Priority.HIGH, scope="lpg.main.sphere-farm"))
    assert not zhao.wants(make.alarm(1, priority=Priority.MEDIUM, scope="lpg.main"))
    assert not zhao.wants(make.alarm(1, priority=Priority.CRITICAL, scope="lpg.mainline"))
    assert zhao.wants(make.warning(1, Colour.ORANGE))
    assert not zhao.wants(make.warning(1, Colour.YELLOW))


def test_idempotency_keys_are_stable_and_distinct(make: Factory) -> None:
    wang = Recipient(user="wang", channels=("sms",))
    notices = (make.alarm(1), make.alarm(2))
    a = plan([make.message(*notices)], [wang], make.t0).deliveries[0]
    b = plan([make.message(*reversed(notices), at=make.t0 + HOUR_MS)], [wang], make.t0 + HOUR_MS)
    assert a.keys == b.deliveries[0].keys  # same recipient, channels and notices
    assert len(set(a.keys)) == len(a.keys)  # one per channel
    assert a.keys[0] == idempotency_key("wang", "sms", ["alarm:2:HH:1", "alarm:1:HH:1"])
    assert a.keys[0] != idempotency_key("li", "sms", ["alarm:1:HH:1", "alarm:2:HH:1"])
    assert a.keys[0] != idempotency_key("wang", "sms", ["alarm:1:HH:1"])


def test_quiet_hours_refuse_an_unknown_zone() -> None:
    with pytest.raises(Exception, match="Mars"):
        QuietHours(start=time(22), end=time(7), zone="Mars/Olympus")
