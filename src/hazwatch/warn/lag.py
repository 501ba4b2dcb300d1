"""Lagged windows over a stream of samples, with the stream's history kept between batches.

Dynamic monitors look at ``width`` consecutive samples at once. The window of sample ``t``
is the row ``[x_t, x_{t-1}, …, x_{t-width+1}]`` (newest first). The first ``width − 1``
samples of a stream have no full window: they are *not ready* (warm-up), never scored as
normal.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from hazwatch.warn.detector import Flags, Matrix


def windows(samples: Matrix, width: int) -> Matrix:
    """Windows of every sample from index ``width − 1`` on: (n − width + 1, width·p)."""
    n, p = samples.shape
    if n < width:
        return np.empty((0, width * p))
    # sliding_window_view gives (n-width+1, p, width) oldest first; reverse to newest first.
    view = sliding_window_view(samples, width, axis=0)[:, :, ::-1]
    rows: Matrix = np.ascontiguousarray(view.transpose(0, 2, 1)).reshape(-1, width * p)
    return rows


class LagWindow:
    """The history a stream needs to form windows of ``width`` samples across batches."""

    def __init__(self, *, width: int, variables: int) -> None:
        if width < 1:
            raise ValueError("window width must be at least 1")
        self.width = width
        self._history: Matrix = np.empty((0, variables))

    def reset(self) -> None:
        self._history = self._history[:0]

    def extend(self, samples: Matrix) -> tuple[Matrix, Flags]:
        """Windows for ``samples`` (n, width·p; NaN rows where not ready) and ``ready``."""
        n, p = samples.shape
        joined = np.vstack([self._history, samples])
        keep = self.width - 1
        self._history = joined[max(0, len(joined) - keep) :] if keep else joined[:0]
        full = windows(joined, self.width)
        out = np.full((n, self.width * p), np.nan)
        ready = np.zeros(n, dtype=np.bool_)
        if len(full):
            # The last len(full) samples of `joined` own a full window.
            take = min(n, len(full))
            out[n - take :] = full[len(full) - take :]
            ready[n - take :] = True
        return out, ready
