"""The training matrix: tags on one regular grid, sparse and constant tags left out."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.warn.training import Series, training_set

MIN = 60_000


def _series(key: str, minutes: list[int], values: list[float], **kw: object) -> Series:
    return Series(
        key=key,
        ts=np.array(minutes, dtype=np.int64) * MIN,
        values=np.array(values, dtype=float),
        **kw,  # type: ignore[arg-type]
    )


def test_each_tag_is_a_column_on_the_grid() -> None:
    found = training_set(
        [_series("a", [0, 1, 2, 3], [1, 2, 3, 4]), _series("b", [0, 1, 2, 3], [5, 5, 6, 7])],
        start=0,
        end=4 * MIN,
        period_ms=MIN,
    )
    assert found.variables == ("a", "b")
    np.testing.assert_array_equal(found.samples, [[1, 5], [2, 5], [3, 6], [4, 7]])
    np.testing.assert_array_equal(found.stamps, np.arange(4) * MIN)
    assert found.left_out == ()


def test_sparse_and_constant_tags_are_left_out_with_the_reason() -> None:
    found = training_set(
        [
            _series("a", list(range(10)), list(range(10))),
            _series("sparse", [0, 5], [1, 2]),
            _series("flat", list(range(10)), [3.0] * 10),
        ],
        start=0,
        end=10 * MIN,
        period_ms=MIN,
    )
    assert found.variables == ("a",)
    reasons = dict(found.left_out)
    assert "2 of 10 periods" in reasons["sparse"]
    assert "constant" in reasons["flat"]


def test_short_gaps_carry_the_last_value_and_long_gaps_drop_rows() -> None:
    minutes = [m for m in range(20) if m not in (3, 4, 10, 11, 12, 13)]
    found = training_set(
        [_series("a", minutes, [float(m) for m in minutes])],
        start=0,
        end=20 * MIN,
        period_ms=MIN,
        max_gap=2,
        min_coverage=0.5,
    )
    column = found.samples[:, 0]
    stamps = found.stamps // MIN
    assert dict(zip(stamps.tolist(), column.tolist(), strict=True))[4] == 2.0  # carried
    assert 12 not in stamps and 13 not in stamps  # more than 2 periods after the last value
    assert 11 in stamps and 10 in stamps
    assert len(found.samples) == 18 and found.periods == 20


def test_longer_periods_average_their_minutes_by_reading_count() -> None:
    found = training_set(
        [
            _series(
                "a",
                [0, 1, 2, 3],
                [0.0, 3.0, 10.0, 20.0],
                weights=np.array([2.0, 1.0, 1.0, 1.0]),
            )
        ],
        start=0,
        end=4 * MIN,
        period_ms=2 * MIN,
    )
    np.testing.assert_allclose(found.samples[:, 0], [1.0, 15.0])


def test_a_bad_range_is_refused() -> None:
    with pytest.raises(ValueError, match="start < end"):
        training_set([], start=10, end=10, period_ms=MIN)
