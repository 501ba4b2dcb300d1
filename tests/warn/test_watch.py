"""The live time-to-limit watch: sampling, grading, and warnings that end."""

from __future__ import annotations

import numpy as np

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.tag import ConditionKind, Limit, Priority, Tag
from hazwatch.domain.tagtable import TagTable
from hazwatch.warn.watch import TimeToLimitWatch

T0 = 1_800_000_000_000
SECOND = 1000


def _table() -> TagTable:
    limits = (
        Limit(kind=ConditionKind.H, value=100.0, priority=Priority.HIGH),
        Limit(kind=ConditionKind.L, value=0.0, priority=Priority.LOW),
    )
    tags = [
        Tag(
            id=i,
            key=f"e.s.i.q.t{i}",
            name=f"t{i}",
            scope_id=1,
            scope_path="/1/",
            unit="",
            range_lo=-1000,
            range_hi=1000,
            period_s=5,
            limits=limits,
        )
        for i in (1, 2)
    ]
    return TagTable.build(tags)


def _batch(second: int, rising: float, flat: float, quality: int = Quality.GOOD) -> Batch:
    ts = T0 + second * SECOND
    return Batch.of(
        tag=[1, 2], ts=[ts, ts], value=[rising, flat], quality=[quality] * 2, received=ts
    )


def test_a_rising_tag_warns_before_its_limit_and_a_steady_one_does_not() -> None:
    watch = TimeToLimitWatch(period_ms=60 * SECOND)
    table = _table()
    rng = np.random.default_rng(3)
    warned_at: int | None = None
    for second in range(0, 40 * 60, 5):  # a reading every 5 s for 40 minutes
        rising = 20 + second / 60 * 1.5 + rng.normal(0, 0.3)  # 1.5 per minute from 20
        verdicts = watch.observe(_batch(second, rising, 50 + rng.normal(0, 0.3)), table, T0)
        assert all(w.tag == 1 for w in verdicts.warned), "the steady tag never warns"
        if verdicts.warned and warned_at is None:
            warned_at = second
            (first,) = verdicts.warned
            assert first.limit == "H"
            assert first.colour in {"yellow", "orange", "red"}, "a high-priority limit: ≥ yellow"
            crossing_s = (first.crossing_at - T0) / SECOND
            assert abs(crossing_s - 3200) < 600, "the limit is reached at 53 min"
    assert warned_at is not None and warned_at < 53 * 60


def test_only_one_reading_per_period_enters_the_trend() -> None:
    watch = TimeToLimitWatch(period_ms=60 * SECOND)
    table = _table()
    for second in range(0, 600, 5):
        watch.observe(_batch(second, 20.0 + second, 50.0), table, T0)
    assert watch.window.fill([1]).tolist() == [10]


def test_bad_readings_are_not_trended() -> None:
    watch = TimeToLimitWatch(period_ms=SECOND)
    watch.observe(_batch(0, 20.0, 50.0, quality=Quality.BAD), _table(), T0)
    assert watch.window.fill([1, 2]).tolist() == [0, 0]


def test_a_warning_subsides_when_the_trend_stops() -> None:
    watch = TimeToLimitWatch(period_ms=60 * SECOND)
    table = _table()
    rng = np.random.default_rng(4)
    value = 20.0
    warned = subsided = False
    for minute in range(120):
        value = value + 2.0 if minute < 30 else value
        verdicts = watch.observe(_batch(minute * 60, value + rng.normal(0, 0.2), 50.0), table, T0)
        warned = warned or bool(verdicts.warned)
        if warned and verdicts.subsided:
            assert [t for t, _ in verdicts.subsided] == [1]
            subsided = True
            break
    assert warned and subsided
