"""Decoding of OPC UA data values into reading columns. Pure: values in, columns out.

Rules:

* **Quality** comes from the severity bits (the top two) of the value's StatusCode: Good →
  GOOD, Uncertain → UNCERTAIN, Bad (and the reserved fourth severity) → BAD.
* **Value**: numbers become floats, booleans 0/1. A value that is none of these (a string,
  a date, an array, a structure…) is refused with a reason. A Bad value without a value (as
  OPC UA servers send them) is kept as a BAD reading whose value is NaN, which
  ``hold_last_good`` replaces by the item's last good value; an empty Good or Uncertain
  value is refused.
* **Timestamp**: the source timestamp; where the server sent none, the server timestamp;
  where neither, the time of receipt, and a GOOD quality becomes UNCERTAIN. The server
  timestamps are returned as a column of their own (``NO_STAMP`` where there is none).

One publish cycle of a subscription decodes into one ``Cycle`` of aligned numpy columns;
``item`` says which monitored item (by client handle) each reading belongs to.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from asyncua import ua

from hazwatch.domain.batch import NO_STAMP, Qualities, Quality, Stamps, Values
from hazwatch.domain.clock import Millis

Items = npt.NDArray[np.int64]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

_SEVERITY_SHIFT = 30
_NUMERIC = frozenset(
    {
        ua.VariantType.SByte,
        ua.VariantType.Byte,
        ua.VariantType.Int16,
        ua.VariantType.UInt16,
        ua.VariantType.Int32,
        ua.VariantType.UInt32,
        ua.VariantType.Int64,
        ua.VariantType.UInt64,
        ua.VariantType.Float,
        ua.VariantType.Double,
    }
)


def quality_of(status: int) -> Quality:
    """The quality of a StatusCode value, by its severity bits."""
    severity = (status >> _SEVERITY_SHIFT) & 0b11
    if severity == 0:
        return Quality.GOOD
    if severity == 1:
        return Quality.UNCERTAIN
    return Quality.BAD


def qualities_of(statuses: npt.NDArray[np.uint32]) -> Qualities:
    """``quality_of`` for a column of StatusCode values."""
    severity = (statuses >> _SEVERITY_SHIFT).astype(np.uint8)
    return np.minimum(severity, np.uint8(Quality.BAD))


def status_name(status: int) -> str:
    """The symbolic name of a StatusCode (``BadNodeIdUnknown``), info bits ignored."""
    name, _ = ua.status_codes.get_name_and_doc(status & 0xFFFF0000)
    return name


class NotNumberError(ValueError):
    """A variant that cannot be a reading's value; the message says why."""


def number_of(variant: ua.Variant | None) -> float:
    """The float of a numeric or boolean variant; raises ``NotNumberError`` for anything else
    (an empty variant gives NaN: the caller decides whether that may be a reading)."""
    if variant is None or variant.VariantType == ua.VariantType.Null or variant.Value is None:
        return math.nan
    kind = variant.VariantType
    if variant.is_array or variant.Dimensions or isinstance(variant.Value, list | tuple):
        raise NotNumberError(f"an array of {_type_name(kind)} is not a reading")
    if kind == ua.VariantType.Boolean:
        return 1.0 if variant.Value else 0.0
    if kind in _NUMERIC:
        return float(variant.Value)
    raise NotNumberError(f"a value of type {_type_name(kind)} is not a number")


def millis_of(moment: datetime | None) -> Millis:
    """Epoch ms of an OPC UA DateTime (naive means UTC); ``NO_STAMP`` for none or for the
    OPC UA 'no time' (a moment at or before the Unix epoch)."""
    if moment is None:
        return NO_STAMP
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ms = (moment - _EPOCH) // _MS  # exact: a float of seconds would round some ms down
    return ms if ms > NO_STAMP else NO_STAMP


@dataclass(frozen=True, slots=True, kw_only=True)
class Refusal:
    """A value that cannot be a reading: which item, why, and what came."""

    item: int
    detail: str
    ts: Millis
    excerpt: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Cycle:
    """The readings of one publish cycle, as aligned columns, and what was refused."""

    item: Items
    ts: Stamps
    server_ts: Stamps
    value: Values
    quality: Qualities
    refused: tuple[Refusal, ...] = ()

    def __len__(self) -> int:
        return len(self.item)

    def max_skew(self) -> Millis:
        """The largest |source − server| time of the readings that carry both (0 if none)."""
        both = (self.server_ts != NO_STAMP) & (self.ts != self.server_ts)
        if not both.any():
            return 0
        return int(np.abs(self.ts[both] - self.server_ts[both]).max())


def decode_cycle(notifications: Sequence[ua.MonitoredItemNotification], now: Millis) -> Cycle:
    """Decode the data changes of one publish cycle, received at ``now``."""
    n = len(notifications)
    item = np.empty(n, dtype=np.int64)
    source = np.empty(n, dtype=np.int64)
    server = np.empty(n, dtype=np.int64)
    value = np.empty(n, dtype=np.float64)
    status = np.empty(n, dtype=np.uint32)
    keep = np.ones(n, dtype=np.bool_)
    refused: list[Refusal] = []
    for i, note in enumerate(notifications):
        data = note.Value
        item[i] = note.ClientHandle
        code = data.StatusCode.value if data.StatusCode is not None else 0
        status[i] = code
        source[i] = millis_of(data.SourceTimestamp)
        server[i] = millis_of(data.ServerTimestamp)
        try:
            value[i] = number_of(data.Value)
        except NotNumberError as exc:
            keep[i] = False
            refused.append(
                Refusal(
                    item=note.ClientHandle,
                    detail=str(exc),
                    ts=int(source[i] or server[i] or now),
                    excerpt=_excerpt(data.Value),
                )
            )
            continue
        if math.isnan(value[i]) and quality_of(code) is not Quality.BAD:
            keep[i] = False
            refused.append(
                Refusal(
                    item=note.ClientHandle,
                    detail=f"no value with status {status_name(code)}",
                    ts=int(source[i] or server[i] or now),
                    excerpt="",
                )
            )
    quality = qualities_of(status)
    ts = np.where(source != NO_STAMP, source, server)
    unstamped = ts == NO_STAMP
    ts[unstamped] = now
    quality[unstamped & (quality == Quality.GOOD)] = Quality.UNCERTAIN
    return Cycle(
        item=item[keep],
        ts=ts[keep],
        server_ts=server[keep],
        value=value[keep],
        quality=quality[keep],
        refused=tuple(refused),
    )


def hold_last_good(cycle: Cycle, last: Values) -> Values:
    """The cycle's values, each BAD reading without a value (NaN) given the last good or
    uncertain value of its item (``last``, by item; NaN where there was none yet), so that
    it never looks like a new measurement. ``last`` is updated with the cycle's values."""
    value = cycle.value.copy()
    for i, (item, quality) in enumerate(
        zip(cycle.item.tolist(), cycle.quality.tolist(), strict=True)
    ):
        if not 0 <= item < len(last):
            continue
        if quality == Quality.BAD:
            if math.isnan(value[i]):
                value[i] = last[item]
        elif not math.isnan(value[i]):
            last[item] = value[i]
    return value


def _type_name(kind: Any) -> str:
    return str(getattr(kind, "name", kind))


def _excerpt(variant: ua.Variant | None, limit: int = 200) -> str:
    text = repr(variant.Value if variant is not None else None)
    return text if len(text) <= limit else text[: limit - 1] + "…"
