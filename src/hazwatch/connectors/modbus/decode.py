"""Decoding of a poll's registers into readings. Pure: numpy in, numpy out.

``decode`` turns the poll buffer (registers as the client received them, one bit per
element for coils and discrete inputs) into engineering values, one per point of the
plan: per group of points decoded alike it gathers the words (most significant first,
as the plan arranged them), swaps the bytes of each word where the device stores them
little-endian, reinterprets the big-endian bytes as the point type, and finally applies
``value = raw × scale + offset`` to all points at once.

``readings`` adds quality: a point is good when its read was answered and its value is
finite (a float32 register pair may hold NaN or infinity), bad otherwise; a bad point
carries the last good value of that point (NaN if none yet), since a bad reading's value
means nothing and must not look like a new measurement.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from hazwatch.connectors.modbus.plan import DevicePlan
from hazwatch.domain.batch import Qualities, Quality, Values

Words = npt.NDArray[np.uint16]
Flags = npt.NDArray[np.bool_]

BIG_ENDIAN: Final[dict[str, np.dtype[np.generic]]] = {
    "int16": np.dtype(">i2"),
    "uint16": np.dtype(">u2"),
    "int32": np.dtype(">i4"),
    "uint32": np.dtype(">u4"),
    "float32": np.dtype(">f4"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Readings:
    """One poll's values and qualities, in the plan's point order."""

    value: Values
    quality: Qualities


def decode(plan: DevicePlan, words: Words) -> Values:
    """The engineering value of every point of ``plan`` from the poll buffer ``words``."""
    raw = np.zeros(len(plan.tags), dtype=np.float64)
    for group in plan.groups:
        gathered = words[group.words]  # (k, width), most significant word first
        if group.type == "bool":
            raw[group.points] = gathered[:, 0] != 0
            continue
        if group.swap_bytes:
            gathered = gathered.byteswap()
        big = np.ascontiguousarray(gathered, dtype=">u2")
        raw[group.points] = big.view(BIG_ENDIAN[group.type])[:, 0]
    value: Values = raw * plan.scale + plan.offset
    return value


def readings(plan: DevicePlan, words: Words, answered: Flags, last: Values) -> Readings:
    """Values and qualities of one poll. ``answered`` says, per read of the plan, whether
    its answer is in ``words``; ``last`` holds each point's last good value."""
    with np.errstate(invalid="ignore", over="ignore"):
        value = decode(plan, words)
    good = answered[plan.read_of] & np.isfinite(value)
    quality = np.where(good, np.uint8(Quality.GOOD), np.uint8(Quality.BAD)).astype(np.uint8)
    return Readings(value=np.where(good, value, last), quality=quality)
