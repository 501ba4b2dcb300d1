"""Times as payloads write them, read the same by every decoder."""

from __future__ import annotations

import pytest

from hazwatch.domain.clock import MAX_MILLIS, parse_millis


@pytest.mark.parametrize(
    ("written", "millis"),
    [
        (1_800_000_000_000, 1_800_000_000_000),
        (1_800_000_000_000.9, 1_800_000_000_000),
        ("1800000000000", 1_800_000_000_000),
        ("2027-01-15T00:00:00Z", 1_799_971_200_000),
        ("2027-01-15T08:00:00+08:00", 1_799_971_200_000),  # the same instant in Beijing
        (0, 0),
        (MAX_MILLIS, MAX_MILLIS),
    ],
)
def test_a_time_is_read_from_every_form(written: object, millis: int) -> None:
    assert parse_millis(written) == millis


@pytest.mark.parametrize(
    "written",
    [-1, MAX_MILLIS + 1, True, None, "", "yesterday", "2027-01-15T08:00:00", float("nan"), [1]],
)
def test_what_is_not_a_time_in_range_is_none(written: object) -> None:
    assert parse_millis(written) is None
