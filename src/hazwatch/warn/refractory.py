"""A refractory period: once a score has crossed the threshold, stay quiet for a while.

After a sample scores above ``threshold``, the scores of the next ``samples`` samples
are capped at ``quiet`` (below the threshold). The episode has been reported; a warning
that re-fires on every sample of one episode adds noise, not information — the reasoning
of ISA-18.2 against chattering alarms, and of NAB, which credits only the first detection
in an anomaly window and charges every later one outside it.

The state (the end of the current quiet period, in absolute sample numbers) carries over
between calls, so a stream cut into batches gives the scores of one batch. The loop runs
over crossings of the threshold only, never over samples.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hazwatch.warn.detector import Vector


class Refractory:
    """Cap scores for ``samples`` samples after each score above ``threshold``."""

    def __init__(self, *, threshold: float, samples: int, quiet: float = 0.0) -> None:
        if samples < 0:
            raise ValueError("the refractory period cannot be negative")
        if quiet >= threshold:
            raise ValueError("the quiet level must lie below the threshold")
        self.threshold = threshold
        self.samples = samples
        self.quiet = quiet
        self._until = 0  # absolute sample number where the current quiet period ends

    def apply(self, score: Vector, at: npt.NDArray[np.int64]) -> Vector:
        """Capped copy of ``score`` for samples numbered ``at`` (ascending); NaN stays NaN.

        Every sample inside a quiet period is capped, not only those above the threshold, so
        the period holds whatever threshold a caller applies later.
        """
        if self.samples == 0 or len(score) == 0:
            return score.copy()
        starts = [int(at[0])]
        ends = [self._until]
        for k in np.flatnonzero(np.nan_to_num(score) > self.threshold):
            if at[k] >= self._until:
                self._until = int(at[k]) + 1 + self.samples
                starts.append(int(at[k]) + 1)
                ends.append(self._until)
        # mark [start, end) sample ranges by a cumulative sum of +1/−1 edges
        edge = np.zeros(len(score) + 1, dtype=np.int64)
        np.add.at(edge, np.searchsorted(at, starts), 1)
        np.add.at(edge, np.searchsorted(at, ends), -1)
        inside = np.cumsum(edge[:-1]) > 0
        return np.where(inside, np.minimum(score, self.quiet), score)
