"""Link health → DEVICE_OFFLINE / DEGRADED conditions, with the on-delay."""

from __future__ import annotations

from hazwatch.detect.link import LinkWatch
from hazwatch.domain.link import Health
from hazwatch.domain.tag import ConditionKind

OFF = ConditionKind.DEVICE_OFFLINE
DEG = ConditionKind.DEGRADED


def edges(events: list) -> list[tuple[ConditionKind, bool, int]]:
    return [(e.condition, e.active, e.at) for e in events]


def test_a_short_outage_raises_nothing() -> None:
    watch = LinkWatch(delay_ms=10_000)
    assert watch.report(1, Health.OFFLINE, "broker gone", 1_000) == []
    assert watch.tick(5_000) == []
    assert watch.report(1, Health.ONLINE, "", 6_000) == []
    assert watch.tick(60_000) == []


def test_offline_held_raises_at_the_deadline_and_online_clears_at_once() -> None:
    watch = LinkWatch(delay_ms=10_000)
    watch.report(1, Health.CONNECTING, "", 1_000)
    watch.report(1, Health.OFFLINE, "refused [mqtt.5]", 3_000)  # same condition: timer kept
    assert watch.tick(10_999) == []
    raised = watch.tick(25_000)
    assert edges(raised) == [(OFF, True, 11_000)]
    assert raised[0].detail == "refused [mqtt.5]"
    assert raised[0].value == Health.OFFLINE.code
    assert watch.tick(30_000) == []
    assert edges(watch.report(1, Health.ONLINE, "", 31_000)) == [(OFF, False, 31_000)]


def test_degraded_and_offline_replace_each_other() -> None:
    watch = LinkWatch(delay_ms=0)
    assert edges(watch.report(2, Health.DEGRADED, "plc-2 silent", 100)) == [(DEG, True, 100)]
    assert edges(watch.report(2, Health.OFFLINE, "", 200)) == [(DEG, False, 200), (OFF, True, 200)]
    assert edges(watch.report(2, Health.DEGRADED, "", 300)) == [(OFF, False, 300), (DEG, True, 300)]
    assert edges(watch.report(2, Health.ONLINE, "", 400)) == [(DEG, False, 400)]


def test_restored_conditions_clear_when_the_link_comes_back() -> None:
    watch = LinkWatch(delay_ms=10_000)
    watch.restore([(7, OFF)])
    assert watch.report(7, Health.CONNECTING, "", 1_000) == []
    assert watch.tick(100_000) == []
    assert edges(watch.report(7, Health.ONLINE, "", 100_001)) == [(OFF, False, 100_001)]


def test_links_are_independent() -> None:
    watch = LinkWatch(delay_ms=1_000)
    watch.report(1, Health.OFFLINE, "", 0)
    watch.report(2, Health.ONLINE, "", 0)
    assert [(e.tag_id, e.condition) for e in watch.tick(2_000)] == [(1, OFF)]
