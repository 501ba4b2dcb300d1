"""The detector contract of early warning: learn what normal is, score batches.

Two families share one result type, :class:`Scores`:

* :class:`ProcessMonitor` — multivariate monitoring of one installation (PCA, dynamic PCA,
  …). Trained offline on normal operation (``fit``), then scores batches of samples, one
  row per sample and one column per variable. Stateful across ``score`` calls where the
  method needs history (lagged variables); ``reset`` starts a new stream.
* :class:`StreamDetector` — univariate and streaming: it learns as it scores, one tag at a
  time, and is in warm-up until it has seen enough.

Contracts shared by every detector:

* a higher score is more anomalous; a sample is *flagged* when its score exceeds the
  threshold in force for it;
* warm-up is a state, never a score that looks normal: a sample scored before the detector
  is ready has ``ready`` False, ``score`` NaN and ``flagged`` False, and callers must not
  count it as normal;
* everything is vectorised over the batch; no Python object per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float64]
Vector = npt.NDArray[np.float64]
Flags = npt.NDArray[np.bool_]
Stamps = npt.NDArray[np.int64]


class Phase(StrEnum):
    """Whether a detector can judge yet."""

    WARMING_UP = "warming_up"
    READY = "ready"


@dataclass(frozen=True, slots=True, kw_only=True)
class Scores:
    """The verdict on one batch, one element per sample.

    ``score``: float64, higher = more anomalous, NaN while warming up. ``threshold``:
    float64, the limit in force for each sample (a control limit, or a learned bound).
    ``flagged``: ``ready & (score > threshold)``. ``contributions``: optional (n, p)
    float64, each variable's share of the score (rows sum to 1 where the score is
    positive), so a warning can say which signals drive it.
    """

    score: Vector
    threshold: Vector
    flagged: Flags
    ready: Flags
    contributions: Matrix | None = None

    def __post_init__(self) -> None:
        n = len(self.score)
        if not (len(self.threshold) == len(self.flagged) == len(self.ready) == n):
            raise ValueError("score columns differ in length")
        if self.contributions is not None and len(self.contributions) != n:
            raise ValueError("contributions have a row per sample")

    def __len__(self) -> int:
        return len(self.score)


class ProcessMonitor(Protocol):
    """Multivariate monitoring of one installation, trained on normal operation."""

    name: str

    def fit(self, normal: Matrix) -> None:
        """Learn normal operation from ``normal`` (samples × variables, no NaN)."""
        ...

    def score(self, samples: Matrix) -> Scores:
        """Score the next ``samples`` of the stream (samples × the fitted variables)."""
        ...

    def reset(self) -> None:
        """Forget the stream history (not the model): the next sample starts a stream."""
        ...


class StreamDetector(Protocol):
    """A univariate detector of one tag that learns as it scores."""

    name: str

    @property
    def phase(self) -> Phase: ...

    def score(self, ts: Stamps, values: Vector) -> Scores:
        """Score and then learn ``values`` (timestamps in epoch ms, ascending)."""
        ...
