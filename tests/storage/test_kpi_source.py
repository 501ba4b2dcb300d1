"""What the KPIs read from storage: the alarm journal of a period with the state at its start,
rollup counts, latency from raw readings, dead letters and link outages — scoped."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from journaling import journal

from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.tag import ConditionKind, Priority, Tag, TagDeclaration
from hazwatch.evaluate.access_kpi import Latency
from hazwatch.evaluate.alarm_kpi import alarm_kpis
from hazwatch.evaluate.alarm_log import Span
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.kpi_source import KpiSource
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import open_reading_store

S = 1_800_000_000_000  # a whole minute (and ten minutes)
LEVEL = "acid.main.storage.t101.level"
CL2 = "acid.main.storage.g1.cl2"
PRESSURE = "salt.main.brine.p1.pressure"
GW = "acid.main.storage.gw"

U, A, N, R = (
    AlarmState.UNACKED,
    AlarmState.ACKED,
    AlarmState.NORMAL,
    AlarmState.RTN_UNACKED,
)
In = AlarmInput


@pytest.fixture
def journaled(db: Database, stored_tags: dict[str, Tag]) -> dict[str, Tag]:
    level, cl2, pressure = stored_tags[LEVEL], stored_tags[CL2], stored_tags[PRESSURE]
    # standing since two days before the period: stale
    journal(
        db,
        level,
        ConditionKind.HH,
        Priority.HIGH,
        [(S - 2 * DAY_MS, In.ACTIVATE, U), (S - 2 * DAY_MS + 300_000, In.ACKNOWLEDGE, A)],
    )
    journal(
        db,
        level,
        ConditionKind.H,
        Priority.MEDIUM,
        [
            (S - HOUR_MS, In.ACTIVATE, U),  # last entry into standing before S
            (S - HOUR_MS + 10_000, In.CLEAR, R),  # last process transition before S
            (S - HOUR_MS + 20_000, In.ACKNOWLEDGE, N),  # last transition before S
            (S + HOUR_MS, In.ACTIVATE, U),
            (S + HOUR_MS + 10_000, In.CLEAR, R),
            (S + DAY_MS, In.ACTIVATE, U),  # at the end: not read
        ],
    )
    journal(db, cl2, ConditionKind.HH, Priority.CRITICAL, [(S + 60_000, In.ACTIVATE, U)])
    journal(db, pressure, ConditionKind.LL, Priority.HIGH, [(S + 60_000, In.ACTIVATE, U)])
    return stored_tags


def test_the_journal_of_a_period_carries_the_state_at_its_start(
    db: Database, journaled: dict[str, Tag], grant_on: Callable[..., Grant]
) -> None:
    log = KpiSource(db).alarm_log(grant_on("east", "acid"), S, S + DAY_MS)
    level, cl2 = journaled[LEVEL], journaled[CL2]
    assert [(s.alarm, s.tag_key, s.priority, s.enterprise, s.position) for s in log.subjects] == [
        (f"{level.id}.H", LEVEL, Priority.MEDIUM, "acid", "acid.main.storage"),
        (f"{level.id}.HH", LEVEL, Priority.HIGH, "acid", "acid.main.storage"),
        (f"{cl2.id}.HH", CL2, Priority.CRITICAL, "acid", "acid.main.storage"),
    ]
    by_alarm = {
        s.alarm: [(e.at, e.input, e.to_state) for e in log.events if e.alarm == s.alarm]
        for s in log.subjects
    }
    assert by_alarm[f"{level.id}.H"] == [
        (S - HOUR_MS, In.ACTIVATE, U),
        (S - HOUR_MS + 10_000, In.CLEAR, R),
        (S - HOUR_MS + 20_000, In.ACKNOWLEDGE, N),
        (S + HOUR_MS, In.ACTIVATE, U),
        (S + HOUR_MS + 10_000, In.CLEAR, R),
    ]
    assert by_alarm[f"{level.id}.HH"] == [
        (S - 2 * DAY_MS, In.ACTIVATE, U),
        (S - 2 * DAY_MS + 300_000, In.ACKNOWLEDGE, A),
    ]

    kpi = alarm_kpis(log, S, S + DAY_MS).overall
    assert kpi.annunciations == 2  # level H at S + 1 h, cl2 HH at S + 1 min
    assert [(s.alarm, s.standing_since, s.at_end) for s in kpi.stale] == [
        (f"{level.id}.HH", S - 2 * DAY_MS, True)
    ]


def test_the_journal_is_scoped_and_positions_can_be_sites(
    db: Database, journaled: dict[str, Tag], grant_on: Callable[..., Grant]
) -> None:
    source = KpiSource(db)
    salt = source.alarm_log(grant_on("east", "salt"), S, S + DAY_MS)
    assert [(s.tag_key, s.enterprise) for s in salt.subjects] == [(PRESSURE, "salt")]
    everything = source.alarm_log(Grant.everything(), S, S + DAY_MS, position=ScopeKind.SITE)
    assert {s.position for s in everything.subjects} == {"acid.main", "salt.main"}
    only_hh = source.alarm_log(Grant.everything(), S, S + DAY_MS, conditions=(ConditionKind.HH,))
    assert {s.condition for s in only_hh.subjects} == {ConditionKind.HH}
    assert source.alarm_log(Grant(()), S, S + DAY_MS).subjects == ()
    with pytest.raises(ValueError, match="position"):
        source.alarm_log(Grant.everything(), S, S + DAY_MS, position=ScopeKind.EQUIPMENT)


def _store_level_readings(db: Database, level: Tag) -> None:
    """30 readings a minute (every 2 s) in minutes 0–3 and 5–9 of the period, each minute's
    received at its end (latency 60 s … 2 s); minute 9's received 30 s later (latency
    90 s … 2 s + 30 s). A bad-quality reading in minute 0 and one reading before the period."""
    store = open_reading_store(db.engine)
    try:
        before = Batch.of(tag=[level.id], ts=[S - MINUTE_MS], value=[1.0], received=S - 30_000)
        store.write(before)
        for minute in (0, 1, 2, 3, 5, 6, 7, 8, 9):
            first = S + minute * MINUTE_MS
            late = 30_000 if minute == 9 else 0
            ts = first + 2000 * np.arange(30)
            store.write(
                Batch.of(
                    tag=[level.id] * 30,
                    ts=ts,
                    value=np.full(30, 5.0),
                    received=first + MINUTE_MS + late,
                )
            )
        bad = Batch.of(
            tag=[level.id],
            ts=[S + 1000],
            value=[5.0],
            quality=[Quality.BAD.value],
            received=S + MINUTE_MS,
        )
        store.write(bad)
    finally:
        store.close()


def test_access_inputs_count_readings_latency_rejections_and_outages(
    db: Database, stored_tags: dict[str, Tag], grant_on: Callable[..., Grant]
) -> None:
    level, pressure = stored_tags[LEVEL], stored_tags[PRESSURE]
    _store_level_readings(db, level)
    letters = DeadLetterRepository(db)
    letters.add(
        [
            DeadLetter(
                received=S + MINUTE_MS,
                source="http",
                reason=RejectReason.OUT_OF_RANGE,
                scope_path=level.scope_path,
            ),
            DeadLetter(
                received=S + 2 * MINUTE_MS,
                source="http",
                reason=RejectReason.OUT_OF_RANGE,
                scope_path=level.scope_path,
            ),
            DeadLetter(  # before the period
                received=S - 1,
                source="http",
                reason=RejectReason.FUTURE,
                scope_path=level.scope_path,
            ),
            DeadLetter(
                received=S + MINUTE_MS,
                source="http",
                reason=RejectReason.UNKNOWN_TAG,
                scope_path=pressure.scope_path,
            ),
            DeadLetter(received=S + MINUTE_MS, source="http", reason=RejectReason.MALFORMED),
        ]
    )
    plants = PlantRepository(db)
    plants.declare([TagDeclaration(key=f"{GW}.link-status", period_s=60)])
    gw = plants.tag_by_key(f"{GW}.link-status")
    assert gw is not None
    journal(
        db,
        gw,
        ConditionKind.DEVICE_OFFLINE,
        Priority.MEDIUM,
        [(S + 2 * MINUTE_MS, In.ACTIVATE, U), (S + 5 * MINUTE_MS, In.CLEAR, R)],
    )

    end = S + 10 * MINUTE_MS
    inputs = KpiSource(db).access_inputs(grant_on("east", "acid"), S, end, late_after_ms=60_000)
    assert inputs.enterprises == ("acid",)
    tags = {t.tag_key: t for t in inputs.tags}
    assert set(tags) == {LEVEL, "acid.main.storage.t101.temp", CL2}  # not the status tag
    supply = tags[LEVEL]
    assert (supply.enterprise, supply.period_s, supply.received, supply.minutes) == (
        "acid",
        2,
        270,  # 9 minutes × 30 usable readings; the bad one is not counted
        9,
    )
    # latency: 8 minutes × Σ(60 000 − 2000 k, k < 30) = 8 × 930 000, minute 9 1 830 000,
    # and the bad reading's 59 000; late (> 60 s): minute 9's first 15 readings
    assert supply.latency == Latency(
        readings=271, total_ms=8 * 930_000 + 1_830_000 + 59_000, max_ms=90_000, late=15, ahead=0
    )
    assert (tags[CL2].received, tags[CL2].minutes, tags[CL2].latency) == (0, 0, Latency())
    assert {(r.enterprise, r.reason, r.count) for r in inputs.rejected} == {
        ("acid", RejectReason.OUT_OF_RANGE, 2)
    }
    assert [(d.device, d.enterprise, d.offline) for d in inputs.devices] == [
        (GW, "acid", (Span(since=S + 2 * MINUTE_MS, until=S + 5 * MINUTE_MS),))
    ]
    assert inputs.latency_from == S

    recent = KpiSource(db).access_inputs(
        grant_on("east", "acid"), S, end, latency_from=S + 5 * MINUTE_MS
    )
    level_recent = next(t for t in recent.tags if t.tag_key == LEVEL)
    assert level_recent.received == 270  # counts still cover the whole period
    assert level_recent.latency.readings == 150
    assert level_recent.latency.total_ms == 4 * 930_000 + 1_830_000

    everything = KpiSource(db).access_inputs(Grant.everything(), S, end)
    assert everything.enterprises == ("acid", "salt", "steel")
    assert {(r.enterprise, r.reason) for r in everything.rejected} == {
        ("acid", RejectReason.OUT_OF_RANGE),
        ("salt", RejectReason.UNKNOWN_TAG),
        ("", RejectReason.MALFORMED),
    }


def test_access_periods_are_whole_minutes(db: Database) -> None:
    source = KpiSource(db)
    with pytest.raises(ValueError, match="start must lie on a whole minute"):
        source.access_inputs(Grant.everything(), S + 1, S + HOUR_MS)
    with pytest.raises(ValueError, match="end must lie after start"):
        source.access_inputs(Grant.everything(), S, S)
