"""The highest reading of a tag over a period, and when it was read.

The whole minutes inside ``[start, end)`` are read from the one-minute rollups (their
``max``: one row a minute however often the tag reports); the part of a minute at either
end of the period, where a rollup would also hold readings from outside it, from the raw
readings. The minute whose rollup holds the highest value is then read raw to tell when it
was read; where its raw readings are gone (rollups are kept longer), the answer gives the
minute's start and says it is not exact.

Readings count as the rollups count them (``rollup.counted``): good or uncertain quality
and a number, so a reading of bad quality never sets the highest value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.storage.readings.rollup import counted
from hazwatch.storage.readings.store import ReadingStore


@dataclass(frozen=True, slots=True, kw_only=True)
class Peak:
    """The highest ``value`` of a period, read at ``at`` (epoch ms); where ``exact`` is
    False, ``at`` is the start of the minute that held it (its raw readings are gone)."""

    value: float
    at: Millis
    exact: bool


def highest_reading(store: ReadingStore, tag_id: int, start: Millis, end: Millis) -> Peak | None:
    """The highest reading of ``tag_id`` with ``start ≤ ts < end`` (the earliest of equal
    ones); ``None`` when the tag has no reading that counts in the period."""
    if start >= end:
        return None
    first = -(-start // MINUTE_MS) * MINUTE_MS
    last = end - end % MINUTE_MS
    if first >= last:
        return _raw_peak(store, tag_id, start, end)
    found = [
        peak
        for peak in (
            _raw_peak(store, tag_id, start, first),
            _minute_peak(store, tag_id, first, last),
            _raw_peak(store, tag_id, last, end),
        )
        if peak is not None
    ]
    if not found:
        return None
    return max(found, key=lambda p: (p.value, -p.at))


def _raw_peak(store: ReadingStore, tag_id: int, start: Millis, end: Millis) -> Peak | None:
    """From the raw readings of ``[start, end)`` (a span of at most two minutes)."""
    if start >= end:
        return None
    # readings are unique per (tag, ts): a span of n ms holds at most n of them
    raw = store.raw(tag_id, start, end, end - start)
    usable = counted(raw.value, raw.quality)
    if not usable.any():
        return None
    index = int(np.argmax(np.where(usable, raw.value, -np.inf)))
    return Peak(value=float(raw.value[index]), at=int(raw.ts[index]), exact=True)


def _minute_peak(store: ReadingStore, tag_id: int, first: Millis, last: Millis) -> Peak | None:
    """From the rollups of the whole minutes ``[first, last)``, timed by the raw readings
    of the minute that holds the highest value."""
    rolled = store.rollups(tag_id, first, last)
    inside = (rolled.bucket >= first) & (rolled.bucket < last)
    if not inside.any():
        return None
    highest = float(rolled.max[inside].max())
    minute = int(rolled.bucket[inside][np.argmax(rolled.max[inside] == highest)])
    timed = _raw_peak(store, tag_id, minute, minute + MINUTE_MS)
    if timed is not None and timed.value == highest:
        return timed
    return Peak(value=highest, at=minute, exact=False)
