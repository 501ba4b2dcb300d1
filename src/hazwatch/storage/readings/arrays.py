"""What the reading store answers: columns of raw readings and of one-minute rollups."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazwatch.domain.batch import Qualities, Stamps, Values
from hazwatch.storage.readings.rollup import Counts, MinuteRows


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryArrays:
    """Raw readings of one tag, ascending by ``ts`` (epoch ms); ``value`` is NaN where none
    was recorded; ``quality`` holds ``Quality`` codes; ``server_ts`` the OPC UA server
    timestamp, ``NO_STAMP`` where there was none."""

    ts: Stamps
    value: Values
    quality: Qualities
    server_ts: Stamps

    def __len__(self) -> int:
        return len(self.ts)

    @classmethod
    def empty(cls) -> HistoryArrays:
        return cls(
            ts=np.empty(0, dtype=np.int64),
            value=np.empty(0, dtype=np.float64),
            quality=np.empty(0, dtype=np.uint8),
            server_ts=np.empty(0, dtype=np.int64),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RollupArrays:
    """One-minute rollups of one tag, ascending by ``bucket`` (the minute's start, epoch ms).

    ``avg`` = sum / count; ``last`` is the value of the newest reading in the minute;
    ``count`` the readings of good or uncertain quality it summarises.
    """

    bucket: Stamps
    min: Values
    max: Values
    avg: Values
    last: Values
    count: Counts

    def __len__(self) -> int:
        return len(self.bucket)

    @classmethod
    def of(cls, rows: MinuteRows) -> RollupArrays:
        """The arrays of ``rows`` (one tag, sorted by bucket, every count above zero)."""
        return cls(
            bucket=rows.bucket,
            min=rows.min,
            max=rows.max,
            avg=rows.sum / rows.count,
            last=rows.last,
            count=rows.count,
        )
