"""Vectorised detection equals a plain per-reading reference, on random data.

The reference below is written independently of the detector, one reading at a time, from
the documented semantics. Random plants and readings (with out-of-order and duplicate
timestamps, bad and uncertain quality, values on the limits and deadband edges) are fed to
the detector in multi-reading batches, to a second detector one reading per batch, and to
the reference; all three must produce the same events for every condition and end in the
same states.
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pytest

from hazwatch.detect.detector import ConditionDetector
from hazwatch.detect.state import ConditionState
from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.tag import LIMIT_KINDS, LINK_KINDS, ConditionKind, Limit, Priority, Tag
from hazwatch.domain.tagtable import TagTable

START = 1_700_000_000_000
STEP = 500  # readings, delays and ticks fall on a 500 ms grid, so deadlines get hit exactly

Row = tuple[int, ConditionKind, bool, int, float | None]


@dataclass
class _Limit:
    kind: ConditionKind
    value: float
    deadband: float
    on_ms: int
    off_ms: int
    state: ConditionState = ConditionState.CLEAR
    since: int = 0


@dataclass
class _Tag:
    offline_ms: int
    frozen_ms: int
    limits: list[_Limit]
    last_ts: int | None = None
    last_value: float = math.nan
    held: float = math.nan
    reference_ts: int = 0
    offline: bool = False
    bad: bool = False
    frozen: bool = False
    frozen_value: float | None = None
    frozen_since: int = 0


@dataclass
class Reference:
    """Per-reading detection, straight from the contract in plain Python."""

    tags: dict[int, _Tag]
    events: list[Row] = field(default_factory=list)
    completed_delays: int = 0

    def emit(self, tag_id: int, kind: ConditionKind, active: bool, at: int, value: float) -> None:
        self.events.append((tag_id, kind, active, at, None if math.isnan(value) else value))

    def advance(self, tag_id: int, now: int) -> None:
        tag = self.tags[tag_id]
        for lim in tag.limits:
            if lim.state is ConditionState.PENDING and now - lim.since >= lim.on_ms:
                self.completed_delays += 1
                lim.state, lim.since = ConditionState.ACTIVE, lim.since + lim.on_ms
                self.emit(tag_id, lim.kind, True, lim.since, tag.held)
            elif lim.state is ConditionState.HOLDING and now - lim.since >= lim.off_ms:
                self.completed_delays += 1
                lim.state, lim.since = ConditionState.CLEAR, lim.since + lim.off_ms
                self.emit(tag_id, lim.kind, False, lim.since, tag.held)

    def reading(self, tag_id: int, ts: int, value: float, quality: int) -> None:
        tag = self.tags.get(tag_id)
        if tag is None or (tag.last_ts is not None and ts <= tag.last_ts):
            return
        self.advance(tag_id, ts)
        if tag.offline:
            tag.offline = False
            self.emit(tag_id, ConditionKind.OFFLINE, False, ts, value)
        bad = quality == Quality.BAD
        if bad != tag.bad:
            tag.bad = bad
            self.emit(tag_id, ConditionKind.BAD_QUALITY, bad, ts, value)
        if not bad:
            for lim in tag.limits:
                self.limit(tag_id, lim, ts, value)
            self.freeze(tag_id, tag, ts, value)
            tag.held = value
        tag.last_ts = tag.reference_ts = ts
        tag.last_value = value

    def limit(self, tag_id: int, lim: _Limit, ts: int, value: float) -> None:
        if lim.kind.is_high:
            in_alarm = value >= lim.value
            clear_side = value < lim.value - lim.deadband
        else:
            in_alarm = value <= lim.value
            clear_side = value > lim.value + lim.deadband
        if lim.state is ConditionState.CLEAR and in_alarm:
            if lim.on_ms == 0:
                lim.state, lim.since = ConditionState.ACTIVE, ts
                self.emit(tag_id, lim.kind, True, ts, value)
            else:
                lim.state, lim.since = ConditionState.PENDING, ts
        elif lim.state is ConditionState.PENDING and not in_alarm:
            lim.state, lim.since = ConditionState.CLEAR, ts
        elif lim.state is ConditionState.ACTIVE and clear_side:
            if lim.off_ms == 0:
                lim.state, lim.since = ConditionState.CLEAR, ts
                self.emit(tag_id, lim.kind, False, ts, value)
            else:
                lim.state, lim.since = ConditionState.HOLDING, ts
        elif lim.state is ConditionState.HOLDING and not clear_side:
            lim.state, lim.since = ConditionState.ACTIVE, ts

    def freeze(self, tag_id: int, tag: _Tag, ts: int, value: float) -> None:
        if tag.frozen_value is None or value != tag.frozen_value:
            if tag.frozen and tag.frozen_value is not None:
                tag.frozen = False
                self.emit(tag_id, ConditionKind.FROZEN, False, ts, value)
            tag.frozen_value, tag.frozen_since = value, ts
        elif not tag.frozen and tag.frozen_ms and ts - tag.frozen_since >= tag.frozen_ms:
            tag.frozen = True
            self.emit(tag_id, ConditionKind.FROZEN, True, ts, value)

    def tick(self, now: int) -> None:
        for tag_id, tag in self.tags.items():
            self.advance(tag_id, now)
            if not tag.offline and now - tag.reference_ts >= tag.offline_ms:
                tag.offline = True
                at = tag.reference_ts + tag.offline_ms
                self.emit(tag_id, ConditionKind.OFFLINE, True, at, tag.last_value)


def random_tags(rng: np.random.Generator) -> list[Tag]:
    tags = []
    for tag_id in rng.choice(np.arange(1, 12), size=4, replace=False).tolist():
        levels = sorted(rng.choice(np.arange(2, 19), size=4, replace=False).tolist())
        chosen = [k for k in LIMIT_KINDS if rng.random() < 0.7]
        value_of = dict(
            zip(
                (ConditionKind.LL, ConditionKind.L, ConditionKind.H, ConditionKind.HH),
                levels,
                strict=True,
            )
        )
        limits = tuple(
            Limit(
                kind=kind,
                value=float(value_of[kind]),
                priority=Priority.HIGH,
                deadband=float(rng.choice([0, 1, 2])),
                on_delay_s=float(rng.choice([0, 0, 1, 3])),
                off_delay_s=float(rng.choice([0, 0, 1.5, 3])),
            )
            for kind in chosen
        )
        tags.append(
            Tag(
                id=tag_id,
                key=f"t{tag_id}",
                name="",
                scope_id=1,
                scope_path="/1/",
                unit="",
                range_lo=0.0,
                range_hi=20.0,
                period_s=1.0,
                limits=limits,
                offline_after_s=float(rng.choice([2, 4, 6])),
                frozen_after_s=[None, 2.0, 3.0][int(rng.integers(3))],
            )
        )
    return tags


def reference_for(tags: list[Tag]) -> Reference:
    return Reference(
        tags={
            t.id: _Tag(
                offline_ms=round(t.effective_offline_after_s * 1000),
                frozen_ms=round((t.frozen_after_s or 0) * 1000),
                limits=[
                    _Limit(
                        kind=lim.kind,
                        value=lim.value,
                        deadband=lim.deadband,
                        on_ms=round(lim.on_delay_s * 1000),
                        off_ms=round(lim.off_delay_s * 1000),
                    )
                    for lim in t.limits
                ],
                reference_ts=START,
            )
            for t in tags
        }
    )


def rows(events: list[ConditionEvent]) -> list[Row]:
    return [
        (e.tag_id, e.condition, e.active, e.at, None if math.isnan(e.value) else e.value)
        for e in events
    ]


def by_condition(events: list[Row]) -> dict[tuple[int, ConditionKind], list[Row]]:
    grouped: dict[tuple[int, ConditionKind], list[Row]] = defaultdict(list)
    for row in events:
        grouped[(row[0], row[1])].append(row)
    return dict(grouped)


@dataclass(frozen=True)
class Run:
    tags: list[Tag]
    batched: list[Row]
    single: list[Row]
    reference: Reference
    batched_detector: ConditionDetector


SEEDS = range(30)


@functools.cache
def simulate(seed: int) -> Run:
    """Feed one random plant's readings and ticks to the three implementations."""
    rng = np.random.default_rng(seed)
    tags = random_tags(rng)
    table_ids = [t.id for t in tags]
    table = TagTable.build(tags)
    batched = ConditionDetector(table, now=START)
    single = ConditionDetector(table, now=START)
    reference = reference_for(tags)
    batched_events: list[ConditionEvent] = []
    single_events: list[ConditionEvent] = []
    clock = START
    for _ in range(60):
        size = int(rng.integers(1, 25))
        # Unknown ids (0 and 40) ride along: they must be ignored.
        ids = rng.choice([*table_ids, 0, 40], size=size, p=[0.24] * 4 + [0.02, 0.02])
        ts = clock + STEP * rng.integers(-3, 4, size=size)
        values = rng.integers(0, 21, size=size).astype(float)
        quality = rng.choice(
            [Quality.GOOD, Quality.UNCERTAIN, Quality.BAD], size=size, p=[0.8, 0.1, 0.1]
        )
        batch = Batch.of(tag=ids, ts=ts, value=values, quality=quality, received=clock)
        out = batched.evaluate(batch)
        assert [e.at for e in out] == sorted(e.at for e in out)
        batched_events += out
        # One at a time, in the order the contract promises: by timestamp, ties in batch order.
        for i in np.argsort(ts, kind="stable").tolist():
            single_events += single.evaluate(batch.select(np.array([i])))
            reference.reading(int(ids[i]), int(ts[i]), float(values[i]), int(quality[i]))
        clock += STEP * int(rng.integers(1, 5))
        if rng.random() < 0.4:
            now = clock + STEP * int(rng.integers(0, 6))
            batched_events += batched.tick(now)
            single_events += single.tick(now)
            reference.tick(now)
    return Run(
        tags=tags,
        batched=rows(batched_events),
        single=rows(single_events),
        reference=reference,
        batched_detector=batched,
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_batches_match_one_reading_at_a_time_and_the_reference(seed: int) -> None:
    run = simulate(seed)
    expected = by_condition(run.reference.events)
    assert by_condition(run.batched) == expected
    assert by_condition(run.single) == expected
    detector = run.batched_detector
    for tag_id, tag in run.reference.tags.items():
        for lim in tag.limits:
            assert detector.state(tag_id, lim.kind) is lim.state
        assert detector.state(tag_id, ConditionKind.OFFLINE).is_active is tag.offline
        assert detector.state(tag_id, ConditionKind.BAD_QUALITY).is_active is tag.bad
        assert detector.state(tag_id, ConditionKind.FROZEN).is_active is tag.frozen


def test_random_data_reaches_every_condition_and_both_edges() -> None:
    """Guard for the property test: its data must raise and clear every kind of condition
    and complete on- and off-delays."""
    runs = [simulate(seed) for seed in SEEDS]
    seen = {(row[1], row[2]) for run in runs for row in run.reference.events}
    detected = [kind for kind in ConditionKind if kind not in LINK_KINDS]
    assert seen == {(kind, active) for kind in detected for active in (True, False)}
    assert sum(run.reference.completed_delays for run in runs) > 20
