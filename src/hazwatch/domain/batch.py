"""Columnar batches of readings: the unit of work of the hot path.

A ``Batch`` holds parallel numpy arrays, one element per reading. No stage creates a
Python object per reading; stages filter with boolean masks and gather/scatter by tag id.

Columns:
    tag      int32  tag id (the database id of the tag; ids index the registry arrays)
    ts       int64  source timestamp, epoch milliseconds UTC
    value    float64  engineering value in the tag's unit
    quality  uint8  ``Quality`` code
    server_ts  int64, optional  when a server between device and platform (an OPC UA
             server) stamped the reading, epoch ms; ``NO_STAMP`` where it did not. None
             for sources that have no such server.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import Millis

TagIds = npt.NDArray[np.int32]
Stamps = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]
Qualities = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


class Quality(IntEnum):
    """Reading quality, mapped from OPC UA status codes and protocol flags."""

    GOOD = 0
    UNCERTAIN = 1
    BAD = 2


NO_STAMP: Millis = 0
"""A missing ``server_ts`` (the epoch itself is never a reading's time)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Batch:
    """Readings from one source, received together at ``received``."""

    tag: TagIds
    ts: Stamps
    value: Values
    quality: Qualities
    received: Millis
    server_ts: Stamps | None = None

    def __post_init__(self) -> None:
        n = len(self.tag)
        if not (len(self.ts) == len(self.value) == len(self.quality) == n):
            raise ValueError("batch columns differ in length")
        if self.server_ts is not None and len(self.server_ts) != n:
            raise ValueError("batch columns differ in length")

    def __len__(self) -> int:
        return len(self.tag)

    @classmethod
    def of(
        cls,
        *,
        tag: npt.ArrayLike,
        ts: npt.ArrayLike,
        value: npt.ArrayLike,
        quality: npt.ArrayLike | None = None,
        received: Millis,
        server_ts: npt.ArrayLike | None = None,
    ) -> Batch:
        """Build a batch from array-likes, converting to the column dtypes."""
        tags = np.asarray(tag, dtype=np.int32)
        qualities = (
            np.zeros(len(tags), dtype=np.uint8)
            if quality is None
            else np.asarray(quality, dtype=np.uint8)
        )
        return cls(
            tag=tags,
            ts=np.asarray(ts, dtype=np.int64),
            value=np.asarray(value, dtype=np.float64),
            quality=qualities,
            received=received,
            server_ts=None if server_ts is None else np.asarray(server_ts, dtype=np.int64),
        )

    @classmethod
    def empty(cls, received: Millis = 0) -> Batch:
        return cls.of(tag=[], ts=[], value=[], received=received)

    def select(self, mask_or_index: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Batch:
        """The readings picked by a boolean mask or an index array, in that order."""
        return Batch(
            tag=self.tag[mask_or_index],
            ts=self.ts[mask_or_index],
            value=self.value[mask_or_index],
            quality=self.quality[mask_or_index],
            received=self.received,
            server_ts=None if self.server_ts is None else self.server_ts[mask_or_index],
        )

    @staticmethod
    def concat(batches: list[Batch]) -> Batch:
        """One batch of all readings of ``batches``; ``received`` is the latest of them."""
        if not batches:
            return Batch.empty()
        return Batch(
            tag=np.concatenate([b.tag for b in batches]),
            ts=np.concatenate([b.ts for b in batches]),
            value=np.concatenate([b.value for b in batches]),
            quality=np.concatenate([b.quality for b in batches]),
            received=max(b.received for b in batches),
            server_ts=None
            if all(b.server_ts is None for b in batches)
            else np.concatenate([b.servers() for b in batches]),
        )

    def servers(self) -> Stamps:
        """The ``server_ts`` column, ``NO_STAMP`` throughout where the batch has none."""
        if self.server_ts is None:
            return np.full(len(self.tag), NO_STAMP, dtype=np.int64)
        return self.server_ts
