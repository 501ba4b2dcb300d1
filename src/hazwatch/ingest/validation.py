"""Validation of incoming readings: every reading is accepted or refused with a reason.

Checks, in this order (a reading gets the first reason that applies): unknown tag, NaN or
infinite value, outside the instrument range (these two only for good and uncertain
readings: a bad-quality reading says the value is not to be trusted, and is kept — it
raises BAD_QUALITY — whatever the value it carries), timestamp more than ``future_ms`` ahead of
``now``, older than the raw retention, and a second reading of the same tag and timestamp
in the same batch. Duplicates of readings already stored are found by the store (it alone
knows what is stored). Valid readings of a batch are kept whatever happens to the others.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.clock import DAY_MS, MINUTE_MS, Millis
from hazwatch.domain.reject import RejectReason
from hazwatch.domain.tagtable import TagTable

# Reason codes of the per-reading ``reasons`` column; 0 means valid.
VALID = 0
REASON_CODES: tuple[RejectReason, ...] = (
    RejectReason.UNKNOWN_TAG,
    RejectReason.NOT_FINITE,
    RejectReason.OUT_OF_RANGE,
    RejectReason.FUTURE,
    RejectReason.TOO_OLD,
    RejectReason.DUPLICATE,
)
CODE_OF: dict[RejectReason, int] = {reason: i + 1 for i, reason in enumerate(REASON_CODES)}

Codes = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True, kw_only=True)
class Admission:
    """How far from ``now`` a timestamp may lie (defaults: 5 minutes ahead, 30 days back)."""

    future_ms: Millis = 5 * MINUTE_MS
    retention_ms: Millis = 30 * DAY_MS


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The outcome of validating one batch."""

    valid: Batch
    rejected: Batch
    reasons: Codes  # one code per rejected reading, aligned with ``rejected``

    def counts(self) -> dict[RejectReason, int]:
        """Rejected readings per reason (reasons with none are left out)."""
        found = np.bincount(self.reasons, minlength=len(REASON_CODES) + 1)
        return {REASON_CODES[c - 1]: int(found[c]) for c in np.flatnonzero(found) if c != VALID}


def validate(batch: Batch, table: TagTable, now: Millis, admission: Admission) -> Verdict:
    """Split ``batch`` into valid readings and refused ones with their reason codes."""
    n = len(batch)
    codes = np.zeros(n, dtype=np.uint8)
    tags = batch.tag
    known = (tags >= 0) & (tags < len(table.known))
    known[known] = table.known[tags[known]]
    codes[~known] = CODE_OF[RejectReason.UNKNOWN_TAG]

    trusted = batch.quality != Quality.BAD
    pending = (codes == VALID) & trusted
    finite = np.isfinite(batch.value)
    _mark(codes, pending & ~finite, RejectReason.NOT_FINITE)

    pending = (codes == VALID) & trusted
    safe_tags = np.where(pending, tags, 0)
    inside = (batch.value >= table.range_lo[safe_tags]) & (batch.value <= table.range_hi[safe_tags])
    _mark(codes, pending & ~inside, RejectReason.OUT_OF_RANGE)

    _mark(codes, (codes == VALID) & (batch.ts > now + admission.future_ms), RejectReason.FUTURE)
    too_old = batch.ts < now - admission.retention_ms
    _mark(codes, (codes == VALID) & too_old, RejectReason.TOO_OLD)
    _mark(codes, (codes == VALID) & _repeated(batch), RejectReason.DUPLICATE)

    ok = codes == VALID
    return Verdict(valid=batch.select(ok), rejected=batch.select(~ok), reasons=codes[~ok])


def _mark(codes: Codes, where: npt.NDArray[np.bool_], reason: RejectReason) -> None:
    codes[where] = CODE_OF[reason]


def _repeated(batch: Batch) -> npt.NDArray[np.bool_]:
    """True for every reading whose (tag, ts) already appeared earlier in the batch."""
    repeated = np.zeros(len(batch), dtype=np.bool_)
    if len(batch) < 2:
        return repeated
    order = np.lexsort((batch.ts, batch.tag))
    same = (np.diff(batch.tag[order]) == 0) & (np.diff(batch.ts[order]) == 0)
    repeated[order[1:][same]] = True
    return repeated
