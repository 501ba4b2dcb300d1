"""Decoding of OPC UA data values: quality, numbers, timestamps, one publish cycle."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from asyncua import ua

from hazwatch.connectors.opcua.decode import (
    NO_STAMP,
    NotNumberError,
    decode_cycle,
    hold_last_good,
    millis_of,
    number_of,
    qualities_of,
    quality_of,
    status_name,
)
from hazwatch.domain.batch import Quality

NOW = 1_800_000_060_000
T0 = datetime(2027, 1, 15, 8, 0, 0, 250_000, tzinfo=UTC)
T0_MS = 1_800_000_000_250


@pytest.mark.parametrize(
    ("status", "quality"),
    [
        (ua.StatusCodes.Good, Quality.GOOD),
        (ua.StatusCodes.GoodClamped, Quality.GOOD),
        (0x0000_0400, Quality.GOOD),  # Good with info bits set
        (ua.StatusCodes.Uncertain, Quality.UNCERTAIN),
        (ua.StatusCodes.UncertainLastUsableValue, Quality.UNCERTAIN),
        (ua.StatusCodes.UncertainSensorNotAccurate, Quality.UNCERTAIN),
        (ua.StatusCodes.Bad, Quality.BAD),
        (ua.StatusCodes.BadSensorFailure, Quality.BAD),
        (ua.StatusCodes.BadNodeIdUnknown, Quality.BAD),
        (0xC000_0000, Quality.BAD),  # the reserved fourth severity
    ],
)
def test_quality_by_severity_bits(status: int, quality: Quality) -> None:
    assert quality_of(status) is quality
    assert qualities_of(np.array([status], dtype=np.uint32)).tolist() == [quality]


def test_status_names_ignore_info_bits() -> None:
    assert status_name(ua.StatusCodes.BadNodeIdUnknown) == "BadNodeIdUnknown"
    assert status_name(ua.StatusCodes.BadNodeIdUnknown | 0x0400) == "BadNodeIdUnknown"
    assert status_name(0) == "Good"


@pytest.mark.parametrize(
    ("variant", "number"),
    [
        (ua.Variant(61.25, ua.VariantType.Double), 61.25),
        (ua.Variant(1.5, ua.VariantType.Float), 1.5),
        (ua.Variant(-7, ua.VariantType.Int16), -7.0),
        (ua.Variant(40_000, ua.VariantType.UInt16), 40_000.0),
        (ua.Variant(2**40, ua.VariantType.Int64), float(2**40)),
        (ua.Variant(2**63, ua.VariantType.UInt64), float(2**63)),
        (ua.Variant(200, ua.VariantType.Byte), 200.0),
        (ua.Variant(-100, ua.VariantType.SByte), -100.0),
        (ua.Variant(True), 1.0),
        (ua.Variant(False), 0.0),
    ],
)
def test_numbers_and_booleans(variant: ua.Variant, number: float) -> None:
    assert number_of(variant) == number


@pytest.mark.parametrize(
    ("variant", "reason"),
    [
        (ua.Variant("12.5"), "String is not a number"),
        (ua.Variant(T0), "DateTime is not a number"),
        (ua.Variant(b"\x01"), "ByteString is not a number"),
        (ua.Variant(ua.LocalizedText("x")), "LocalizedText is not a number"),
        (ua.Variant([1.0, 2.0]), "an array of Double"),
    ],
)
def test_other_values_are_refused_with_a_reason(variant: ua.Variant, reason: str) -> None:
    with pytest.raises(NotNumberError, match=reason):
        number_of(variant)


def test_an_empty_variant_is_nan() -> None:
    assert math.isnan(number_of(ua.Variant(None)))
    assert math.isnan(number_of(None))


def test_millis() -> None:
    assert millis_of(T0) == T0_MS
    assert millis_of(T0.replace(tzinfo=None)) == T0_MS, "naive means UTC"
    assert millis_of(T0.astimezone(UTC) + timedelta(microseconds=999)) == T0_MS
    assert millis_of(None) == NO_STAMP
    assert millis_of(datetime(1601, 1, 1, tzinfo=UTC)) == NO_STAMP, "OPC UA's 'no time'"


def note(
    handle: int,
    value: object,
    *,
    status: int = ua.StatusCodes.Good,
    source: datetime | None = None,
    server: datetime | None = None,
) -> ua.MonitoredItemNotification:
    variant = value if isinstance(value, ua.Variant) else ua.Variant(value)
    return ua.MonitoredItemNotification(
        ClientHandle=handle,
        Value=ua.DataValue(
            variant,
            StatusCode=ua.StatusCode(status),
            SourceTimestamp=source,
            ServerTimestamp=server,
        ),
    )


def test_a_cycle_keeps_source_and_server_timestamps() -> None:
    server = T0 + timedelta(seconds=2)
    cycle = decode_cycle([note(0, 1.0, source=T0, server=server)], NOW)
    assert cycle.ts.tolist() == [T0_MS]
    assert cycle.server_ts.tolist() == [T0_MS + 2000]
    assert cycle.quality.tolist() == [Quality.GOOD]
    assert cycle.max_skew() == 2000


def test_without_a_source_timestamp_the_server_one_is_ts() -> None:
    cycle = decode_cycle([note(0, 1.0, server=T0)], NOW)
    assert cycle.ts.tolist() == [T0_MS]
    assert cycle.server_ts.tolist() == [T0_MS]
    assert cycle.quality.tolist() == [Quality.GOOD]
    assert cycle.max_skew() == 0, "a server stamp alone is no skew"


def test_without_timestamps_the_receive_time_is_ts_and_good_becomes_uncertain() -> None:
    cycle = decode_cycle([note(0, 1.0), note(1, 2.0, status=ua.StatusCodes.BadSensorFailure)], NOW)
    assert cycle.ts.tolist() == [NOW, NOW]
    assert cycle.server_ts.tolist() == [NO_STAMP, NO_STAMP]
    assert cycle.quality.tolist() == [Quality.UNCERTAIN, Quality.BAD]


def test_a_cycle_decodes_in_columns_and_refuses_what_is_not_a_number() -> None:
    cycle = decode_cycle(
        [
            note(3, 10.5, source=T0),
            note(1, "open", source=T0),
            note(2, ua.Variant(7, ua.VariantType.Int32), status=0x40900000, source=T0),
            note(0, None, status=ua.StatusCodes.BadCommunicationError, server=T0),
            note(4, None, source=T0),
        ],
        NOW,
    )
    assert cycle.item.tolist() == [3, 2, 0]
    assert cycle.value.tolist()[:2] == [10.5, 7.0]
    assert math.isnan(cycle.value[2])
    assert cycle.quality.tolist() == [Quality.GOOD, Quality.UNCERTAIN, Quality.BAD]
    assert [(r.item, r.ts) for r in cycle.refused] == [(1, T0_MS), (4, T0_MS)]
    assert "String is not a number" in cycle.refused[0].detail
    assert cycle.refused[0].excerpt == "'open'"
    assert cycle.refused[1].detail == "no value with status Good"


def test_an_empty_cycle() -> None:
    cycle = decode_cycle([], NOW)
    assert len(cycle) == 0 and cycle.refused == () and cycle.max_skew() == 0


def test_bad_readings_without_a_value_hold_the_last_good_one() -> None:
    bad = ua.StatusCodes.BadSensorFailure
    last = np.array([np.nan, 5.0])
    cycle = decode_cycle(
        [
            note(0, None, status=bad, source=T0),  # nothing good yet: NaN
            note(1, None, status=bad, source=T0),  # the last good from an earlier cycle
            note(0, 3.0, status=0x40900000, source=T0),  # uncertain counts as a value
            note(0, None, status=bad, source=T0),
            note(1, 9.0, status=bad, source=T0),  # a Bad value the server did send is kept
            note(7, None, status=bad, source=T0),  # not a known item: left alone
        ],
        NOW,
    )
    values = hold_last_good(cycle, last)
    assert np.isnan(values[0]) and np.isnan(values[5])
    assert values[1:5].tolist() == [5.0, 3.0, 3.0, 9.0]
    assert last.tolist() == [3.0, 5.0], "bad values are not good ones"
    assert np.isnan(cycle.value[1]), "the cycle itself is left as decoded"
