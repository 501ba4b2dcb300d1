"""The configuration of a Modbus TCP connector: one connection, the devices behind it, and
each device's register map.

A connector talks to one host (a PLC, or a gateway with serial devices behind it). Each
device is a Modbus unit id polled on its own period; each point maps one tag to one
value in one of the four Modbus tables. Everything that cannot work is refused here,
before a connection is made, with a message naming the field: addresses outside the
table, a ``bool`` in a register table, two points of one device sharing a register, a
tag read twice, keys that are not hazwatch keys.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hazwatch.domain.keys import EquipmentKey, TagKey

Table = Literal["holding", "input", "coil", "discrete"]
PointType = Literal["int16", "uint16", "int32", "uint32", "float32", "bool"]
Order = Literal["big", "little"]

BIT_TABLES: frozenset[str] = frozenset({"coil", "discrete"})
WIDTH: Mapping[str, int] = {
    "int16": 1,
    "uint16": 1,
    "int32": 2,
    "uint32": 2,
    "float32": 2,
    "bool": 1,
}
"""Registers (or bits, for ``bool``) a value of each type occupies."""

MAX_ADDRESS = 65535
MAX_REGISTERS_PER_READ = 125  # Modbus application protocol: read (input) registers
MAX_BITS_PER_READ = 2000  # Modbus application protocol: read coils / discrete inputs


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PointConfig(_Strict):
    """One tag read from one place of a device."""

    tag: TagKey = Field(description="The tag this value is a reading of.")
    table: Table = Field(
        description="The Modbus table: holding or input registers, coils or discrete inputs."
    )
    address: int = Field(
        ge=0,
        le=MAX_ADDRESS,
        description="0-based address in the table (holding register 40001 is address 0).",
    )
    type: PointType = Field(
        default="uint16",
        description=(
            "How the registers encode the value; bool for coils and discrete inputs (the "
            "default there), a 16- or 32-bit type for registers (uint16 by default)."
        ),
    )
    byte_order: Order = Field(
        default="big",
        description="Byte order inside each 16-bit register (big is the Modbus standard).",
    )
    word_order: Order = Field(
        default="big",
        description=(
            "For 32-bit types: big when the first register holds the high word, little "
            "when it holds the low word."
        ),
    )
    scale: float = Field(default=1.0, description="value = raw × scale + offset.")
    offset: float = Field(default=0.0, description="value = raw × scale + offset.")

    @model_validator(mode="before")
    @classmethod
    def _bool_by_default_for_bits(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and data.get("table") in BIT_TABLES and "type" not in data:
            return {**data, "type": "bool"}
        return data

    @field_validator("scale", "offset")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        bits = self.table in BIT_TABLES
        if bits and self.type != "bool":
            raise ValueError(f"type: a {self.table} holds one bit; use bool, not {self.type}")
        if not bits and self.type == "bool":
            raise ValueError(
                f"type: bool is only for coils and discrete inputs, not {self.table} registers"
            )
        if self.width == 1 and self.word_order == "little":
            raise ValueError(f"word_order: {self.type} is one register; word order is for 32-bit")
        if bits and self.byte_order == "little":
            raise ValueError("byte_order: a bit has no byte order")
        if self.end > MAX_ADDRESS + 1:
            raise ValueError(
                f"address: a {self.type} at {self.address} would need registers up to "
                f"{self.end - 1}, past the last address {MAX_ADDRESS}"
            )
        return self

    @property
    def width(self) -> int:
        return WIDTH[self.type]

    @property
    def end(self) -> int:
        """One past the last address this point occupies."""
        return self.address + self.width


class DeviceConfig(_Strict):
    """One Modbus unit behind the connection and the points read from it."""

    unit_id: int = Field(
        ge=0, le=255, description="The Modbus unit id (slave address) of the device."
    )
    device: EquipmentKey = Field(
        description="The equipment key health reports of this device are filed under."
    )
    period_s: float = Field(
        default=1.0, gt=0, le=86_400, description="Seconds between two polls of this device."
    )
    points: list[PointConfig] = Field(min_length=1, description="What to read from the device.")

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        order = sorted(range(len(self.points)), key=lambda i: _place(self.points[i]))
        for before, after in itertools.pairwise(order):
            a, b = self.points[before], self.points[after]
            if a.table == b.table and b.address < a.end:
                raise ValueError(
                    f"points[{after}] ({b.tag}) overlaps points[{before}] ({a.tag}): both "
                    f"use {a.table} address {b.address}"
                )
        return self


class ModbusConfig(_Strict):
    """A Modbus TCP connector: one TCP connection to ``host``, devices polled behind it."""

    kind: Literal["modbus"] = Field(description="The connector family.")
    name: str = Field(min_length=1, description="The connector's name, unique in a process.")
    host: str = Field(min_length=1, description="Host name or address of the PLC or gateway.")
    port: int = Field(default=502, ge=1, le=65535, description="TCP port.")
    timeout_s: float = Field(
        default=3.0, gt=0, le=60, description="Seconds to wait for a connection or an answer."
    )
    offline_after: int = Field(
        default=3,
        ge=1,
        description=(
            "Consecutive failed polls after which a device is reported degraded (some "
            "reads fail) or offline (all reads fail). Its points are bad from the first."
        ),
    )
    max_registers_per_read: int = Field(
        default=MAX_REGISTERS_PER_READ,
        ge=1,
        le=MAX_REGISTERS_PER_READ,
        description="Largest register count of one read request (devices may allow fewer).",
    )
    max_bits_per_read: int = Field(
        default=MAX_BITS_PER_READ,
        ge=1,
        le=MAX_BITS_PER_READ,
        description="Largest coil or discrete input count of one read request.",
    )
    max_gap: int = Field(
        default=0,
        ge=0,
        le=MAX_REGISTERS_PER_READ,
        description=(
            "Unmapped addresses that may be read in between to merge two ranges into one "
            "request (0: only contiguous points share a request)."
        ),
    )
    devices: list[DeviceConfig] = Field(
        min_length=1, description="The units polled through this connection."
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        units: dict[int, int] = {}
        keys: dict[str, int] = {}
        tags: dict[str, tuple[int, int]] = {}
        for d, device in enumerate(self.devices):
            if device.unit_id in units:
                raise ValueError(
                    f"devices[{d}].unit_id: unit {device.unit_id} is already "
                    f"devices[{units[device.unit_id]}]"
                )
            units[device.unit_id] = d
            if device.device in keys:
                first = keys[device.device]
                raise ValueError(
                    f"devices[{d}].device: {device.device} is already devices[{first}]"
                )
            keys[device.device] = d
            for p, point in enumerate(device.points):
                if point.tag in tags:
                    first_d, first_p = tags[point.tag]
                    raise ValueError(
                        f"devices[{d}].points[{p}].tag: {point.tag} is already read by "
                        f"devices[{first_d}].points[{first_p}]"
                    )
                tags[point.tag] = (d, p)
                if point.table not in BIT_TABLES and point.width > self.max_registers_per_read:
                    raise ValueError(
                        f"max_registers_per_read: {self.max_registers_per_read} cannot hold the "
                        f"{point.type} of devices[{d}].points[{p}]"
                    )
        return self


def _place(point: PointConfig) -> tuple[str, int]:
    return point.table, point.address
