"""The Numenta Anomaly Benchmark (NAB): read a corpus, run a detector, score it the NAB way.

Layout read: ``DATA/<category>/<file>.csv`` with columns ``timestamp`` (``YYYY-MM-DD
HH:MM:SS``) and ``value``, and a ``combined_windows`` JSON file mapping
``"<category>/<file>.csv"`` to a list of ``[start, end]`` timestamps. Every data file needs
an entry (an empty list for a file without anomalies); entries without a data file are
ignored, so the full label file serves any subset.

Each file is streamed through a fresh detector, causally, in one batch (the detector
learns as it scores); warm-up samples, which have no score, are written and scored as 0.
The threshold is optimised per profile over the whole corpus evaluated, as NAB does, and
the scores are normalised against a detector that never fires (0) and a perfect one (100);
see :mod:`hazwatch.datasets.nab_scoring`.

With ``results_out`` the scores are also written in NAB's own results layout,
``<results_out>/<method>/<category>/<method>_<file>.csv`` with header
``timestamp,value,anomaly_score,label`` (``label`` 1 inside a window), which NAB's scorer
reads unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson

from hazwatch.datasets import nab_scoring
from hazwatch.datasets.errors import DatasetError
from hazwatch.datasets.nab_scoring import PROFILES, Outcome, Sweep
from hazwatch.warn.anomaly import NoveltyDetector
from hazwatch.warn.band import BandDetector
from hazwatch.warn.detector import StreamDetector, Vector

METHODS: dict[str, Callable[[], StreamDetector]] = {
    "novelty": NoveltyDetector,
    "band": BandDetector,
}
DEFAULT_METHOD = "novelty"


@dataclass(frozen=True, slots=True, kw_only=True)
class Series:
    """One NAB data file: its rows as read (text kept for the results file) and parsed."""

    name: str  # "<category>/<file>.csv"
    stamp_text: list[str]
    value_text: list[str]
    ts: np.ndarray[tuple[int], np.dtype[np.int64]]  # epoch ms
    values: Vector


@dataclass(frozen=True, slots=True, kw_only=True)
class FileResult:
    """One file's rows, windows and, per profile, its outcome at the corpus threshold."""

    name: str
    rows: int
    windows: int
    outcomes: dict[str, Outcome]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileResult:
    """One profile over the corpus: normalised score (null 0, perfect 100) and its parts."""

    score: float
    threshold: float
    raw: float
    null_raw: float
    perfect_raw: float
    detected: int
    false_positives: int


@dataclass(frozen=True, slots=True, kw_only=True)
class NabReport:
    """The result of ``hazwatch warn evaluate nab``."""

    method: str
    windows: int
    profiles: dict[str, ProfileResult]
    files: tuple[FileResult, ...]
    results_out: Path | None

    def as_json(self) -> dict[str, object]:
        """``method``, ``windows``, ``profiles`` (normalised ``score``, corpus ``threshold``,
        ``raw``, ``null_raw``, ``perfect_raw``, ``detected`` windows, ``false_positives``
        rows) and ``per_file`` (rows, windows, and per profile raw score, TP/FP/TN/FN rows
        and detected windows)."""
        return {
            "benchmark": "nab",
            "method": self.method,
            "files": len(self.files),
            "rows": sum(f.rows for f in self.files),
            "windows": self.windows,
            "threshold_rule": "optimised per profile over the corpus (NAB)",
            "profiles": {
                name: {
                    "score": p.score,
                    "threshold": p.threshold,
                    "raw": p.raw,
                    "null_raw": p.null_raw,
                    "perfect_raw": p.perfect_raw,
                    "detected": p.detected,
                    "false_positives": p.false_positives,
                }
                for name, p in self.profiles.items()
            },
            "per_file": [
                {
                    "file": f.name,
                    "rows": f.rows,
                    "windows": f.windows,
                    "profiles": {
                        name: {
                            "raw": o.raw,
                            "tp": o.tp,
                            "fp": o.fp,
                            "tn": o.tn,
                            "fn": o.fn,
                            "detected": o.detected,
                        }
                        for name, o in f.outcomes.items()
                    },
                }
                for f in self.files
            ],
            "results_out": str(self.results_out) if self.results_out else None,
        }

    def text(self) -> str:
        """Profile scores, then each file's standard-profile raw score and detections."""
        lines = [
            f"NAB, method {self.method}: {len(self.files)} files, {self.windows} windows",
            f"{'profile':<20} {'score':>8} {'threshold':>10} {'detected':>9} {'FP rows':>8}",
        ]
        for name, p in self.profiles.items():
            lines.append(
                f"{name:<20} {p.score:8.2f} {p.threshold:10.4f} "
                f"{p.detected:>5}/{self.windows:<3} {p.false_positives:8d}"
            )
        lines.append(f"{'file (standard)':<56} {'raw':>8} {'detected':>9} {'FP':>4}")
        for f in self.files:
            o = f.outcomes["standard"]
            lines.append(f"{f.name:<56} {o.raw:8.3f} {o.detected:>5}/{f.windows:<3} {o.fp:4d}")
        if self.results_out is not None:
            lines.append(f"scores written under {self.results_out / self.method}")
        return "\n".join(lines)


def evaluate(*, data: Path, windows: Path, method: str, results_out: Path | None) -> NabReport:
    """Run ``method`` on every ``DATA/<category>/*.csv`` and score it with NAB's rules.

    Raises :class:`DatasetError` naming the file for an unknown method, an unreadable or
    malformed file, or a data file without windows.
    """
    factory = METHODS.get(method)
    if factory is None:
        raise DatasetError(f"unknown NAB method {method!r}; known: {', '.join(sorted(METHODS))}")
    labels = read_windows(windows)
    paths = sorted(data.glob("*/*.csv"))
    if not paths:
        raise DatasetError(f"{data}: no <category>/<file>.csv data files")
    sweeps: list[Sweep] = []
    scores: list[Vector] = []
    names: list[str] = []
    for path in paths:
        series = read_series(path, name=f"{path.parent.name}/{path.name}")
        if series.name not in labels:
            raise DatasetError(f"{windows}: no windows for {series.name}")
        bounds = window_rows(series, labels[series.name], source=windows)
        # rows are scored in file order, as NAB does; the stamps are only made monotonic
        # for the detector's contract
        ts = np.maximum.accumulate(series.ts)
        result = factory().score(ts, series.values).score
        result = np.clip(np.nan_to_num(result, nan=0.0), 0.0, 1.0)
        if results_out is not None:
            write_results(results_out, method, series, result, bounds)
        sweeps.append(nab_scoring.sweep(len(series.values), bounds))
        scores.append(result)
        names.append(series.name)
    return _score(method, names, sweeps, scores, results_out)


def _score(
    method: str,
    names: list[str],
    sweeps: list[Sweep],
    scores: list[Vector],
    results_out: Path | None,
) -> NabReport:
    n_windows = sum(s.windows for s in sweeps)
    profiles: dict[str, ProfileResult] = {}
    per_file: list[dict[str, Outcome]] = [{} for _ in names]
    for profile, costs in PROFILES.items():
        threshold, raw = nab_scoring.threshold_curve(sweeps, scores, costs).best()
        outcomes = [
            nab_scoring.outcome(s, x, threshold, costs) for s, x in zip(sweeps, scores, strict=True)
        ]
        for slot, o in zip(per_file, outcomes, strict=True):
            slot[profile] = o
        profiles[profile] = ProfileResult(
            score=nab_scoring.normalised(raw, windows=n_windows, costs=costs),
            threshold=threshold,
            raw=raw,
            null_raw=-costs.fn * n_windows,
            perfect_raw=costs.tp * n_windows,
            detected=sum(o.detected for o in outcomes),
            false_positives=sum(o.fp for o in outcomes),
        )
    files = tuple(
        FileResult(name=n, rows=len(s), windows=s.windows, outcomes=o)
        for n, s, o in zip(names, sweeps, per_file, strict=True)
    )
    return NabReport(
        method=method, windows=n_windows, profiles=profiles, files=files, results_out=results_out
    )


def _stamps(text: list[str], *, where: str) -> np.ndarray[tuple[int], np.dtype[np.int64]]:
    try:
        parsed = np.array(text, dtype="datetime64[ms]")
    except ValueError as exc:
        raise DatasetError(f"{where}: bad timestamp ({exc})") from exc
    if np.isnat(parsed).any():
        raise DatasetError(f"{where}: empty timestamp")
    return parsed.astype(np.int64)


def read_windows(path: Path) -> dict[str, list[tuple[int, int]]]:
    """The ``combined_windows`` file: file name → ``(start, end)`` epoch ms per window."""
    try:
        raw = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise DatasetError(f"{path}: not a readable JSON windows file ({exc})") from exc
    if not isinstance(raw, dict):
        raise DatasetError(f"{path}: expected an object of file name → windows")
    out: dict[str, list[tuple[int, int]]] = {}
    for name, spans in raw.items():
        if not isinstance(spans, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(t, str) for t in s)
            for s in spans
        ):
            raise DatasetError(f"{path}: windows of {name} must be [start, end] timestamp pairs")
        flat = _stamps([t for s in spans for t in s], where=f"{path} ({name})")
        pairs = sorted(zip(flat[0::2].tolist(), flat[1::2].tolist(), strict=True))
        if any(start > end for start, end in pairs):
            raise DatasetError(f"{path}: a window of {name} ends before it starts")
        out[name] = pairs
    return out


def read_series(path: Path, *, name: str) -> Series:
    """One data file; raises :class:`DatasetError` naming it when it is malformed."""
    try:
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read ({exc})") from exc
    if not lines:
        raise DatasetError(f"{path}: empty file")
    header = [h.strip() for h in lines[0].split(",")]
    missing = [c for c in ("timestamp", "value") if c not in header]
    if missing:
        raise DatasetError(f"{path}: missing column {', '.join(missing)} (header {lines[0]!r})")
    i_ts, i_val = header.index("timestamp"), header.index("value")
    rows = [ln.split(",") for ln in lines[1:]]
    if not rows:
        raise DatasetError(f"{path}: no rows")
    if any(len(r) != len(header) for r in rows):
        raise DatasetError(f"{path}: a row has not {len(header)} fields")
    stamp_text = [r[i_ts].strip() for r in rows]
    value_text = [r[i_val].strip() for r in rows]
    ts = _stamps(stamp_text, where=str(path))
    try:
        values = np.array(value_text, dtype=np.float64)
    except ValueError as exc:
        raise DatasetError(f"{path}: bad value ({exc})") from exc
    return Series(name=name, stamp_text=stamp_text, value_text=value_text, ts=ts, values=values)


def window_rows(
    series: Series, spans: list[tuple[int, int]], *, source: Path
) -> list[tuple[int, int]]:
    """Inclusive row bounds of each window: the rows whose timestamps lie inside it.

    NAB's windows start and end on row timestamps; like NAB, the first row carrying the
    stamp is used (NAB files repeat stamps and, at clock changes, step back an hour). A
    window whose edges match no row is taken as the rows it covers. A window covering no
    row, or overlapping the previous one, is an error.
    """
    bounds: list[tuple[int, int]] = []
    ordered = np.maximum.accumulate(series.ts)
    for start, end in spans:
        first = _first_row(series.ts, start)
        if first is None:
            first = int(np.searchsorted(ordered, start, side="left"))
        last = _first_row(series.ts, end)
        if last is None:
            last = int(np.searchsorted(ordered, end, side="right")) - 1
        if first > last:
            raise DatasetError(f"{source}: a window of {series.name} covers no row")
        if bounds and first <= bounds[-1][1]:
            raise DatasetError(f"{source}: windows of {series.name} overlap")
        bounds.append((first, last))
    return bounds


def _first_row(ts: np.ndarray[tuple[int], np.dtype[np.int64]], stamp: int) -> int | None:
    hits = np.flatnonzero(ts == stamp)
    return int(hits[0]) if len(hits) else None


def write_results(
    root: Path, method: str, series: Series, scores: Vector, bounds: list[tuple[int, int]]
) -> Path:
    """Write ``<root>/<method>/<category>/<method>_<file>.csv`` in NAB's results format."""
    category, file = series.name.split("/")
    target = root / method / category / f"{method}_{file}"
    label = np.zeros(len(scores), dtype=np.int64)
    for first, last in bounds:
        label[first : last + 1] = 1
    body = "".join(
        f"{t},{v},{s!r},{lab}\n"
        for t, v, s, lab in zip(
            series.stamp_text, series.value_text, scores.tolist(), label.tolist(), strict=True
        )
    )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("timestamp,value,anomaly_score,label\n" + body, encoding="utf-8")
    except OSError as exc:
        raise DatasetError(f"{target}: cannot write results ({exc})") from exc
    return target
