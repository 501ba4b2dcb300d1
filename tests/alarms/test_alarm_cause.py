from __future__ import annotations

import math

import pytest

from hazwatch.alarms.cause import describe, number
from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.tag import ConditionKind, Limit, Priority, Tag
from hazwatch.domain.tagtable import TagTable

K = ConditionKind


def table() -> TagTable:
    limits = (
        Limit(kind=K.HH, value=90, priority=Priority.HIGH),
        Limit(kind=K.H, value=80, priority=Priority.HIGH, deadband=5),
        Limit(kind=K.L, value=20, priority=Priority.HIGH, deadband=2.5),
        Limit(kind=K.LL, value=10, priority=Priority.HIGH),
    )
    tag = Tag(
        id=1,
        key="t",
        name="",
        scope_id=1,
        scope_path="/1/",
        unit="",
        range_lo=0,
        range_hi=100,
        period_s=1,
        limits=limits,
        offline_after_s=30,
        frozen_after_s=3600,
    )
    return TagTable.build([tag])


def ev(condition: ConditionKind, active: bool, value: float) -> ConditionEvent:
    return ConditionEvent(tag_id=1, condition=condition, active=active, at=0, value=value)


@pytest.mark.parametrize(
    ("condition", "active", "value", "text"),
    [
        (K.HH, True, 92.1, "value 92.1 ≥ HH 90"),
        (K.HH, False, 89.5, "value 89.5 < HH 90"),
        (K.H, False, 74.9, "value 74.9 < H 80 − deadband 5"),
        (K.L, True, 20, "value 20 ≤ L 20"),
        (K.L, False, 22.6, "value 22.6 > L 20 + deadband 2.5"),
        (K.OFFLINE, True, math.nan, "no reading for 30 s"),
        (K.OFFLINE, False, 12, "reading received, value 12"),
        (K.FROZEN, True, 7, "value 7 unchanged for 3600 s"),
        (K.FROZEN, False, 7.5, "value changed to 7.5"),
        (K.BAD_QUALITY, True, 0, "bad quality reading"),
        (K.BAD_QUALITY, False, 3, "good quality reading, value 3"),
    ],
)
def test_texts_with_the_table(
    condition: ConditionKind, active: bool, value: float, text: str
) -> None:
    assert describe(ev(condition, active, value), table()) == text


def test_texts_without_the_table() -> None:
    assert describe(ev(K.HH, True, 92.1)) == "HH active, value 92.1"
    assert describe(ev(K.LL, False, 11)) == "LL cleared, value 11"
    assert describe(ev(K.OFFLINE, True, math.nan)) == "no reading"
    assert describe(ev(K.FROZEN, True, 4)) == "value 4 frozen"


def test_numbers_read_like_an_operator_writes_them() -> None:
    assert [number(x) for x in (90.0, 92.1, 0.1 + 0.2, -3.5e-7, math.nan)] == [
        "90",
        "92.1",
        "0.3",
        "-3.5e-07",
        "NaN",
    ]
