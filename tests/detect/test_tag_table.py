from __future__ import annotations

import numpy as np
import pytest

from hazwatch.domain.tag import ConditionKind, Limit, Priority, Tag
from hazwatch.domain.tagtable import DEFAULT_PRIORITY, TagTable


def tag(tag_id: int, **overrides: object) -> Tag:
    fields: dict[str, object] = {
        "id": tag_id,
        "key": f"t{tag_id}",
        "name": "",
        "scope_id": 1,
        "scope_path": "/1/",
        "unit": "",
        "range_lo": 0.0,
        "range_hi": 100.0,
        "period_s": 2.0,
    }
    fields.update(overrides)
    return Tag(**fields)  # type: ignore[arg-type]


def test_columns_are_indexed_by_tag_id() -> None:
    limits = (
        Limit(kind=ConditionKind.HH, value=90, priority=Priority.CRITICAL, deadband=2),
        Limit(kind=ConditionKind.L, value=10, priority=Priority.LOW, on_delay_s=1.5, off_delay_s=3),
    )
    table = TagTable.build(
        [
            tag(3, limits=limits, frozen_after_s=60, offline_after_s=20, range_lo=-5.0),
            tag(1, period_s=10.0),
        ]
    )
    assert table.size == 4
    assert table.known.tolist() == [False, True, False, True]
    assert table.range_lo[3] == -5.0 and table.range_hi[3] == 100.0
    assert np.isnan(table.range_lo[2])
    assert table.period_ms.tolist() == [0, 10_000, 0, 2_000]
    # tag 1 takes the default offline time max(3 × period, 300 s)
    assert table.offline_after_ms.tolist() == [0, 300_000, 0, 20_000]
    assert table.frozen_after_ms.tolist() == [0, 0, 0, 60_000]
    assert table.limit_enabled[3].tolist() == [True, False, True, False]
    assert table.limit_value[3, 0] == 90 and table.limit_value[3, 2] == 10
    assert np.isnan(table.limit_value[3, 1])
    assert table.deadband[3].tolist() == [2.0, 0.0, 0.0, 0.0]
    assert table.on_delay_ms[3].tolist() == [0, 0, 1500, 0]
    assert table.off_delay_ms[3].tolist() == [0, 0, 3000, 0]
    assert not table.limit_enabled[1].any()


def test_columns_are_read_only() -> None:
    table = TagTable.build([tag(1)])
    with pytest.raises(ValueError):
        table.limit_value[1, 0] = 5.0


def test_priority_lookup() -> None:
    limits = (Limit(kind=ConditionKind.H, value=80, priority=Priority.HIGH),)
    table = TagTable.build([tag(2, limits=limits, offline_priority=Priority.LOW)])
    assert table.priority(2, ConditionKind.H) is Priority.HIGH
    assert table.priority(2, ConditionKind.OFFLINE) is Priority.LOW
    assert table.priority(2, ConditionKind.FROZEN) is Priority.LOW
    assert table.priority(2, ConditionKind.BAD_QUALITY) is Priority.LOW
    assert table.priority(2, ConditionKind.HH) is DEFAULT_PRIORITY
    assert table.priority(99, ConditionKind.H) is DEFAULT_PRIORITY


def test_knows_and_has_condition() -> None:
    limits = (Limit(kind=ConditionKind.LL, value=5, priority=Priority.HIGH),)
    table = TagTable.build([tag(2, limits=limits)])
    ids = np.array([-1, 0, 2, 3, 1_000_000], dtype=np.int32)
    assert table.knows(ids).tolist() == [False, False, True, False, False]
    assert table.has_condition(2, ConditionKind.LL)
    assert not table.has_condition(2, ConditionKind.H)
    assert table.has_condition(2, ConditionKind.OFFLINE)
    assert not table.has_condition(2, ConditionKind.FROZEN)
    assert table.has_condition(2, ConditionKind.BAD_QUALITY)
    assert not table.has_condition(7, ConditionKind.BAD_QUALITY)


def test_empty_and_invalid_ids() -> None:
    assert TagTable.build([]).size == 0
    with pytest.raises(ValueError, match="unique"):
        TagTable.build([tag(1), tag(1)])
    with pytest.raises(ValueError, match="non-negative"):
        TagTable.build([tag(-1)])
