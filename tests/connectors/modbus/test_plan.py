"""Request planning: which reads a poll makes, and where each point's registers land."""

from __future__ import annotations

from typing import Any

from hazwatch.connectors.modbus import ModbusConfig
from hazwatch.connectors.modbus.config import DeviceConfig
from hazwatch.connectors.modbus.plan import DevicePlan, plan, plan_device


def device(*points: tuple[str, int, str], **fields: Any) -> DeviceConfig:
    """Points as (table, address, type), tags numbered in the order given."""
    return DeviceConfig.model_validate(
        {
            "unit_id": 1,
            "device": "e.s.i.plc",
            "points": [
                {"tag": f"e.s.i.plc.t{i}", "table": t, "address": a, "type": ty} | fields
                for i, (t, a, ty) in enumerate(points)
            ],
        }
    )


def reads(p: DevicePlan) -> list[tuple[str, int, int]]:
    return [(r.table, r.address, r.count) for r in p.reads]


def planned(dev: DeviceConfig, *, max_registers: int = 125, max_gap: int = 0) -> DevicePlan:
    return plan_device(dev, max_registers=max_registers, max_bits=2000, max_gap=max_gap)


def test_contiguous_points_make_one_read() -> None:
    dev = device(("holding", 3, "uint32"), ("holding", 0, "float32"), ("holding", 2, "int16"))
    p = planned(dev)
    assert reads(p) == [("holding", 0, 5)]
    assert p.tags == ("e.s.i.plc.t1", "e.s.i.plc.t2", "e.s.i.plc.t0")  # by address
    assert p.read_of.tolist() == [0, 0, 0]
    assert p.size == 5


def test_a_gap_splits_unless_max_gap_covers_it() -> None:
    dev = device(("holding", 0, "float32"), ("holding", 4, "int16"))  # addresses 2, 3 unmapped
    assert reads(planned(dev, max_gap=1)) == [("holding", 0, 2), ("holding", 4, 1)]
    assert reads(planned(dev, max_gap=2)) == [("holding", 0, 5)]


def test_reads_are_cut_at_the_limit_without_splitting_a_value() -> None:
    sixteen = device(*[("input", a, "uint16") for a in range(10)])
    assert [r[2] for r in reads(planned(sixteen, max_registers=4))] == [4, 4, 2]
    floats = device(*[("input", a, "float32") for a in (0, 2, 4)])
    assert reads(planned(floats, max_registers=3)) == [
        ("input", 0, 2),
        ("input", 2, 2),
        ("input", 4, 2),
    ]


def test_tables_never_share_a_read() -> None:
    dev = device(
        ("input", 1, "uint16"),
        ("holding", 0, "uint16"),
        ("coil", 0, "bool"),
        ("discrete", 1, "bool"),
        ("holding", 1, "uint16"),
        ("input", 0, "int16"),
    )
    assert reads(planned(dev)) == [
        ("coil", 0, 1),
        ("discrete", 1, 1),
        ("holding", 0, 2),
        ("input", 0, 2),
    ]
    assert [r.base for r in planned(dev).reads] == [0, 1, 2, 4]


def test_bits_are_cut_at_max_bits() -> None:
    dev = device(*[("coil", a, "bool") for a in range(5)])
    p = plan_device(dev, max_registers=125, max_bits=2, max_gap=0)
    assert reads(p) == [("coil", 0, 2), ("coil", 2, 2), ("coil", 4, 1)]


def test_word_order_is_settled_in_the_plan() -> None:
    big = planned(device(("holding", 10, "int32"), ("holding", 12, "int32"), word_order="big"))
    little = planned(
        device(("holding", 10, "int32"), ("holding", 12, "int32"), word_order="little")
    )
    assert big.groups[0].words.tolist() == [[0, 1], [2, 3]]
    assert little.groups[0].words.tolist() == [[1, 0], [3, 2]]


def test_points_are_grouped_by_type_and_byte_order() -> None:
    data = {
        "unit_id": 1,
        "device": "e.s.i.plc",
        "points": [
            {"tag": "e.s.i.plc.a", "table": "holding", "address": 0, "type": "int16"},
            {"tag": "e.s.i.plc.b", "table": "holding", "address": 1, "type": "int16"},
            {
                "tag": "e.s.i.plc.c",
                "table": "holding",
                "address": 2,
                "type": "int16",
                "byte_order": "little",
            },
        ],
    }
    p = planned(DeviceConfig.model_validate(data))
    kinds = {(g.type, g.swap_bytes): g.points.tolist() for g in p.groups}
    assert kinds == {("int16", False): [0, 1], ("int16", True): [2]}


def test_one_plan_per_device_in_configuration_order() -> None:
    config = ModbusConfig.model_validate(
        {
            "kind": "modbus",
            "name": "gw",
            "host": "127.0.0.1",
            "max_gap": 3,
            "devices": [
                {
                    "unit_id": 7,
                    "device": "e.s.i.b",
                    "period_s": 5,
                    "points": [{"tag": "e.s.i.b.x", "table": "input", "address": 0}],
                },
                {
                    "unit_id": 2,
                    "device": "e.s.i.a",
                    "points": [
                        {"tag": "e.s.i.a.x", "table": "input", "address": 0},
                        {"tag": "e.s.i.a.y", "table": "input", "address": 4},
                    ],
                },
            ],
        }
    )
    plans = plan(config)
    assert [(p.unit_id, p.device, p.period_s) for p in plans] == [
        (7, "e.s.i.b", 5.0),
        (2, "e.s.i.a", 1.0),
    ]
    assert reads(plans[1]) == [("input", 0, 5)]
