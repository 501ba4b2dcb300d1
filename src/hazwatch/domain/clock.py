"""Time as it travels through hazwatch.

Inside the platform an instant is an ``int`` of milliseconds since the Unix epoch, UTC
(``Millis``): one representation from the hot path (numpy ``int64`` columns) through the
pure logic to storage (``BIGINT``). Conversions to aware ``datetime`` happen only at the
edges (API, CLI, files).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

Millis = int

MINUTE_MS: Millis = 60_000
HOUR_MS: Millis = 3_600_000
DAY_MS: Millis = 86_400_000


def to_millis(moment: datetime) -> Millis:
    """Milliseconds since the epoch of an aware datetime (naive datetimes are refused)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: hazwatch only handles timezone-aware times")
    return int(moment.timestamp() * 1000)


MAX_MILLIS: Millis = 253_402_300_799_999
"""The last millisecond of the year 9999."""


def parse_millis(value: object) -> Millis | None:
    """Epoch milliseconds of a time as payloads write it — an integer or a finite number of
    milliseconds, the same as a string of digits, or ISO 8601 with a zone — or None when it
    is none of these, or lies outside 0 … ``MAX_MILLIS``."""
    stamp: int
    if type(value) is int:
        stamp = value
    elif type(value) is float and math.isfinite(value):
        stamp = int(value)
    elif type(value) is str and value:
        try:
            stamp = int(value) if value.isdigit() else to_millis(datetime.fromisoformat(value))
        except ValueError:
            return None
    else:
        return None
    return stamp if 0 <= stamp <= MAX_MILLIS else None


def from_millis(ms: Millis) -> datetime:
    """The aware UTC datetime of an epoch-millisecond instant."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso(ms: Millis) -> str:
    """ISO 8601 text of an instant, UTC, millisecond precision."""
    return from_millis(ms).isoformat(timespec="milliseconds").replace("+00:00", "Z")
