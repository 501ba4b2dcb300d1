from __future__ import annotations

import math

import numpy as np

from hazwatch.detect.detector import ConditionDetector
from hazwatch.detect.state import ConditionState
from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.tag import ConditionKind, Limit, Priority, Tag
from hazwatch.domain.tagtable import TagTable

T0 = 1_700_000_000_000
H, HH, L, LL = ConditionKind.H, ConditionKind.HH, ConditionKind.L, ConditionKind.LL
OFFLINE, FROZEN, BAD = ConditionKind.OFFLINE, ConditionKind.FROZEN, ConditionKind.BAD_QUALITY


def limit(kind: ConditionKind, value: float, **settings: float) -> Limit:
    return Limit(kind=kind, value=value, priority=Priority.HIGH, **settings)


def tag(tag_id: int, *limits: Limit, **overrides: object) -> Tag:
    fields: dict[str, object] = {
        "id": tag_id,
        "key": f"t{tag_id}",
        "name": "",
        "scope_id": 1,
        "scope_path": "/1/",
        "unit": "",
        "range_lo": 0.0,
        "range_hi": 200.0,
        "period_s": 1.0,
        "limits": limits,
    }
    fields.update(overrides)
    return Tag(**fields)  # type: ignore[arg-type]


def ms(seconds: float) -> int:
    return T0 + round(seconds * 1000)


def batch(*readings: tuple[int, float, float] | tuple[int, float, float, Quality]) -> Batch:
    """Readings as (tag id, seconds from T0, value[, quality])."""
    return Batch.of(
        tag=[r[0] for r in readings],
        ts=[ms(r[1]) for r in readings],
        value=[r[2] for r in readings],
        quality=[r[3] if len(r) == 4 else Quality.GOOD for r in readings],
        received=T0,
    )


def brief(events: list[ConditionEvent]) -> list[tuple[int, str, bool, float, float]]:
    return [(e.tag_id, e.condition.value, e.active, (e.at - T0) / 1000, e.value) for e in events]


def detector(*tags: Tag) -> ConditionDetector:
    return ConditionDetector(TagTable.build(list(tags)), now=T0)


def test_high_limit_sets_at_the_limit_and_clears_below_the_deadband() -> None:
    d = detector(tag(1, limit(H, 100, deadband=5)))
    assert d.evaluate(batch((1, 0, 99.99))) == []
    assert brief(d.evaluate(batch((1, 1, 100)))) == [(1, "H", True, 1.0, 100.0)]
    assert d.evaluate(batch((1, 2, 96), (1, 3, 95))) == []
    assert d.state(1, H) is ConditionState.ACTIVE
    assert brief(d.evaluate(batch((1, 4, 94.9)))) == [(1, "H", False, 4.0, 94.9)]
    assert d.evaluate(batch((1, 5, 99.9))) == []


def test_low_limit_mirrors_the_high_limit() -> None:
    d = detector(tag(1, limit(L, 20, deadband=2)))
    assert d.evaluate(batch((1, 0, 20.01))) == []
    assert brief(d.evaluate(batch((1, 1, 20)))) == [(1, "L", True, 1.0, 20.0)]
    assert d.evaluate(batch((1, 2, 21), (1, 3, 22))) == []
    assert brief(d.evaluate(batch((1, 4, 22.1)))) == [(1, "L", False, 4.0, 22.1)]


def test_one_reading_can_raise_hh_and_h_together() -> None:
    d = detector(tag(1, limit(H, 80, deadband=2), limit(HH, 90, deadband=2)))
    assert brief(d.evaluate(batch((1, 0, 95)))) == [
        (1, "HH", True, 0.0, 95.0),
        (1, "H", True, 0.0, 95.0),
    ]
    assert brief(d.evaluate(batch((1, 1, 85)))) == [(1, "HH", False, 1.0, 85.0)]
    assert d.state(1, H) is ConditionState.ACTIVE


def test_on_delay_is_interrupted_by_a_dip_below_the_limit() -> None:
    d = detector(tag(1, limit(H, 100, deadband=3, on_delay_s=10)))
    assert d.evaluate(batch((1, 0, 101))) == []
    assert d.state(1, H) is ConditionState.PENDING
    # 98 lies inside the deadband but below the limit: the on-delay restarts.
    assert d.evaluate(batch((1, 5, 98))) == []
    assert d.state(1, H) is ConditionState.CLEAR
    assert d.evaluate(batch((1, 7, 101))) == []
    assert d.tick(ms(12)) == []
    assert d.tick(ms(16.999)) == []
    assert brief(d.tick(ms(30))) == [(1, "H", True, 17.0, 101.0)]


def test_on_delay_completed_between_readings_is_stamped_at_its_deadline() -> None:
    d = detector(tag(1, limit(H, 100, on_delay_s=10)))
    d.evaluate(batch((1, 0, 101)))
    # No tick came: the value held ≥ 100 from 0 s to 15 s, so H was active from 10 s.
    assert brief(d.evaluate(batch((1, 15, 90)))) == [
        (1, "H", True, 10.0, 101.0),
        (1, "H", False, 15.0, 90.0),
    ]


def test_on_delay_completes_by_a_reading_exactly_at_the_deadline() -> None:
    d = detector(tag(1, limit(H, 100, on_delay_s=10)))
    d.evaluate(batch((1, 0, 101), (1, 9.999, 100)))
    assert d.state(1, H) is ConditionState.PENDING
    assert brief(d.evaluate(batch((1, 10, 100)))) == [(1, "H", True, 10.0, 100.0)]


def test_off_delay_interrupted_then_completed() -> None:
    d = detector(tag(1, limit(H, 100, off_delay_s=10)))
    d.evaluate(batch((1, 0, 105)))
    assert d.evaluate(batch((1, 1, 95))) == []
    assert d.state(1, H) is ConditionState.HOLDING
    assert d.evaluate(batch((1, 5, 100))) == []
    assert d.state(1, H) is ConditionState.ACTIVE
    d.evaluate(batch((1, 6, 95)))
    assert d.tick(ms(15.9)) == []
    assert brief(d.tick(ms(16))) == [(1, "H", False, 16.0, 95.0)]
    assert d.state(1, H) is ConditionState.CLEAR


def test_bad_quality_does_not_drive_limits() -> None:
    d = detector(tag(1, limit(LL, 10), limit(L, 20)))
    d.evaluate(batch((1, 0, 50)))
    events = d.evaluate(batch((1, 1, 0, Quality.BAD)))
    assert brief(events) == [(1, "bad_quality", True, 1.0, 0.0)]
    assert d.state(1, LL) is ConditionState.CLEAR
    assert d.evaluate(batch((1, 2, 0, Quality.BAD))) == []
    assert brief(d.evaluate(batch((1, 3, 50, Quality.UNCERTAIN)))) == [
        (1, "bad_quality", False, 3.0, 50.0)
    ]
    # Uncertain readings do drive limits.
    assert brief(d.evaluate(batch((1, 4, 5, Quality.UNCERTAIN)))) == [
        (1, "L", True, 4.0, 5.0),
        (1, "LL", True, 4.0, 5.0),
    ]


def test_delays_hold_the_last_good_value_through_bad_readings() -> None:
    d = detector(tag(1, limit(H, 100, on_delay_s=10)))
    d.evaluate(batch((1, 0, 101), (1, 4, 0, Quality.BAD)))
    assert brief(d.tick(ms(10))) == [(1, "H", True, 10.0, 101.0)]


def test_frozen_value_raises_and_a_change_clears() -> None:
    d = detector(tag(1, frozen_after_s=60, period_s=10))
    readings = [(1, float(s), 50.0) for s in range(0, 60, 10)]
    assert d.evaluate(batch(*readings)) == []
    assert brief(d.evaluate(batch((1, 60, 50)))) == [(1, "frozen", True, 60.0, 50.0)]
    assert d.evaluate(batch((1, 70, 50))) == []
    assert brief(d.evaluate(batch((1, 80, 50.001)))) == [(1, "frozen", False, 80.0, 50.001)]
    # The clock restarts from the new value.
    assert d.evaluate(batch((1, 130, 50.001))) == []
    assert brief(d.evaluate(batch((1, 140, 50.001)))) == [(1, "frozen", True, 140.0, 50.001)]


def test_frozen_ignores_bad_readings_and_is_not_checked_without_a_setting() -> None:
    d = detector(tag(1, frozen_after_s=20), tag(2))
    d.evaluate(batch((1, 0, 7), (2, 0, 7)))
    d.evaluate(batch((1, 10, 8, Quality.BAD), (2, 10, 7)))
    events = d.evaluate(batch((1, 20, 7), (2, 100, 7)))
    assert [e for e in events if e.condition is FROZEN] == [
        ConditionEvent(tag_id=1, condition=FROZEN, active=True, at=ms(20), value=7.0)
    ]


def test_offline_after_silence_and_back_with_the_next_reading() -> None:
    d = detector(tag(1, offline_after_s=30), tag(2, offline_after_s=30))
    d.evaluate(batch((1, 10, 5)))
    assert d.tick(ms(29.999)) == []
    # Tag 2 never reported: its silence counts from the detector's start.
    events = d.tick(ms(30))
    assert [(e.tag_id, e.condition, e.at) for e in events] == [(2, OFFLINE, ms(30))]
    assert math.isnan(events[0].value)
    assert brief(d.tick(ms(41))) == [(1, "offline", True, 40.0, 5.0)]
    assert d.tick(ms(100)) == []
    assert brief(d.evaluate(batch((1, 101, 6, Quality.BAD)))) == [
        (1, "offline", False, 101.0, 6.0),
        (1, "bad_quality", True, 101.0, 6.0),
    ]


def test_offline_clock_starts_at_the_first_tick_without_a_start_time() -> None:
    d = ConditionDetector(TagTable.build([tag(1, offline_after_s=30)]))
    assert d.tick(ms(0)) == []
    assert d.tick(ms(29)) == []
    assert [(e.tag_id, e.at) for e in d.tick(ms(31))] == [(1, ms(30))]
    assert d.state(1, OFFLINE) is ConditionState.ACTIVE


def test_readings_of_a_tag_are_evaluated_in_time_order_whatever_the_batch_order() -> None:
    d = detector(tag(1, limit(H, 100)), tag(2, limit(H, 100)))
    events = d.evaluate(batch((1, 3, 90), (2, 1, 120), (1, 1, 120), (1, 2, 95), (2, 2, 80)))
    assert brief(events) == [
        (1, "H", True, 1.0, 120.0),
        (2, "H", True, 1.0, 120.0),
        (1, "H", False, 2.0, 95.0),
        (2, "H", False, 2.0, 80.0),
    ]


def test_late_and_repeated_readings_do_not_drive_conditions() -> None:
    d = detector(tag(1, limit(H, 100)))
    d.evaluate(batch((1, 10, 50)))
    # Older than or equal to the newest evaluated reading: ignored.
    assert d.evaluate(batch((1, 5, 150), (1, 10, 150))) == []
    # Within one batch, the first of two readings with the same time wins.
    assert brief(d.evaluate(batch((1, 11, 150), (1, 11, 50)))) == [(1, "H", True, 11.0, 150.0)]
    assert d.state(1, H) is ConditionState.ACTIVE


def test_unknown_tags_and_empty_batches_are_ignored() -> None:
    d = detector(tag(2, limit(H, 100)))
    assert d.evaluate(Batch.empty(T0)) == []
    assert d.evaluate(batch((0, 1, 500), (7, 1, 500), (-3, 1, 500))) == []
    assert d.evaluate(Batch.of(tag=[9999], ts=[T0], value=[1.0], received=T0)) == []


def test_many_readings_of_one_tag_in_one_batch() -> None:
    d = detector(tag(1, limit(H, 100, deadband=1)))
    values = np.tile([99.5, 100.0, 98.5], 200)
    ts = np.arange(len(values)) * 1000 + T0
    events = d.evaluate(Batch.of(tag=np.ones(len(values)), ts=ts, value=values, received=T0))
    assert [e.active for e in events] == [True, False] * 200
    assert [e.at for e in events][:2] == [T0 + 1000, T0 + 2000]


def test_restore_marks_conditions_active_without_events() -> None:
    d = detector(tag(1, limit(H, 100, deadband=5), frozen_after_s=10))
    d.restore([(1, H), (1, OFFLINE), (1, FROZEN), (1, BAD), (1, LL), (5, H)])
    assert d.state(1, H) is ConditionState.ACTIVE
    assert d.state(1, LL) is ConditionState.CLEAR
    assert d.tick(ms(1000)) == []
    events = d.evaluate(batch((1, 1001, 97)))
    # Offline and bad quality clear; H stays inside its deadband; FROZEN takes 97 as its
    # reference and clears only on a later change.
    assert brief(events) == [
        (1, "offline", False, 1001.0, 97.0),
        (1, "bad_quality", False, 1001.0, 97.0),
    ]
    assert brief(d.evaluate(batch((1, 1002, 97)))) == []
    assert brief(d.evaluate(batch((1, 1003, 90)))) == [
        (1, "H", False, 1003.0, 90.0),
        (1, "frozen", False, 1003.0, 90.0),
    ]


def test_retable_keeps_surviving_state_and_clears_what_vanished() -> None:
    old = [tag(1, limit(H, 100), limit(L, 10)), tag(2, limit(H, 100)), tag(3, limit(H, 100))]
    d = detector(*old)
    d.evaluate(batch((1, 0, 150), (2, 0, 150), (3, 0, 150)))
    # Tag 1 keeps L but loses H, tag 2 is unchanged, tag 3 is gone, tag 8 is new.
    new = [tag(1, limit(L, 10)), tag(2, limit(H, 100)), tag(8, offline_after_s=5)]
    events = d.retable(TagTable.build(new), now=ms(1))
    assert brief(events) == [(1, "H", False, 1.0, 150.0), (3, "H", False, 1.0, 150.0)]
    assert d.state(2, H) is ConditionState.ACTIVE
    assert d.state(1, H) is ConditionState.CLEAR
    assert d.evaluate(batch((2, 0.5, 150))) == []  # tag 2 still remembers its last reading
    assert brief(d.evaluate(batch((2, 2, 50)))) == [(2, "H", False, 2.0, 50.0)]
    assert d.evaluate(batch((3, 3, 50))) == []
    # The new tag's silence counts from the retable time.
    assert [(e.tag_id, e.at) for e in d.tick(ms(6))] == [(8, ms(6))]
