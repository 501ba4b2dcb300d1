"""Why a reading or payload was refused. Refused input is counted and kept, never lost."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hazwatch.domain.clock import Millis


class RejectReason(StrEnum):
    UNKNOWN_TAG = "unknown_tag"
    NOT_FINITE = "not_finite"
    OUT_OF_RANGE = "out_of_range"
    FUTURE = "future"
    TOO_OLD = "too_old"
    DUPLICATE = "duplicate"
    MALFORMED = "malformed"
    OVERSIZED = "oversized"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True, kw_only=True)
class DeadLetter:
    """A refused reading or payload, kept for inspection.

    ``tag_key``/``ts``/``value`` are set for a reading; ``payload`` holds (an excerpt of) the
    raw input for a payload that could not be decoded. ``scope_path`` places it in the scope
    tree (the tag's, or the sending device's) so that it is shown only to those who may see it.
    """

    received: Millis
    source: str
    reason: RejectReason
    detail: str = ""
    scope_path: str = "/"
    tag_key: str | None = None
    ts: Millis | None = None
    value: float | None = None
    payload: str | None = None
