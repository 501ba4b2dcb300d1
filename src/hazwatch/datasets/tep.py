"""Tennessee Eastman process (TEP): the Braatz data files and their evaluation protocol.

**Files.** Plain text, whitespace-separated floats, one sample per row and 52 columns
(XMEAS(1)…XMEAS(41), XMV(1)…XMV(11)), sampled every 3 minutes. The normal training file
``d00.dat`` of the original distribution is stored transposed (52 rows × 500 columns);
:func:`read` detects that by shape (52 rows and another column count) and transposes it.

**Variables.** Every method monitors the 33 continuously measured variables XMEAS(1–22)
and XMV(1–11) (columns 1–22 and 42–52); the 19 analyser readings are sampled with dead
time and held, and are left out, as in Yin et al. (2012).

**Protocol** (Russell, Chiang & Braatz 2000; Yin et al. 2012):

* the monitor is fitted on the training file only (normal operation); every test file is
  scored as one fresh stream (``reset`` before it);
* in a test file the fault is switched on after sample 160: rows 161–960 (0-based
  160–959, :data:`FAULT_START` on) are faulty;
* detection rate of a fault file = share of flagged samples among rows 161–end;
* false-alarm rate = share of flagged samples among rows 161–end of the *normal* test
  file (``d00_te.dat``, recognised by its name ``d00…``) when it is among the tests;
* per-sample rates, no persistence filter; samples not ready (warm-up) count as not
  flagged;
* detection delay = the first 0-based index ``i ≥ 160`` at which three consecutive
  samples ``i, i+1, i+2`` are flagged, minus 160, in samples (× 3 min for time): 0 means
  the first faulty sample starts such a run; null when no run of three occurs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hazwatch.datasets.errors import DatasetError
from hazwatch.warn.cva import CVA
from hazwatch.warn.detector import Flags, Matrix, ProcessMonitor
from hazwatch.warn.dpca import DynamicPCA
from hazwatch.warn.pca import PCA

COLUMNS = 52
FAULT_START = 160
RUN = 3  # consecutive flags that count as a detection for the delay
MONITORED = np.r_[0:22, 41:52]  # XMEAS(1-22), XMV(1-11)
_NORMAL_NAME = re.compile(r"^d00(_te)?\b", re.IGNORECASE)

METHODS: dict[str, Callable[[], ProcessMonitor]] = {
    # Yin et al. (2012): 9 components, T² (F) and SPE (Jackson–Mudholkar) at 99 %.
    "pca": lambda: PCA(components=9, confidence=0.99),
    # Ku et al. (1995): two lags, components explaining 90 % of the variance, 99 %.
    "dpca": lambda: DynamicPCA(lags=2, explained=0.9, confidence=0.99),
    # Odiowei & Cao (2010) family: 3-sample windows, 20 states, out-of-fold limits at 99 %.
    "cva": lambda: CVA(lags=3, states=20, confidence=0.99),
}
DEFAULT_METHOD = "cva"


def read(path: Path) -> Matrix:
    """The samples of one TEP file (samples × 52), or DatasetError naming the file."""
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the file ({exc})") from exc
    lines = [(number, line.split()) for number, line in enumerate(text.splitlines(), 1)]
    rows = [(number, fields) for number, fields in lines if fields]
    if not rows:
        raise DatasetError(f"{path}: the file holds no samples")
    width = len(rows[0][1])
    for number, fields in rows:
        if len(fields) != width:
            raise DatasetError(
                f"{path}: line {number} has {len(fields)} values, line {rows[0][0]} has {width}"
            )
    try:
        data = np.array([fields for _, fields in rows], dtype=np.float64)
    except ValueError as exc:
        raise DatasetError(f"{path}: {_first_bad(rows)} is not a number") from exc
    if not np.isfinite(data).all():
        raise DatasetError(f"{path}: the file contains NaN or infinite values")
    if data.shape[1] != COLUMNS and data.shape[0] == COLUMNS:
        data = data.T  # the original d00.dat is stored variables × samples
    if data.shape[1] != COLUMNS:
        raise DatasetError(
            f"{path}: expected {COLUMNS} columns (41 XMEAS + 11 XMV), found {data.shape[1]}"
        )
    return data


def _first_bad(rows: list[tuple[int, list[str]]]) -> str:
    # Only on the error path: find where parsing failed, so the message can point at it.
    for number, fields in rows:
        for column, field in enumerate(fields, 1):
            try:
                float(field)
            except ValueError:
                return f"line {number}, column {column} ({field!r})"
    return "a value"


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """One faulty test file: ``detection_rate`` in 0–1, ``delay_samples`` or None."""

    file: str
    detection_rate: float
    delay_samples: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class TepReport:
    """Figures of one method on one set of test files (rates as fractions 0–1)."""

    method: str
    false_alarm_rate: float | None
    normal_file: str | None
    files: tuple[FileResult, ...]

    @property
    def mean_detection_rate(self) -> float | None:
        if not self.files:
            return None
        return float(np.mean([f.detection_rate for f in self.files]))

    def as_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "false_alarm_rate": self.false_alarm_rate,
            "normal_file": self.normal_file,
            "mean_detection_rate": self.mean_detection_rate,
            "fault_start": FAULT_START,
            "files": [
                {
                    "file": f.file,
                    "detection_rate": f.detection_rate,
                    "delay_samples": f.delay_samples,
                }
                for f in self.files
            ],
        }

    def text(self) -> str:
        lines = [f"TEP, method {self.method} (rates over samples {FAULT_START + 1}–end)"]
        lines.append(f"{'file':<16}{'detection':>10}{'delay':>8}")
        for f in self.files:
            delay = "-" if f.delay_samples is None else str(f.delay_samples)
            lines.append(f"{f.file:<16}{f.detection_rate:>10.2%}{delay:>8}")
        mean = self.mean_detection_rate
        if mean is not None:
            lines.append(f"{'mean':<16}{mean:>10.2%}")
        if self.false_alarm_rate is not None:
            lines.append(f"false alarms on {self.normal_file}: {self.false_alarm_rate:.2%}")
        return "\n".join(lines)


def delay(flagged: Flags, *, start: int = FAULT_START, run: int = RUN) -> int | None:
    """Samples from ``start`` to the first of ``run`` consecutive flags, or None."""
    tail = flagged[start:].astype(np.int64)
    if len(tail) < run:
        return None
    sums = np.convolve(tail, np.ones(run, dtype=np.int64), mode="valid")
    hits = np.flatnonzero(sums == run)
    return int(hits[0]) if hits.size else None


def monitor(method: str) -> ProcessMonitor:
    """A fresh, unfitted monitor for ``method``, or DatasetError listing the known ones."""
    factory = METHODS.get(method)
    if factory is None:
        raise DatasetError(f"unknown method {method!r}; known: {', '.join(sorted(METHODS))}")
    return factory()


def evaluate(*, train: Path, tests: Sequence[Path], method: str) -> TepReport:
    """Fit ``method`` on ``train`` and score every test file (see the module docstring)."""
    detector = monitor(method)
    if not tests:
        raise DatasetError("no test file given")
    normal = read(train)
    try:
        detector.fit(normal[:, MONITORED])
    except ValueError as exc:
        raise DatasetError(f"{train}: cannot fit {method} ({exc})") from exc
    far: float | None = None
    normal_file: str | None = None
    files: list[FileResult] = []
    for path in tests:
        samples = read(path)
        if len(samples) <= FAULT_START:
            raise DatasetError(
                f"{path}: {len(samples)} samples; a test run needs more than {FAULT_START}"
            )
        detector.reset()
        flagged = detector.score(samples[:, MONITORED]).flagged
        rate = float(flagged[FAULT_START:].mean())
        if _NORMAL_NAME.match(path.name):
            far, normal_file = rate, path.name
        else:
            files.append(
                FileResult(file=path.name, detection_rate=rate, delay_samples=delay(flagged))
            )
    return TepReport(
        method=method, false_alarm_rate=far, normal_file=normal_file, files=tuple(files)
    )
