"""The request plan of a Modbus connector: which reads one poll of each device makes, and
where every point's registers land. Pure; made once per configuration.

Points of one device and one table are sorted by address and grouped into one read while
they are contiguous, or separated by at most ``max_gap`` unmapped addresses; a read is
cut where it would pass ``max_registers_per_read`` (``max_bits_per_read`` for coils and
discrete inputs). A 32-bit point is never split between two reads.

A poll's answers are laid end to end in one ``uint16`` buffer (``Read.base`` is where a
read's first register or bit goes, one bit per element). Points are kept in plan order
(table, then address); ``Group`` lists, per decoding kind, the points' buffer positions
with the most significant word first, so that word order is settled here, once, and
decoding is a gather and a reinterpretation per kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

import numpy as np
import numpy.typing as npt

from hazwatch.connectors.modbus.config import (
    BIT_TABLES,
    DeviceConfig,
    ModbusConfig,
    PointConfig,
    PointType,
    Table,
)

Index = npt.NDArray[np.intp]
Floats = npt.NDArray[np.float64]

TABLE_ORDER: dict[str, int] = {"coil": 0, "discrete": 1, "holding": 2, "input": 3}


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """One read request: ``count`` registers (or bits) of ``table`` from ``address``."""

    table: Table
    address: int
    count: int
    base: int
    """Where the answer goes in the poll buffer."""

    @property
    def bits(self) -> bool:
        return self.table in BIT_TABLES

    def describe(self) -> str:
        return f"{self.table} {self.address}+{self.count}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Group:
    """Points decoded alike: one type and byte order."""

    type: PointType
    swap_bytes: bool
    points: Index
    """Positions of the group's points in the device's point order, shape (k,)."""
    words: Index
    """Their buffer positions, most significant word first, shape (k, width)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DevicePlan:
    """Everything one poll of a device needs, in point order (table, then address)."""

    unit_id: int
    device: str
    period_s: float
    reads: tuple[Read, ...]
    tags: tuple[str, ...]
    read_of: Index
    """The read each point comes from, shape (n,)."""
    groups: tuple[Group, ...]
    scale: Floats
    offset: Floats
    size: int
    """Length of the poll buffer: the sum of the reads' counts."""


def plan(config: ModbusConfig) -> tuple[DevicePlan, ...]:
    """The plan of every device of ``config``, in configuration order."""
    return tuple(
        plan_device(
            device,
            max_registers=config.max_registers_per_read,
            max_bits=config.max_bits_per_read,
            max_gap=config.max_gap,
        )
        for device in config.devices
    )


def plan_device(
    device: DeviceConfig, *, max_registers: int, max_bits: int, max_gap: int
) -> DevicePlan:
    """Group one device's points into reads (see the module docstring)."""
    points = sorted(device.points, key=lambda p: (TABLE_ORDER[p.table], p.address))
    reads: list[Read] = []
    read_of: list[int] = []
    base = 0
    for table, same_table in groupby(points, key=lambda p: p.table):
        limit = max_bits if table in BIT_TABLES else max_registers
        start = end = -1
        for point in same_table:
            opens = start < 0 or point.address - end > max_gap or point.end - start > limit
            if opens:
                if start >= 0:
                    reads.append(Read(table=table, address=start, count=end - start, base=base))
                    base += end - start
                start = point.address
            end = max(end, point.end)
            read_of.append(len(reads))
        reads.append(Read(table=table, address=start, count=end - start, base=base))
        base += end - start
    return DevicePlan(
        unit_id=device.unit_id,
        device=device.device,
        period_s=device.period_s,
        reads=tuple(reads),
        tags=tuple(p.tag for p in points),
        read_of=np.asarray(read_of, dtype=np.intp),
        groups=_groups(points, reads, read_of),
        scale=np.asarray([p.scale for p in points], dtype=np.float64),
        offset=np.asarray([p.offset for p in points], dtype=np.float64),
        size=base,
    )


def _groups(points: list[PointConfig], reads: list[Read], read_of: list[int]) -> tuple[Group, ...]:
    kinds: dict[tuple[PointType, bool], tuple[list[int], list[list[int]]]] = {}
    for i, point in enumerate(points):
        read = reads[read_of[i]]
        first = read.base + point.address - read.address
        words = list(range(first, first + point.width))
        if point.word_order == "little":
            words.reverse()
        members, positions = kinds.setdefault((point.type, point.byte_order == "little"), ([], []))
        members.append(i)
        positions.append(words)
    return tuple(
        Group(
            type=kind,
            swap_bytes=swap,
            points=np.asarray(members, dtype=np.intp),
            words=np.asarray(positions, dtype=np.intp),
        )
        for (kind, swap), (members, positions) in kinds.items()
    )
