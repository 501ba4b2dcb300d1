"""The reading store on both backends: raw readings, duplicates, retention, newest stamps."""

from __future__ import annotations

import math
from dataclasses import asdict

import numpy as np
from sqlalchemy import Engine, text

from hazwatch.domain.batch import NO_STAMP, Batch, Quality
from hazwatch.domain.clock import DAY_MS, HOUR_MS
from hazwatch.storage.readings.blocks import Readings, from_blocks, from_log, log_rows
from hazwatch.storage.readings.store import ReadingStore, open_reading_store

T0 = 1_790_000_000_000 // DAY_MS * DAY_MS  # a UTC midnight


def generated(
    seed: int, *, tags: int = 20, count: int = 2000, start: int = T0, span: int = HOUR_MS
) -> Batch:
    """``count`` readings with distinct (tag, ts), in random order, some not good."""
    rng = np.random.default_rng(seed)
    keys = rng.choice(tags * span // 1000, size=count, replace=False)
    quality = rng.choice([Quality.GOOD, Quality.UNCERTAIN, Quality.BAD], count, p=[0.8, 0.1, 0.1])
    return Batch.of(
        tag=keys % tags + 1,
        ts=start + keys // tags * 1000 + rng.integers(0, 1000, count),
        value=rng.normal(50, 20, count),
        quality=quality,
        received=start + span,
    )


def stored(engine: Engine) -> list[tuple[int, int, float | None, int, int]]:
    """Every raw reading, wherever it waits (log or blocks), in (tag, ts) order."""
    with engine.connect() as conn:
        logged = conn.execute(
            text("SELECT received, tag, ts, value, quality, server FROM reading_log")
        )
        blocks = conn.execute(
            text("SELECT tag_id, ts, value, quality, received, server FROM reading_blocks")
        )
        readings = Readings.concat(
            [from_log([tuple(r) for r in logged]), from_blocks([tuple(r) for r in blocks])]
        )
    rows = zip(
        readings.tag.tolist(),
        readings.ts.tolist(),
        readings.value.tolist(),
        readings.quality.tolist(),
        readings.received.tolist(),
        strict=True,
    )
    return sorted((t, s, None if math.isnan(v) else v, q, r) for t, s, v, q, r in rows)


def as_rows(batch: Batch) -> list[tuple[int, int, float | None, int, int]]:
    rows = zip(
        batch.tag.tolist(),
        batch.ts.tolist(),
        batch.value.tolist(),
        batch.quality.tolist(),
        strict=True,
    )
    return sorted((t, s, None if math.isnan(v) else v, q, batch.received) for t, s, v, q in rows)


def test_written_readings_read_back_per_tag_ascending(store: ReadingStore, engine: Engine) -> None:
    batch = generated(1)
    value = batch.value.copy()
    value[::97] = np.nan
    batch = Batch.of(
        tag=batch.tag, ts=batch.ts, value=value, quality=batch.quality, received=batch.received
    )
    assert not store.write(batch).any()
    assert stored(engine) == as_rows(batch)

    tag = int(batch.tag[0])
    start, end = T0 + 10 * 60_000, T0 + 40 * 60_000
    pick = (batch.tag == tag) & (batch.ts >= start) & (batch.ts < end)
    order = np.argsort(batch.ts[pick])
    got = store.raw(tag, start, end, limit=10_000)
    assert got.ts.tolist() == batch.ts[pick][order].tolist()
    np.testing.assert_array_equal(got.value, batch.value[pick][order])  # NaN where NaN
    assert got.quality.tolist() == batch.quality[pick][order].tolist()
    assert store.raw(tag, start, end, limit=3).ts.tolist() == got.ts[:3].tolist()
    assert len(store.raw(tag, end, start, limit=10)) == 0


def test_a_replayed_batch_changes_nothing_and_is_all_duplicate(
    store: ReadingStore, engine: Engine
) -> None:
    batch = generated(2)
    store.write(batch)
    before = stored(engine)
    replay = Batch.of(
        tag=batch.tag,
        ts=batch.ts,
        value=batch.value + 1.0,
        quality=batch.quality,
        received=batch.received + 5000,
    )
    assert store.write(replay).all()
    assert stored(engine) == before


def test_a_partly_new_batch_stores_only_the_new_readings(
    store: ReadingStore, engine: Engine
) -> None:
    old = generated(3, count=1500)
    store.write(old.select(np.arange(1000)))
    # Old readings (with other values) interleaved with new ones, some newer and some older
    # than the newest stored reading of their tag.
    mixed = Batch.concat([old.select(np.arange(500, 1500)), generated(4, start=T0 + HOUR_MS)])
    mixed = Batch.of(
        tag=mixed.tag,
        ts=mixed.ts,
        value=mixed.value - 3.0,
        quality=mixed.quality,
        received=T0 + 2 * HOUR_MS,
    )
    shuffle = np.random.default_rng(5).permutation(len(mixed))
    mixed = mixed.select(shuffle)
    was_old = np.zeros(len(mixed), dtype=np.bool_)
    was_old[shuffle < 500] = True

    duplicate = store.write(mixed)
    assert duplicate.tolist() == was_old.tolist()
    expected = as_rows(old.select(np.arange(1000))) + as_rows(mixed.select(~was_old))
    assert stored(engine) == sorted(expected)


def test_repeats_inside_a_batch_keep_the_first(store: ReadingStore, engine: Engine) -> None:
    batch = Batch.of(
        tag=[7, 7, 8, 7], ts=[T0, T0 + 1, T0, T0], value=[1.0, 2.0, 3.0, 4.0], received=T0
    )
    assert store.write(batch).tolist() == [False, False, False, True]
    assert [(r[0], r[1], r[2]) for r in stored(engine)] == [
        (7, T0, 1.0),
        (7, T0 + 1, 2.0),
        (8, T0, 3.0),
    ]


def test_readings_stored_by_another_writer_keep_their_first_value(
    store: ReadingStore, engine: Engine
) -> None:
    store.write(Batch.of(tag=[1, 2], ts=[T0, T0], value=[1.0, 2.0], received=T0))
    # Newer than anything this store wrote, so it takes them for new: one writer per
    # database is the rule, and breaking it must still not make a reading appear twice.
    other = Batch.of(tag=[1, 2], ts=[T0 + 5000, T0 + 7000], value=[10.0, 20.0], received=0)
    with engine.begin() as conn:
        for row in log_rows(other):
            conn.execute(
                text(
                    "INSERT INTO reading_log (part, received, n, t0, t1, tag, ts, value, quality)"
                    " VALUES (:part, :received, :n, :t0, :t1, :tag, :ts, :value, :quality)"
                ),
                asdict(row),
            )
    batch = Batch.of(
        tag=[1, 1, 2, 2, 3],
        ts=[T0 + 5000, T0 + 6000, T0 + 7000, T0 + 8000, T0 + 5000],
        value=[-1.0, 11.0, -2.0, 21.0, 30.0],
        received=T0 + 9000,
    )
    store.write(batch)
    assert store.raw(1, T0, T0 + HOUR_MS, 10).value.tolist() == [1.0, 10.0, 11.0]
    assert store.raw(2, T0, T0 + HOUR_MS, 10).value.tolist() == [2.0, 20.0, 21.0]
    store.write(Batch.of(tag=[4] * 400, ts=T0 + np.arange(400), value=[0.0] * 400, received=T0))
    values = {(r[0], r[1]): r[2] for r in stored(engine)}
    assert len(stored(engine)) == len(values) == 407
    assert values[(1, T0 + 5000)] == 10.0
    assert values[(2, T0 + 7000)] == 20.0


def test_last_timestamps_are_the_newest_per_tag_also_after_reopening(
    store: ReadingStore, engine: Engine
) -> None:
    batch = generated(6, tags=30, count=3000)
    for part in np.array_split(np.arange(len(batch)), 4):
        store.write(batch.select(part))
    expected = {int(t): int(batch.ts[batch.tag == t].max()) for t in np.unique(batch.tag)}
    assert store.last_timestamps() == expected
    store.close()
    reopened = open_reading_store(engine)
    try:
        assert reopened.last_timestamps() == expected
    finally:
        reopened.close()


def test_retention_purges_exactly_the_readings_before_the_cut(
    store: ReadingStore, engine: Engine
) -> None:
    # Three days, so that whole days go and one day is cut in the middle.
    batch = generated(7, tags=5, count=3000, span=3 * DAY_MS)
    store.write(batch)
    store.flush()
    cut = T0 + DAY_MS + 7 * HOUR_MS + 123
    keep = batch.ts >= cut

    assert store.purge_raw(cut) == int((~keep).sum())
    assert stored(engine) == as_rows(batch.select(keep))
    assert store.purge_raw(cut) == 0

    with engine.connect() as conn:
        buckets = conn.execute(text("SELECT bucket FROM rollups_1m")).scalars().all()
    assert store.purge_rollups(cut) == sum(1 for b in buckets if b < cut)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT bucket FROM rollups_1m")).scalars().all()
    assert sorted(left) == sorted(b for b in buckets if b >= cut)
    # The store keeps working on the days that are left and on new ones.
    later = Batch.of(tag=[1], ts=[T0 + 3 * DAY_MS + 5], value=[1.0], received=T0)
    assert not store.write(later).any()


def test_compacted_readings_stay_readable_and_unique(engine: Engine) -> None:
    store = open_reading_store(engine, compact_readings=1000)
    try:
        batch = generated(8, tags=40, count=6000)
        batch = batch.select(np.argsort(batch.ts))
        for part in np.array_split(np.arange(len(batch)), 30):
            store.write(batch.select(part))
        later = generated(9, tags=40, count=200, start=T0 + HOUR_MS)
        store.write(later)
        with engine.connect() as conn:
            packed = conn.execute(text("SELECT sum(n) FROM reading_blocks")).scalar_one()
            waiting = conn.execute(text("SELECT sum(n) FROM reading_log")).scalar_one()
        assert packed > 0 and waiting > 0
        everything = Batch.concat([batch, later])
        assert packed + waiting == len(everything)
        # Each reading once, in the log or in a block.
        assert stored(engine) == sorted(as_rows(batch) + as_rows(later))

        tag = int(later.tag[0])
        mine = np.sort(everything.ts[everything.tag == tag])
        got = store.raw(tag, T0, T0 + 2 * HOUR_MS, limit=10_000).ts
        assert got.tolist() == mine.tolist()
        assert store.write(everything).all()
    finally:
        store.close()


def test_blocks_hold_one_tag_and_one_day(engine: Engine) -> None:
    store = open_reading_store(engine, compact_readings=1)
    try:
        batch = generated(10, tags=3, count=500, start=T0 - HOUR_MS, span=2 * HOUR_MS)
        store.write(batch)
        store.write(Batch.of(tag=[1], ts=[T0 + 3 * HOUR_MS], value=[0.0], received=T0))
        with engine.connect() as conn:
            spans = conn.execute(text("SELECT tag_id, t0, t1, n FROM reading_blocks")).all()
        # Each write compacted: a block per tag and side of midnight, and one more.
        assert len(spans) == 3 * 2 + 1
        assert all(t0 // DAY_MS == t1 // DAY_MS for _, t0, t1, _ in spans)
        assert sum(n for *_, n in spans) == len(batch) + 1
    finally:
        store.close()


def test_a_second_writer_cannot_make_a_reading_appear_twice(engine: Engine) -> None:
    first = open_reading_store(engine, compact_readings=1)
    second = open_reading_store(engine, compact_readings=1)
    try:
        batch = generated(11, tags=5, count=300)
        first.write(batch)
        # The second store started before the first wrote: it takes all of it for new.
        assert not second.write(batch).any()
        assert stored(engine) == as_rows(batch)
        tag = int(batch.tag[0])
        got = first.raw(tag, T0, T0 + HOUR_MS, limit=10_000).ts
        assert got.tolist() == np.sort(batch.ts[batch.tag == tag]).tolist()
    finally:
        second.close()
        first.close()


def test_server_timestamps_are_kept_beside_ts_in_log_and_blocks(engine: Engine) -> None:
    store = open_reading_store(engine, compact_readings=4)
    try:
        stamped = Batch.of(
            tag=[1, 1, 2],
            ts=[T0, T0 + 1, T0],
            value=[1.0, 2.0, 3.0],
            received=T0,
            server_ts=[T0 + 50, NO_STAMP, T0 + 70],
        )
        store.write(stamped)  # 3 readings: stays in the log
        got = store.raw(1, T0, T0 + HOUR_MS, 10)
        assert got.server_ts.tolist() == [T0 + 50, NO_STAMP]
        store.write(Batch.of(tag=[1, 2], ts=[T0 + 2, T0 + 1], value=[4.0, 5.0], received=T0))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM reading_log")).scalar_one() == 0
        assert store.raw(1, T0, T0 + HOUR_MS, 10).server_ts.tolist() == [T0 + 50, 0, 0]
        assert store.raw(2, T0, T0 + HOUR_MS, 10).server_ts.tolist() == [T0 + 70, 0]
    finally:
        store.close()
