"""Sparkplug B payloads: values by datatype, properties, quality, the rebirth command, and
the STATE messages of the host application."""

from __future__ import annotations

import pytest

from hazwatch.connectors.sparkplug import codec, state
from hazwatch.connectors.sparkplug import sparkplug_b_pb2 as pb
from hazwatch.domain.batch import Quality


def metric(**fields: object) -> pb.Payload.Metric:
    return pb.Payload.Metric(**fields)


@pytest.mark.parametrize(
    ("datatype", "fields", "expected"),
    [
        (pb.Int8, {"int_value": 0xFF}, -1.0),  # 8-bit two's complement
        (pb.Int8, {"int_value": 0xFFFFFF80}, -128.0),  # sign-extended to 32 bits
        (pb.Int16, {"int_value": 0x8000}, -32768.0),
        (pb.Int32, {"int_value": 0xFFFFFFFE}, -2.0),
        (pb.Int64, {"long_value": 2**64 - 5}, -5.0),
        (pb.UInt8, {"int_value": 0xFF}, 255.0),
        (pb.UInt32, {"int_value": 0xFFFFFFFF}, 4294967295.0),
        (pb.UInt64, {"long_value": 2**40}, float(2**40)),
        (pb.Float, {"float_value": 0.5}, 0.5),
        (pb.Double, {"double_value": -1.25}, -1.25),
        (pb.Boolean, {"boolean_value": True}, 1.0),
        (pb.Boolean, {"boolean_value": False}, 0.0),
    ],
)
def test_values_by_datatype(datatype: int, fields: dict[str, object], expected: float) -> None:
    assert codec.value(metric(**fields), datatype) == expected


def test_a_metric_without_a_number_has_no_value() -> None:
    with pytest.raises(ValueError, match="no value for a Double metric"):
        codec.value(metric(), pb.Double)
    with pytest.raises(ValueError, match="string_value for a Int32 metric"):
        codec.value(metric(string_value="7"), pb.Int32)


def test_decode_refuses_what_is_not_a_payload() -> None:
    body = pb.Payload(timestamp=5, seq=1)
    assert codec.decode(body.SerializeToString()) == body
    with pytest.raises(codec.PayloadError, match=r"not a Sparkplug B payload \(3 bytes\)"):
        codec.decode(b"\xff\xff\xff")


def test_excerpts_are_base64_and_bounded() -> None:
    assert codec.excerpt(b"\x00\x01") == "base64:AAE="
    long = codec.excerpt(bytes(5000))
    assert long.endswith("…") and len(long) == len("base64:") + 2000 + 1


def test_quality_from_null_and_the_quality_property() -> None:
    assert codec.quality(metric(is_null=True)) is Quality.BAD
    assert codec.quality(metric(double_value=1)) is Quality.GOOD
    flagged = metric(double_value=1)
    flagged.properties.keys.append("Quality")
    flagged.properties.values.add(type=pb.Int32, int_value=500)
    assert codec.quality(flagged) is Quality.UNCERTAIN


def test_properties_read_as_numbers_and_text() -> None:
    found = metric(double_value=1)
    for key, value in (
        ("engUnit", {"type": pb.String, "string_value": "bar"}),
        ("engLow", {"type": pb.Int32, "int_value": 0xFFFFFFF6}),
        ("engHigh", {"type": pb.Float, "float_value": 2.5}),
    ):
        found.properties.keys.append(key)
        found.properties.values.add(**value)
    props = codec.properties(found)
    assert codec.property_text(props["engUnit"]) == "bar"
    assert codec.property_number(props["engLow"]) == -10.0
    assert codec.property_number(props["engHigh"]) == 2.5
    assert codec.property_number(props["engUnit"]) is None


def test_rebirth_command() -> None:
    body = pb.Payload.FromString(codec.rebirth(1234))
    [command] = body.metrics
    assert (body.timestamp, command.name, command.datatype) == (1234, "Node Control/Rebirth", 11)
    assert command.WhichOneof("value") == "boolean_value" and command.boolean_value


def test_bd_seq_of_births_and_deaths() -> None:
    body = pb.Payload()
    body.metrics.add(name="bdSeq", datatype=pb.Int64, long_value=3)
    assert codec.bd_seq(body) == 3
    assert codec.bd_seq(pb.Payload()) is None


def test_host_state_messages() -> None:
    assert state.encode(True, 17) == b'{"online":true,"timestamp":17}'
    assert state.decode(b'{"online": false, "timestamp": 17}') == state.HostState(
        online=False, timestamp=17
    )
    for other in (b"OFFLINE", b"[]", b'{"online": 1, "timestamp": 2}', b'{"online": true}'):
        assert state.decode(other) is None
