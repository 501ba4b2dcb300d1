"""Skoltech Anomaly Benchmark (SKAB): the data folder and the outlier-detection protocol.

**Folder.** ``data`` is a SKAB data folder: subfolders (``valve1/``, ``valve2/``,
``other/``, …) of experiment files ``<n>.csv``, plus ``anomaly-free/``, which the protocol
does not use. A folder holding ``data/`` or ``skab/data/`` in that layout is accepted too.
Every ``*.csv`` one level down, outside ``anomaly-free/``, is an experiment.

**Files.** Semicolon-separated, a header row, about one sample per second, rows in time
order. The eight signals in :data:`SIGNALS` are monitored (``datetime`` is not used);
``anomaly`` (0/1 per row) is the label; ``changepoint`` is ignored (it belongs to the
changepoint-detection task).

**Protocol** (SKAB's current leaderboard, so figures are comparable):

* each experiment is split in time: the first :data:`TRAIN_ROWS` rows fit a fresh
  monitor, the remaining rows are the test part (the split ignores the labels, as the
  leaderboard does);
* the monitor scores the whole file as one stream from its first row, and the verdicts
  of the test rows are kept: a causal monitor carries the history of the training rows
  into the test part, as it would on line. Test rows still in warm-up count as not
  flagged, and are reported as ``not_ready``;
* point-wise counts (TP, FP, FN, TN) are summed over the test parts of all experiments,
  then F1 = TP / (TP + (FN + FP)/2), FAR = FP / (FP + TN), MAR = FN / (FN + TP) — as
  fractions (the leaderboard prints FAR and MAR in %). A rate whose denominator is 0 is
  None.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hazwatch.datasets.errors import DatasetError
from hazwatch.warn.cva import CVA
from hazwatch.warn.detector import Flags, Matrix, ProcessMonitor
from hazwatch.warn.dpca import DynamicPCA
from hazwatch.warn.ewma import EwmaMonitor
from hazwatch.warn.pca import PCA

SIGNALS = (
    "Accelerometer1RMS",
    "Accelerometer2RMS",
    "Current",
    "Pressure",
    "Temperature",
    "Thermocouple",
    "Voltage",
    "Volume Flow RateRMS",
)
LABEL = "anomaly"
TRAIN_ROWS = 400
UNUSED_FOLDER = "anomaly-free"

METHODS: dict[str, Callable[[], ProcessMonitor]] = {
    # SKAB's "T-squared+Q (PCA-based)" baseline: components explaining 85 % of the
    # variance of the scaled signals (SKAB's default), T² or SPE beyond its 99 % limit.
    "pca": lambda: PCA(explained=0.85, confidence=0.99),
    # For comparison, the dynamic monitors with their TEP settings (hazwatch.datasets.tep).
    "dpca": lambda: DynamicPCA(lags=2, explained=0.9, confidence=0.99),
    "cva": lambda: CVA(lags=3, states=20, confidence=0.99),
    # hazwatch for SKAB: per-signal EWMA charts, drift screening, 99.5 % envelopes, deadband.
    "ewma": EwmaMonitor,
}
DEFAULT_METHOD = "ewma"


@dataclass(frozen=True, slots=True, kw_only=True)
class Confusion:
    """Point-wise counts of flags against labels, and the SKAB rates (fractions or None)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @classmethod
    def of(cls, labels: Flags, flagged: Flags) -> Confusion:
        """Counts of ``flagged`` (True = warning) against ``labels`` (True = anomalous)."""
        y = np.asarray(labels, dtype=np.bool_)
        f = np.asarray(flagged, dtype=np.bool_)
        if y.shape != f.shape:
            raise ValueError(f"labels {y.shape} and flags {f.shape} differ in shape")
        return cls(
            tp=int(np.sum(y & f)),
            fp=int(np.sum(~y & f)),
            fn=int(np.sum(y & ~f)),
            tn=int(np.sum(~y & ~f)),
        )

    def __add__(self, other: Confusion) -> Confusion:
        return Confusion(
            tp=self.tp + other.tp,
            fp=self.fp + other.fp,
            fn=self.fn + other.fn,
            tn=self.tn + other.tn,
        )

    @property
    def f1(self) -> float | None:
        """TP / (TP + (FN + FP)/2): the harmonic mean of precision and recall."""
        denominator = self.tp + (self.fn + self.fp) / 2
        return self.tp / denominator if denominator else None

    @property
    def far(self) -> float | None:
        """False-alarm rate FP / (FP + TN): share of normal rows flagged."""
        denominator = self.fp + self.tn
        return self.fp / denominator if denominator else None

    @property
    def mar(self) -> float | None:
        """Missed-alarm rate FN / (FN + TP): share of anomalous rows not flagged."""
        denominator = self.fn + self.tp
        return self.fn / denominator if denominator else None

    def as_json(self) -> dict[str, object]:
        return {
            "f1": self.f1,
            "far": self.far,
            "mar": self.mar,
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Experiment:
    """One experiment file: ``name`` relative to the data folder (``valve1/0.csv``),
    ``signals`` (rows × :data:`SIGNALS`) and ``labels`` (True = anomalous row)."""

    name: str
    signals: Matrix
    labels: Flags


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """The test part of one experiment: its counts and how many rows were not ready."""

    file: str
    rows: int
    not_ready: int
    confusion: Confusion


@dataclass(frozen=True, slots=True, kw_only=True)
class SkabReport:
    """Figures of one method on one SKAB folder (rates as fractions 0–1, or None)."""

    method: str
    files: tuple[FileResult, ...]

    @property
    def confusion(self) -> Confusion:
        """Counts summed over the test parts of every experiment."""
        total = Confusion()
        for f in self.files:
            total = total + f.confusion
        return total

    def as_json(self) -> dict[str, object]:
        pooled = self.confusion
        return {
            "benchmark": "skab",
            "method": self.method,
            **pooled.as_json(),
            "train_rows": TRAIN_ROWS,
            "label": LABEL,
            "files": [
                {
                    "file": f.file,
                    "rows": f.rows,
                    "test_rows": f.rows - TRAIN_ROWS,
                    "not_ready": f.not_ready,
                    **f.confusion.as_json(),
                }
                for f in self.files
            ],
        }

    def text(self) -> str:
        lines = [
            f"SKAB, method {self.method}: first {TRAIN_ROWS} rows of each file train, "
            "the rest is scored; counts pooled over all files",
            f"{'file':<18}{'test rows':>10}{'F1':>8}{'FAR':>9}{'MAR':>9}",
        ]
        for f in self.files:
            lines.append(_row(f.file, f.rows - TRAIN_ROWS, f.confusion))
        pooled = self.confusion
        lines.append(_row("all (pooled)", sum(f.rows - TRAIN_ROWS for f in self.files), pooled))
        return "\n".join(lines)


def _row(name: str, rows: int, c: Confusion) -> str:
    def cell(value: float | None, width: int, percent: bool) -> str:
        if value is None:
            return f"{'-':>{width}}"
        return f"{value:>{width}.2%}" if percent else f"{value:>{width}.3f}"

    return f"{name:<18}{rows:>10}{cell(c.f1, 8, False)}{cell(c.far, 9, True)}{cell(c.mar, 9, True)}"


def read(path: Path, name: str) -> Experiment:
    """One experiment file, or DatasetError naming the file and the problem."""
    try:
        with path.open(encoding="utf-8") as handle:
            header = handle.readline().rstrip("\r\n").split(";")
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read the file ({exc})") from exc
    columns = [c.strip() for c in header]
    if columns == [""]:
        raise DatasetError(f"{path}: the file is empty")
    missing = [c for c in (*SIGNALS, LABEL) if c not in columns]
    if missing:
        hint = " (the file must be semicolon-separated)" if len(columns) == 1 else ""
        raise DatasetError(f"{path}: missing columns {', '.join(missing)}{hint}")
    wanted = [columns.index(c) for c in (*SIGNALS, LABEL)]
    try:
        with warnings.catch_warnings():
            # a file with a header and no rows is reported below, by its row count
            warnings.simplefilter("ignore", UserWarning)
            table = np.loadtxt(
                path, delimiter=";", skiprows=1, usecols=wanted, dtype=np.float64, ndmin=2
            )
    except ValueError as exc:
        raise DatasetError(f"{path}: cannot parse a row ({exc})") from exc
    if not np.isfinite(table).all():
        raise DatasetError(f"{path}: the file contains empty, NaN or infinite values")
    labels = table[:, -1]
    if not np.isin(labels, (0.0, 1.0)).all():
        raise DatasetError(f"{path}: the {LABEL} column must hold only 0 and 1")
    if len(table) <= TRAIN_ROWS:
        raise DatasetError(
            f"{path}: {len(table)} rows; the protocol trains on the first {TRAIN_ROWS} "
            "and needs rows after them to test"
        )
    return Experiment(name=name, signals=table[:, :-1], labels=labels == 1.0)


def experiment_files(data: Path) -> list[tuple[Path, str]]:
    """The experiment files of a SKAB folder in natural order, with their names."""
    for root in (data, data / "data", data / "skab" / "data"):
        files = [p for p in root.glob("*/*.csv") if p.is_file() and p.parent.name != UNUSED_FOLDER]
        if files:
            files.sort(key=lambda p: (p.parent.name, _natural(p.stem)))
            return [(p, p.relative_to(root).as_posix()) for p in files]
    raise DatasetError(
        f"{data}: no SKAB experiment files (<folder>/<n>.csv such as valve1/0.csv) found"
    )


def _natural(stem: str) -> tuple[object, ...]:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", stem))


def monitor(method: str) -> ProcessMonitor:
    """A fresh, unfitted monitor for ``method``, or DatasetError listing the known ones."""
    factory = METHODS.get(method)
    if factory is None:
        raise DatasetError(f"unknown method {method!r}; known: {', '.join(sorted(METHODS))}")
    return factory()


def evaluate(*, data: Path, method: str) -> SkabReport:
    """Run ``method`` on every experiment of ``data`` (see the module docstring)."""
    monitor(method)  # an unknown method fails before any file is read
    results: list[FileResult] = []
    for path, name in experiment_files(data):
        experiment = read(path, name)
        detector = monitor(method)
        try:
            detector.fit(experiment.signals[:TRAIN_ROWS])
        except ValueError as exc:
            raise DatasetError(f"{path}: cannot fit {method} ({exc})") from exc
        scores = detector.score(experiment.signals)
        flagged = scores.flagged[TRAIN_ROWS:]
        results.append(
            FileResult(
                file=name,
                rows=len(experiment.labels),
                not_ready=int(np.sum(~scores.ready[TRAIN_ROWS:])),
                confusion=Confusion.of(experiment.labels[TRAIN_ROWS:], flagged),
            )
        )
    return SkabReport(method=method, files=tuple(results))
