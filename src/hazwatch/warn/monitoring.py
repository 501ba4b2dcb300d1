"""Live process monitoring: each installation's trained monitor, fed a sample per period.

``InstallationMonitors`` holds the loaded model of every monitored installation (a
``ProcessMonitor`` and the tag ids of its variables, in the model's column order). As
batches arrive the caller hands it the newest value and timestamp of every tag (numpy
columns indexed by tag id); an installation takes a **sample** when the newest reading of
any of its variables reaches its next multiple of ``period_ms`` of data time. The sample
holds the latest value of every variable at that moment (a variable that has not reported
since keeps its last value, as training fills short gaps). An installation with a variable
that never reported (NaN) takes no sample: that is warm-up, not normal operation.

Each sample is scored by the installation's monitor, which keeps the stream history that
lagged methods need between calls. A verdict is **hysteretic**, so that one noisy sample
neither raises nor clears a warning:

* a warning is *raised* when at least ``raise_count`` of the last ``raise_window`` ready
  samples are flagged (default 2 of 3); while raised, every flagged sample refreshes it;
* a raised warning *subsides* after ``clear_count`` consecutive ready samples that are not
  flagged (default 3).

A flagged verdict carries its colour (``grading.grade`` on the sample's score and threshold)
and an ``Explanation`` naming the variables that contribute most to the score. Samples
not ready (warm-up) change nothing. Pure logic: time is the readings' own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import Millis
from hazwatch.domain.warning import Colour, Explanation
from hazwatch.warn.detector import ProcessMonitor, Scores
from hazwatch.warn.grading import Evidence, Grading, grade

Ids = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True, kw_only=True)
class Hysteresis:
    """Raise on ``raise_count`` flagged of the last ``raise_window`` ready samples; subside
    after ``clear_count`` ready samples in a row that are not flagged."""

    raise_count: int = 2
    raise_window: int = 3
    clear_count: int = 3

    def __post_init__(self) -> None:
        if not 1 <= self.raise_count <= self.raise_window or self.clear_count < 1:
            raise ValueError("need 1 <= raise_count <= raise_window and clear_count >= 1")


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationModel:
    """A trained monitor of one installation, ready to score.

    ``variables``: tag keys in the monitor's column order; ``tag_ids``: the live ids of
    those tags; ``version``: the stored model version; ``period_ms``: the sample period the
    model was trained at.
    """

    installation: str
    method: str
    version: int
    period_ms: Millis
    variables: tuple[str, ...]
    tag_ids: tuple[int, ...]
    monitor: ProcessMonitor

    def __post_init__(self) -> None:
        if len(self.variables) != len(self.tag_ids) or not self.variables:
            raise ValueError("one tag id per variable, and at least one variable")
        if self.period_ms <= 0:
            raise ValueError("the sample period must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class Flagged:
    """An installation whose monitor sees abnormal operation at sample ``at``."""

    installation: str
    method: str
    at: Millis
    colour: Colour
    explanation: Explanation


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdicts:
    flagged: tuple[Flagged, ...] = ()
    subsided: tuple[tuple[str, str, Millis], ...] = ()
    """(installation, method, at): raised before, cleared by the sample at ``at``"""


@dataclass(slots=True)
class _Stream:
    model: InstallationModel
    recent: list[bool]
    clean: int = 0
    raised: bool = False


class InstallationMonitors:
    """See the module docstring."""

    def __init__(
        self,
        *,
        hysteresis: Hysteresis | None = None,
        grading: Grading | None = None,
        top: int = 3,
    ) -> None:
        self.hysteresis = hysteresis or Hysteresis()
        self.grading = grading or Grading()
        self.top = top
        self._streams: list[_Stream] = []
        self._index: dict[str, int] = {}
        self._columns: Ids = np.zeros(0, dtype=np.int64)
        self._starts: Ids = np.zeros(0, dtype=np.int64)
        self._period: Ids = np.zeros(0, dtype=np.int64)
        self._next: Ids = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._streams)

    def model(self, installation: str) -> InstallationModel | None:
        i = self._index.get(installation)
        return None if i is None else self._streams[i].model

    def versions(self) -> dict[str, int]:
        """The loaded model version of each installation."""
        return {s.model.installation: s.model.version for s in self._streams}

    def restore(self, installations: Sequence[str]) -> None:
        """Installations that have an open warning of their monitor (after a restart): a
        clean run subsides it instead of leaving it open."""
        for installation in installations:
            i = self._index.get(installation)
            if i is not None:
                self._streams[i].raised = True

    def install(self, model: InstallationModel) -> None:
        """Monitor ``model.installation`` with ``model``, replacing any earlier model; its
        stream starts afresh (the monitor is reset); a raised verdict of the same method stays
        raised, so a clean run still subsides its warning."""
        model.monitor.reset()
        i = self._index.get(model.installation)
        stream = _Stream(model=model, recent=[])
        if i is None:
            self._index[model.installation] = len(self._streams)
            self._streams.append(stream)
        else:
            earlier = self._streams[i]
            stream.raised = earlier.raised and earlier.model.method == model.method
            self._streams[i] = stream
        self._rebuild()

    def remove(self, installation: str) -> None:
        i = self._index.pop(installation, None)
        if i is None:
            return
        del self._streams[i]
        self._index = {s.model.installation: j for j, s in enumerate(self._streams)}
        self._rebuild()

    def _rebuild(self) -> None:
        sizes = np.array([len(s.model.tag_ids) for s in self._streams], dtype=np.int64)
        self._starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        self._columns = np.array(
            [t for s in self._streams for t in s.model.tag_ids], dtype=np.int64
        )
        self._period = np.array([s.model.period_ms for s in self._streams], dtype=np.int64)
        self._next = np.zeros(len(self._streams), dtype=np.int64)

    def observe(
        self, ts: npt.NDArray[np.int64], value: npt.NDArray[np.float64], newest: Millis
    ) -> Verdicts:
        """Sample and score the installations that are due.

        ``ts``/``value``: the newest reading of every tag, indexed by tag id (ts −1 where a
        tag never reported); ``newest``: the newest timestamp that arrived since the last
        call (a cheap test: nothing is due before it reaches an installation's next sample).
        """
        if not self._streams or newest < int(self._next.min()):
            return Verdicts()
        data_time = np.maximum.reduceat(ts[self._columns], self._starts)
        due = np.flatnonzero(data_time >= self._next)
        if not len(due):
            return Verdicts()
        at = data_time[due]
        self._next[due] = (at // self._period[due] + 1) * self._period[due]
        flagged: list[Flagged] = []
        subsided: list[tuple[str, str, Millis]] = []
        for i, sample_at in zip(due.tolist(), at.tolist(), strict=True):
            stream = self._streams[i]
            start = int(self._starts[i])
            row = value[self._columns[start : start + len(stream.model.tag_ids)]]
            if not np.isfinite(row).all():
                continue
            verdict = self._judge(stream, row, sample_at)
            if isinstance(verdict, Flagged):
                flagged.append(verdict)
            elif verdict:
                subsided.append((stream.model.installation, stream.model.method, sample_at))
        return Verdicts(flagged=tuple(flagged), subsided=tuple(subsided))

    def _judge(self, stream: _Stream, row: npt.NDArray[np.float64], at: Millis) -> Flagged | bool:
        """The sample's verdict: ``Flagged``, True when the warning subsides, else False."""
        scores = stream.model.monitor.score(row[np.newaxis, :])
        if not bool(scores.ready[0]):
            return False
        hit = bool(scores.flagged[0])
        rule = self.hysteresis
        keep = max(0, len(stream.recent) - rule.raise_window + 1)
        stream.recent = [*stream.recent[keep:], hit]
        stream.clean = 0 if hit else stream.clean + 1
        if stream.raised and stream.clean >= rule.clear_count:
            stream.raised = False
            return True
        if hit and (stream.raised or sum(stream.recent) >= rule.raise_count):
            verdict = self._flagged(stream.model, scores, at)
            if verdict is not None:
                stream.raised = True
                return verdict
        return False

    def _flagged(self, model: InstallationModel, scores: Scores, at: Millis) -> Flagged | None:
        evidence = Evidence(score=float(scores.score[0]), threshold=float(scores.threshold[0]))
        graded = grade(evidence, self.grading)
        if graded is None:
            return None
        shares = scores.contributions[0] if scores.contributions is not None else np.zeros(0)
        text = f"{model.method} sees abnormal operation of {model.installation}: {graded.reason}"
        explanation = (
            Explanation.of(text, model.variables, shares.tolist(), top=self.top)
            if len(shares)
            else Explanation(text=text)
        )
        return Flagged(
            installation=model.installation,
            method=model.method,
            at=at,
            colour=graded.colour,
            explanation=explanation,
        )


__all__ = [
    "Flagged",
    "Hysteresis",
    "InstallationModel",
    "InstallationMonitors",
    "Verdicts",
]
