from __future__ import annotations

import numpy as np

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import DAY_MS, MINUTE_MS
from hazwatch.domain.reject import RejectReason
from hazwatch.domain.tag import Tag
from hazwatch.domain.tagtable import TagTable
from hazwatch.ingest.validation import REASON_CODES, Admission, validate

NOW = 1_800_000_000_000


def _table() -> TagTable:
    tags = [
        Tag(
            id=i,
            key=f"e.s.i.q.t{i}",
            name="",
            scope_id=1,
            scope_path="/1/",
            unit="%",
            range_lo=0.0,
            range_hi=100.0,
            period_s=1.0,
        )
        for i in (1, 2, 5)
    ]
    return TagTable.build(tags)


def _reasons(verdict_reasons: np.ndarray) -> list[RejectReason]:
    return [REASON_CODES[c - 1] for c in verdict_reasons.tolist()]


def test_each_rule_refuses_with_its_reason_and_keeps_the_valid_readings() -> None:
    batch = Batch.of(
        tag=[1, 3, 2, 5, 1, 2, 5, 1, 99, -4],
        ts=[
            NOW,
            NOW,
            NOW,
            NOW,
            NOW + 6 * MINUTE_MS,
            NOW - 31 * DAY_MS,
            NOW - 1000,
            NOW,
            NOW,
            NOW,
        ],
        value=[50, 50, float("nan"), 101, 50, 50, float("inf"), 40, 1, 1],
        received=NOW,
    )
    verdict = validate(batch, _table(), NOW, Admission())

    assert verdict.valid.tag.tolist() == [1]
    assert verdict.valid.value.tolist() == [50.0]
    assert _reasons(verdict.reasons) == [
        RejectReason.UNKNOWN_TAG,
        RejectReason.NOT_FINITE,
        RejectReason.OUT_OF_RANGE,
        RejectReason.FUTURE,
        RejectReason.TOO_OLD,
        RejectReason.NOT_FINITE,
        RejectReason.DUPLICATE,
        RejectReason.UNKNOWN_TAG,
        RejectReason.UNKNOWN_TAG,
    ]
    assert verdict.counts()[RejectReason.UNKNOWN_TAG] == 3
    assert len(verdict.valid) + len(verdict.rejected) == len(batch)


def test_range_ends_and_the_admission_window_edges_are_inside() -> None:
    admission = Admission(future_ms=5 * MINUTE_MS, retention_ms=30 * DAY_MS)
    batch = Batch.of(
        tag=[1, 2, 5],
        ts=[NOW + 5 * MINUTE_MS, NOW - 30 * DAY_MS, NOW],
        value=[0.0, 100.0, 50.0],
        received=NOW,
    )
    verdict = validate(batch, _table(), NOW, admission)
    assert len(verdict.valid) == 3
    assert verdict.counts() == {}


def test_a_repeated_reading_keeps_its_first_copy() -> None:
    batch = Batch.of(tag=[2, 2, 2], ts=[NOW, NOW, NOW - 1], value=[10, 20, 30], received=NOW)
    verdict = validate(batch, _table(), NOW, Admission())
    assert verdict.valid.value.tolist() == [10.0, 30.0]
    assert verdict.rejected.value.tolist() == [20.0]
    assert _reasons(verdict.reasons) == [RejectReason.DUPLICATE]


def test_an_empty_batch_is_valid_and_empty() -> None:
    verdict = validate(Batch.empty(NOW), _table(), NOW, Admission())
    assert len(verdict.valid) == 0
    assert verdict.counts() == {}


def test_a_bad_quality_reading_is_kept_whatever_value_it_carries() -> None:
    batch = Batch.of(
        tag=[1, 2, 5, 1],
        ts=[NOW - 3, NOW - 2, NOW - 1, NOW],
        value=[float("nan"), 250.0, float("inf"), float("nan")],
        quality=[Quality.BAD, Quality.BAD, Quality.BAD, Quality.UNCERTAIN],
        received=NOW,
    )
    verdict = validate(batch, _table(), NOW, Admission())
    assert verdict.valid.tag.tolist() == [1, 2, 5]
    assert _reasons(verdict.reasons) == [RejectReason.NOT_FINITE]
