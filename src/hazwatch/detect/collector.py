"""Condition events gathered as numpy columns while a batch or a tick is evaluated.

Detection works on columns; Python ``ConditionEvent`` objects are made once at the end and
only for conditions that changed. Events come out ordered by time, then tag id, then
condition (HH, H, L, LL, OFFLINE, FROZEN, BAD_QUALITY); events of one condition that share a
time keep the order in which they happened.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.tag import LIMIT_KINDS, ConditionKind

KINDS: tuple[ConditionKind, ...] = (
    *LIMIT_KINDS,
    ConditionKind.OFFLINE,
    ConditionKind.FROZEN,
    ConditionKind.BAD_QUALITY,
)
"""Condition code → kind; codes 0–3 are the limit columns of ``TagTable``."""

OFFLINE = KINDS.index(ConditionKind.OFFLINE)
FROZEN = KINDS.index(ConditionKind.FROZEN)
BAD_QUALITY = KINDS.index(ConditionKind.BAD_QUALITY)

_Part = tuple[
    npt.NDArray[np.intp],
    npt.NDArray[np.intp],
    npt.NDArray[np.bool_],
    npt.NDArray[np.int64],
    npt.NDArray[np.float64],
]


class EventCollector:
    """Accumulates changed conditions; ``events()`` turns them into ``ConditionEvent``s."""

    def __init__(self) -> None:
        self._parts: list[_Part] = []

    def add(
        self,
        tags: npt.NDArray[np.intp],
        kinds: npt.NDArray[np.intp] | int,
        *,
        active: bool,
        at: npt.NDArray[np.int64],
        values: npt.NDArray[np.float64],
    ) -> None:
        """Record that condition ``kinds`` of ``tags`` became ``active`` (or cleared) at ``at``."""
        n = len(tags)
        if n == 0:
            return
        codes = np.broadcast_to(np.asarray(kinds, dtype=np.intp), (n,))
        self._parts.append(
            (
                np.asarray(tags, dtype=np.intp),
                codes,
                np.full(n, active, dtype=np.bool_),
                np.asarray(at, dtype=np.int64),
                np.asarray(values, dtype=np.float64),
            )
        )

    def events(self) -> list[ConditionEvent]:
        if not self._parts:
            return []
        tags, codes, active, at, values = (
            np.concatenate([part[i] for part in self._parts]) for i in range(5)
        )
        order = np.lexsort((codes, tags, at))
        return [
            ConditionEvent(tag_id=t, condition=KINDS[k], active=a, at=ms, value=v)
            for t, k, a, ms, v in zip(
                tags[order].tolist(),
                codes[order].tolist(),
                active[order].tolist(),
                at[order].tolist(),
                values[order].tolist(),
                strict=True,
            )
        ]
