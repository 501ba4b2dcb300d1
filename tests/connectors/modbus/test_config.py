"""Configuration: what a register map may say, and the errors that name the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hazwatch.connectors.modbus import ModbusConfig
from hazwatch.connectors.registry import parse_connector_config

DEVICE = "lpg.main.sphere-farm.plc-1"


def point(**fields: Any) -> dict[str, Any]:
    return {"tag": "lpg.main.sphere-farm.tk-201.level", "table": "holding", "address": 0} | fields


def config(*points: dict[str, Any], **fields: Any) -> dict[str, Any]:
    device = {"unit_id": 1, "device": DEVICE, "points": list(points) or [point()]}
    return {"kind": "modbus", "name": "plc", "host": "127.0.0.1", "devices": [device]} | fields


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        ModbusConfig.model_validate(data)
    return str(caught.value)


def test_defaults() -> None:
    parsed = ModbusConfig.model_validate(config())
    assert parsed.port == 502
    assert parsed.max_registers_per_read == 125
    assert parsed.max_gap == 0
    p = parsed.devices[0].points[0]
    assert (p.type, p.byte_order, p.word_order, p.scale, p.offset) == ("uint16", "big", "big", 1, 0)


def test_bits_default_to_bool() -> None:
    parsed = ModbusConfig.model_validate(config(point(table="coil")))
    assert parsed.devices[0].points[0].type == "bool"


def test_found_by_kind_in_the_registry() -> None:
    assert isinstance(parse_connector_config(config()), ModbusConfig)


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (config(point(address=65536)), "address", "less than or equal to 65535"),
        (config(point(address=65535, type="float32")), "address", "past the last address"),
        (config(point(type="bool")), "type", "only for coils"),
        (config(point(table="coil", type="int16")), "type", "use bool"),
        (config(point(table="input", type="int16", word_order="little")), "word_order", "32-bit"),
        (config(point(table="discrete", byte_order="little")), "byte_order", "no byte order"),
        (config(point(table="tank")), "table", "holding"),
        (config(point(type="float64")), "type", "float32"),
        (config(point(scale=float("nan"))), "scale", "finite"),
        (config(point(tag="lpg.main.sphere-farm.level")), "tag", "pattern"),
        (config(point(tag="lpg.main.sphere-farm.TK-201.level")), "tag", "pattern"),
        (config(max_registers_per_read=126), "max_registers_per_read", "125"),
        (config(max_bits_per_read=2001), "max_bits_per_read", "2000"),
        (config(port=0), "port", "greater than or equal to 1"),
        (config(devices=[]), "devices", "at least 1"),
        (config(surprise=1), "surprise", "Extra inputs"),
    ],
)
def test_impossible_points_are_refused_naming_the_field(
    data: dict[str, Any], field: str, words: str
) -> None:
    message = error_of(data)
    assert field in message
    assert words in message


def test_overlapping_points_of_one_device_are_refused() -> None:
    first = point(address=10, type="float32")
    second = point(tag="lpg.main.sphere-farm.tk-201.temp", address=11)
    message = error_of(config(first, second))
    assert "points[1] (lpg.main.sphere-farm.tk-201.temp) overlaps points[0]" in message
    assert "holding address 11" in message


def test_same_address_in_another_table_is_no_overlap() -> None:
    first = point(address=10, type="float32")
    second = point(tag="lpg.main.sphere-farm.tk-201.temp", table="input", address=11)
    ModbusConfig.model_validate(config(first, second))


def test_a_tag_read_twice_is_refused() -> None:
    second = point(address=5)
    message = error_of(config(point(), second))
    assert "devices[0].points[1].tag" in message
    assert "already read by devices[0].points[0]" in message


def test_units_and_devices_are_unique() -> None:
    data = config()
    other: dict[str, Any] = {
        "unit_id": 1,
        "device": "lpg.main.sphere-farm.plc-2",
        "points": [point(address=9)],
    }
    data["devices"].append(other)
    other["points"][0]["tag"] = "lpg.main.sphere-farm.tk-202.level"
    assert "devices[1].unit_id: unit 1 is already devices[0]" in error_of(data)
    other["unit_id"] = 2
    other["device"] = DEVICE
    assert f"devices[1].device: {DEVICE} is already devices[0]" in error_of(data)


def test_device_key_has_four_segments() -> None:
    data = config()
    data["devices"][0]["device"] = "lpg.main.plc-1"
    assert "devices.0.device" in error_of(data)


def test_a_32_bit_point_needs_two_registers_per_read() -> None:
    message = error_of(config(point(type="int32"), max_registers_per_read=1))
    assert "max_registers_per_read: 1 cannot hold the int32 of devices[0].points[0]" in message
