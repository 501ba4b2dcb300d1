"""Decoding: every type, byte order and word order against values encoded with struct."""

from __future__ import annotations

import itertools
import math
import struct
from typing import Any

import numpy as np
import pytest

from hazwatch.connectors.modbus.config import DeviceConfig
from hazwatch.connectors.modbus.decode import decode, readings
from hazwatch.connectors.modbus.plan import DevicePlan, plan_device
from hazwatch.domain.batch import Quality

FORMAT = {"int16": ">h", "uint16": ">H", "int32": ">i", "uint32": ">I", "float32": ">f"}
SAMPLES: dict[str, list[float]] = {
    "int16": [-32768, -1, 0, 1, 12345, 32767],
    "uint16": [0, 1, 0x1234, 0x8000, 65535],
    "int32": [-(2**31), -70000, -1, 0, 0x12345678, 2**31 - 1],
    "uint32": [0, 1, 65536, 0x89ABCDEF, 2**32 - 1],
    "float32": [-1.5e-3, 0.0, 1.0, 61.25, 3.4e38, -273.15],
}


def encode(value: float, type_: str, byte_order: str, word_order: str) -> list[int]:
    """Registers as a device stores them: the value's big-endian bytes cut in words,
    the words reversed for little word order, each word's bytes reversed for little byte
    order. (ABCD is big/big, CDAB big bytes/little words, BADC little/big, DCBA little/little.)"""
    raw = struct.pack(FORMAT[type_], value)
    words = [raw[i : i + 2] for i in range(0, len(raw), 2)]
    if word_order == "little":
        words = words[::-1]
    if byte_order == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


def device_plan(points: list[dict[str, Any]]) -> DevicePlan:
    config = DeviceConfig.model_validate({"unit_id": 1, "device": "e.s.i.d", "points": points})
    return plan_device(config, max_registers=125, max_bits=2000, max_gap=0)


def expected(value: float, type_: str) -> float:
    if type_ == "float32":
        return float(struct.unpack(">f", struct.pack(">f", value))[0])
    return float(value)


def width(type_: str) -> int:
    return len(struct.pack(FORMAT[type_], 0)) // 2


CASES = [
    (type_, byte_order, word_order)
    for type_ in FORMAT
    for byte_order, word_order in itertools.product(["big", "little"], repeat=2)
    if width(type_) == 2 or word_order == "big"  # word order is for 32-bit types
]


@pytest.mark.parametrize(("type_", "byte_order", "word_order"), CASES)
def test_every_type_and_order(type_: str, byte_order: str, word_order: str) -> None:
    values = SAMPLES[type_]
    points = [
        {
            "tag": f"e.s.i.d.p{i}",
            "table": "holding",
            "address": i * width(type_),
            "type": type_,
            "byte_order": byte_order,
            "word_order": word_order,
        }
        for i in range(len(values))
    ]
    words = [w for v in values for w in encode(v, type_, byte_order, word_order)]
    decoded = decode(device_plan(points), np.asarray(words, dtype=np.uint16))
    assert decoded.tolist() == [expected(v, type_) for v in values]


def test_mixed_kinds_in_one_read_land_on_their_points() -> None:
    points = [
        {"tag": "e.s.i.d.a", "table": "input", "address": 0, "type": "float32"},
        {"tag": "e.s.i.d.b", "table": "input", "address": 2, "type": "int16"},
        {
            "tag": "e.s.i.d.c",
            "table": "input",
            "address": 3,
            "type": "uint32",
            "word_order": "little",
            "byte_order": "little",
        },
        {"tag": "e.s.i.d.d", "table": "coil", "address": 4},
        {"tag": "e.s.i.d.e", "table": "coil", "address": 5},
    ]
    p = device_plan(points)
    # Plan order: coils first (d, e), then input registers (a, b, c).
    words = [0, 1, *encode(61.25, "float32", "big", "big"), *encode(-7, "int16", "big", "big")]
    words += encode(0x89ABCDEF, "uint32", "little", "little")
    decoded = decode(p, np.asarray(words, dtype=np.uint16))
    assert dict(zip(p.tags, decoded.tolist(), strict=True)) == {
        "e.s.i.d.d": 0.0,
        "e.s.i.d.e": 1.0,
        "e.s.i.d.a": 61.25,
        "e.s.i.d.b": -7.0,
        "e.s.i.d.c": float(0x89ABCDEF),
    }


def test_scale_and_offset() -> None:
    points = [
        {"tag": "e.s.i.d.t", "table": "input", "address": 0, "type": "int16", "scale": 0.1},
        {
            "tag": "e.s.i.d.p",
            "table": "input",
            "address": 1,
            "type": "uint16",
            "scale": 0.01,
            "offset": -40,
        },
    ]
    words = np.asarray([encode(-253, "int16", "big", "big")[0], 6525], dtype=np.uint16)
    decoded = decode(device_plan(points), words)
    assert decoded.tolist() == pytest.approx([-25.3, 25.25])


def test_unanswered_reads_and_non_finite_values_are_bad_with_the_last_good_value() -> None:
    points = [
        {"tag": "e.s.i.d.a", "table": "holding", "address": 0, "type": "float32"},
        {"tag": "e.s.i.d.b", "table": "holding", "address": 10},
        {"tag": "e.s.i.d.c", "table": "input", "address": 0},
    ]
    p = device_plan(points)
    assert len(p.reads) == 3
    words = [*encode(math.nan, "float32", "big", "big"), 42, 43]
    last = np.asarray([1.5, 2.5, math.nan])
    answered = np.asarray([True, True, False])
    result = readings(p, np.asarray(words, dtype=np.uint16), answered, last)
    assert result.quality.tolist() == [Quality.BAD, Quality.GOOD, Quality.BAD]
    assert result.value[:2].tolist() == [1.5, 42.0]
    assert math.isnan(result.value[2])  # nothing good was read yet
    assert result.value.dtype == np.float64
    assert result.quality.dtype == np.uint8


def test_infinite_float_is_bad() -> None:
    p = device_plan([{"tag": "e.s.i.d.a", "table": "holding", "address": 0, "type": "float32"}])
    words = np.asarray(encode(math.inf, "float32", "big", "big"), dtype=np.uint16)
    result = readings(p, words, np.asarray([True]), np.asarray([3.0]))
    assert result.quality.tolist() == [Quality.BAD]
    assert result.value.tolist() == [3.0]
