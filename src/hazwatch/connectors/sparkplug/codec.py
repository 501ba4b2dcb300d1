"""Sparkplug B payloads: decoding, metric values and properties, the rebirth command. Pure.

Values: the integer datatypes travel as unsigned fields (``int_value`` for 8 to 32 bits,
``long_value`` for 64); signed ones are two's complement of their width, which is also
right for the edge nodes that sign-extend to 32 bits. Booleans read as 0 and 1. Float,
Double and the integers become float64 (integers beyond 2**53 lose their last digits).

Properties read from a birth: ``engUnit`` (text) → the tag's unit, ``engLow`` and
``engHigh`` (numbers) → its range. From any message, the Sparkplug ``Quality`` property
(192 good, 0 bad, anything else — 500 is stale — uncertain) sets the reading's quality.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping

from google.protobuf.message import DecodeError

from hazwatch.connectors.sparkplug import sparkplug_b_pb2 as pb
from hazwatch.domain.batch import Quality
from hazwatch.domain.clock import Millis

Payload = pb.Payload
Metric = pb.Payload.Metric
PropertyValue = pb.Payload.PropertyValue

EXCERPT_BYTES = 1500  # 2000 characters once in base64
REBIRTH = "Node Control/Rebirth"
BD_SEQ = "bdSeq"

BOOLEAN = pb.Boolean
NUMERIC: frozenset[int] = frozenset(
    (
        pb.Int8,
        pb.Int16,
        pb.Int32,
        pb.Int64,
        pb.UInt8,
        pb.UInt16,
        pb.UInt32,
        pb.UInt64,
        pb.Float,
        pb.Double,
        pb.Boolean,
    )
)
"""The datatypes read as tags; every other datatype is skipped."""

_SIGNED_BITS: Mapping[int, int] = {pb.Int8: 8, pb.Int16: 16, pb.Int32: 32, pb.Int64: 64}
_QUALITY_GOOD = 192
_QUALITY_BAD = 0


class PayloadError(ValueError):
    """Bytes that are not a Sparkplug B payload."""


def decode(data: bytes) -> Payload:
    payload = Payload()
    try:
        payload.ParseFromString(data)
    except DecodeError as exc:
        raise PayloadError(f"not a Sparkplug B payload ({len(data)} bytes): {exc}") from None
    return payload


def excerpt(data: bytes) -> str:
    """The start of undecodable bytes, in base64, for a dead letter."""
    more = "…" if len(data) > EXCERPT_BYTES else ""
    return "base64:" + base64.b64encode(data[:EXCERPT_BYTES]).decode("ascii") + more


def datatype_name(code: int) -> str:
    try:
        return pb.DataType.Name(code)
    except ValueError:
        return f"datatype {code}"


def value(metric: Metric, datatype: int) -> float:
    """The metric's value as a number, read as ``datatype``; ``ValueError`` if it has none."""
    which = metric.WhichOneof("value")
    if which == "double_value":
        return metric.double_value
    if which == "float_value":
        return float(metric.float_value)
    if which == "boolean_value":
        return 1.0 if metric.boolean_value else 0.0
    if which in ("int_value", "long_value"):
        raw = metric.int_value if which == "int_value" else metric.long_value
        return float(_signed(raw, datatype))
    if which is None:
        raise ValueError(f"no value for a {datatype_name(datatype)} metric")
    raise ValueError(f"{which} for a {datatype_name(datatype)} metric")


def properties(metric: Metric) -> dict[str, PropertyValue]:
    if not metric.HasField("properties"):
        return {}
    found = metric.properties
    return dict(zip(found.keys, found.values, strict=False))


def property_number(prop: PropertyValue | None) -> float | None:
    if prop is None or prop.is_null:
        return None
    which = prop.WhichOneof("value")
    number: float
    if which == "double_value":
        number = prop.double_value
    elif which == "float_value":
        number = prop.float_value
    elif which == "int_value":
        number = _signed(prop.int_value, prop.type)
    elif which == "long_value":
        number = _signed(prop.long_value, prop.type)
    else:
        return None
    return float(number) if math.isfinite(number) else None


def property_text(prop: PropertyValue | None) -> str | None:
    if prop is None or prop.is_null or prop.WhichOneof("value") != "string_value":
        return None
    return prop.string_value


def quality(metric: Metric) -> Quality:
    """The reading's quality: bad when null, else as its ``Quality`` property says."""
    if metric.is_null:
        return Quality.BAD
    if not metric.HasField("properties"):
        return Quality.GOOD
    code = property_number(properties(metric).get("Quality"))
    if code is None or code == _QUALITY_GOOD:
        return Quality.GOOD
    return Quality.BAD if code == _QUALITY_BAD else Quality.UNCERTAIN


def bd_seq(payload: Payload) -> int | None:
    """The birth/death sequence number an NBIRTH or NDEATH carries, if any."""
    for metric in payload.metrics:
        if metric.name == BD_SEQ:
            which = metric.WhichOneof("value")
            if which == "long_value":
                return metric.long_value
            if which == "int_value":
                return metric.int_value
            return None
    return None


def rebirth(now: Millis) -> bytes:
    """The NCMD payload asking an edge node to publish its births again."""
    payload = Payload(timestamp=now)
    payload.metrics.add(name=REBIRTH, timestamp=now, datatype=BOOLEAN, boolean_value=True)
    return payload.SerializeToString()


def _signed(raw: int, datatype: int) -> int:
    bits = _SIGNED_BITS.get(datatype)
    if bits is None:
        return raw
    raw &= (1 << bits) - 1
    return raw - (1 << bits) if raw >= 1 << (bits - 1) else raw
