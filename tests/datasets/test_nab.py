"""NAB evaluation: reading a corpus, the results layout, the CLI, and the published subset."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import orjson
import pytest
from typer.testing import CliRunner

from hazwatch.cli import app
from hazwatch.datasets import nab, nab_scoring
from hazwatch.datasets.errors import DatasetError

runner = CliRunner()
ROWS = 2016  # a week of five-minute samples
DAY = 288
START = np.datetime64("2014-04-01T00:00:00", "s")


def _stamp(i: int) -> str:
    return str(START + np.timedelta64(300 * i, "s")).replace("T", " ")


def _write(folder: Path, name: str, values: np.ndarray) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rows = "".join(f"{_stamp(i)},{v:.4f}\n" for i, v in enumerate(values))
    (folder / name).write_text("timestamp,value\n" + rows, encoding="utf-8")


def _window(at: int, rows: int, anomalies: int) -> list[str]:
    half = int(0.1 * rows / anomalies) // 2
    return [_stamp(at - half) + ".000000", _stamp(at + half) + ".000000"]


def make_corpus(root: Path) -> tuple[Path, Path]:
    """A small NAB-shaped corpus: a jump, a spike, a flat stretch, and plain cycles."""
    rng = np.random.default_rng(11)
    t = np.arange(ROWS)
    cycle = 50 + 20 * np.sin(2 * np.pi * t / DAY)
    data = root / "data"
    jump = cycle + rng.normal(0, 1, ROWS)
    jump[1500:] += 30
    spike = cycle + rng.normal(0, 1, ROWS)
    spike[1200] += 40
    spike[1700] -= 40
    flat = cycle + rng.normal(0, 1, ROWS)
    flat[1400:1500] = 50
    plain = cycle + rng.normal(0, 1, ROWS)
    _write(data / "synthAnomaly", "jump.csv", jump)
    _write(data / "synthAnomaly", "spike.csv", spike)
    _write(data / "synthAnomaly", "flat.csv", flat)
    _write(data / "synthNoAnomaly", "plain.csv", plain)
    windows = {
        "synthAnomaly/jump.csv": [_window(1500, ROWS, 1)],
        "synthAnomaly/spike.csv": [_window(1200, ROWS, 2), _window(1700, ROWS, 2)],
        "synthAnomaly/flat.csv": [_window(1410, ROWS, 1)],
        "synthNoAnomaly/plain.csv": [],
        "elsewhere/not_in_this_corpus.csv": [_window(100, ROWS, 1)],
    }
    path = root / "combined_windows.json"
    path.write_text(json.dumps(windows), encoding="utf-8")
    return data, path


def test_evaluate_scores_a_corpus_and_writes_nab_results(tmp_path: Path) -> None:
    data, windows = make_corpus(tmp_path)
    out = tmp_path / "results"
    report = nab.evaluate(data=data, windows=windows, method="novelty", results_out=out)
    assert report.windows == 4
    assert [f.name for f in report.files] == [
        "synthAnomaly/flat.csv",
        "synthAnomaly/jump.csv",
        "synthAnomaly/spike.csv",
        "synthNoAnomaly/plain.csv",
    ]
    standard = report.profiles["standard"]
    assert standard.detected >= 3, report.text()
    assert standard.score > 50
    assert set(report.profiles) == set(nab_scoring.PROFILES)
    # the per-file outcomes at the corpus threshold add up to the corpus raw score
    for name, p in report.profiles.items():
        assert sum(f.outcomes[name].raw for f in report.files) == pytest.approx(p.raw)

    written = out / "novelty" / "synthAnomaly" / "novelty_spike.csv"
    with written.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["timestamp", "value", "anomaly_score", "label"]
    assert len(rows) == ROWS + 1
    assert rows[1][0] == _stamp(0)
    labels = np.array([int(r[3]) for r in rows[1:]])
    scores = np.array([float(r[2]) for r in rows[1:]])
    assert labels.sum() == 2 * (2 * (int(0.1 * ROWS / 2) // 2) + 1)
    assert labels[1200] == 1 and labels[0] == 0
    assert ((scores >= 0) & (scores <= 1)).all()
    assert (out / "novelty" / "synthNoAnomaly" / "novelty_plain.csv").is_file()


def test_written_scores_rescore_to_the_reported_figures(tmp_path: Path) -> None:
    data, windows = make_corpus(tmp_path)
    out = tmp_path / "results"
    report = nab.evaluate(data=data, windows=windows, method="band", results_out=out)
    labels = nab.read_windows(windows)
    sweeps, scores = [], []
    for f in report.files:
        category, file = f.name.split("/")
        series = nab.read_series(data / f.name, name=f.name)
        sweeps.append(
            nab_scoring.sweep(f.rows, nab.window_rows(series, labels[f.name], source=windows))
        )
        with (out / "band" / category / f"band_{file}").open(encoding="utf-8") as fh:
            scores.append(np.array([float(r["anomaly_score"]) for r in csv.DictReader(fh)]))
    costs = nab_scoring.PROFILES["standard"]
    threshold, raw = nab_scoring.threshold_curve(sweeps, scores, costs).best()
    assert threshold == report.profiles["standard"].threshold
    assert raw == pytest.approx(report.profiles["standard"].raw)


def test_cli_prints_json_and_writes_results(tmp_path: Path) -> None:
    data, windows = make_corpus(tmp_path)
    out = tmp_path / "results"
    args = ["warn", "evaluate", "nab", "--data", str(data), "--windows", str(windows)]
    result = runner.invoke(app, [*args, "--results-out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.output)
    assert doc["method"] == nab.DEFAULT_METHOD
    assert set(doc["profiles"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert 0 < doc["profiles"]["standard"]["score"] <= 100
    assert len(doc["per_file"]) == 4
    assert doc["per_file"][0]["profiles"]["standard"]["tp"] >= 0
    assert (out / nab.DEFAULT_METHOD / "synthAnomaly").is_dir()
    text = runner.invoke(app, [*args, "--method", "band"])
    assert text.exit_code == 0, text.output
    assert "reward_low_FN_rate" in text.output and "synthAnomaly/jump.csv" in text.output


def test_cli_refuses_an_unknown_method_listing_the_known_ones(tmp_path: Path) -> None:
    data, windows = make_corpus(tmp_path)
    args = ["warn", "evaluate", "nab", "--data", str(data), "--windows", str(windows)]
    result = runner.invoke(app, [*args, "--method", "htm"])
    assert result.exit_code == 2
    assert "htm" in result.output and "novelty" in result.output and "band" in result.output


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda text: text.replace("timestamp,value", "time,value", 1), "missing column timestamp"),
        (lambda text: text.replace("2014-04-01 00:10:00", "2014-04-01 0x:10:00"), "bad timestamp"),
        (lambda text: text.replace(",50.", ",fifty", 1), "bad value"),
    ],
    ids=["missing column", "bad timestamp", "bad value"],
)
def test_cli_names_the_bad_file_and_exits_2(tmp_path: Path, damage: object, message: str) -> None:
    data, windows = make_corpus(tmp_path)
    bad = data / "synthAnomaly" / "jump.csv"
    assert callable(damage)
    bad.write_text(damage(bad.read_text(encoding="utf-8")), encoding="utf-8")
    args = ["warn", "evaluate", "nab", "--data", str(data), "--windows", str(windows)]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "jump.csv" in result.output and message in result.output


def test_a_data_file_without_windows_is_an_error(tmp_path: Path) -> None:
    data, windows = make_corpus(tmp_path)
    _write(data / "synthAnomaly", "extra.csv", np.zeros(500))
    with pytest.raises(DatasetError, match=r"no windows for synthAnomaly/extra\.csv"):
        nab.evaluate(data=data, windows=windows, method="band", results_out=None)


def test_malformed_windows_file_is_an_error(tmp_path: Path) -> None:
    data, windows = make_corpus(tmp_path)
    windows.write_text('{"synthAnomaly/jump.csv": [["2014-04-01 00:00:00"]]}', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"combined_windows\.json"):
        nab.evaluate(data=data, windows=windows, method="band", results_out=None)


def test_windows_match_rows_like_nab_with_repeated_and_backward_stamps(tmp_path: Path) -> None:
    stamps = [
        "2014-01-01 00:00:00",
        "2014-01-01 00:05:00",
        "2014-01-01 00:05:00",
        "2014-01-01 00:10:00",
        "2014-01-01 00:00:00",
        "2014-01-01 00:15:00",
    ]
    path = tmp_path / "c" / "f.csv"
    path.parent.mkdir()
    path.write_text("timestamp,value\n" + "".join(f"{s},1\n" for s in stamps), encoding="utf-8")
    series = nab.read_series(path, name="c/f.csv")
    spans = nab.read_windows(_json(tmp_path, [["2014-01-01 00:05:00", "2014-01-01 00:10:00"]]))
    assert nab.window_rows(series, spans["c/f.csv"], source=path) == [(1, 3)]


def _json(root: Path, spans: list[list[str]]) -> Path:
    path = root / "w.json"
    path.write_text(json.dumps({"c/f.csv": spans}), encoding="utf-8")
    return path


def _published(root: Path, detector: str, profile: str) -> dict[str, dict[str, str]]:
    path = root / "results" / detector / f"{detector}_{profile}_scores.csv"
    with path.open(encoding="utf-8") as f:
        return {r["File"]: r for r in csv.DictReader(f) if r["File"].startswith("realKnownCause/")}


def test_windows_and_probation_match_numentas_published_row_counts(benchmark_data: Path) -> None:
    root = benchmark_data / "nab"
    labels = nab.read_windows(root / "labels" / "combined_windows_realKnownCause.json")
    published = _published(root, "numenta", "standard")
    null = _published(root, "null", "standard")
    assert len(published) == 7
    for name, spans in labels.items():
        series = nab.read_series(root / "data" / name, name=name)
        s = nab_scoring.sweep(len(series.values), nab.window_rows(series, spans, source=root))
        row = published[name]
        assert len(s) == int(row["Total_Count"])
        inside = int(np.count_nonzero(s.scored & (s.window >= 0)))
        outside = int(np.count_nonzero(s.scored & (s.window < 0)))
        assert inside == int(row["TP"]) + int(row["FN"]), name
        assert outside == int(row["TN"]) + int(row["FP"]), name
        # the null detector's published score: every window missed
        never = nab_scoring.outcome(
            s, np.zeros(len(s)), nab_scoring.NO_DETECTION, nab_scoring.PROFILES["standard"]
        )
        assert never.raw == pytest.approx(float(null[name]["Score"]))


def test_normalisation_reproduces_the_derived_subset_scores(benchmark_data: Path) -> None:
    root = benchmark_data / "nab" / "results"
    derived = json.loads((root / "realKnownCause_subset_scores.DERIVED.json").read_text())
    for detector, profiles in derived["scores"].items():
        for profile, expected in profiles.items():
            raw = sum(
                float(r["Score"]) for r in _published(root.parent, detector, profile).values()
            )
            costs = nab_scoring.PROFILES[profile]
            got = nab_scoring.normalised(raw, windows=derived["n_windows"], costs=costs)
            assert got == pytest.approx(expected, abs=0.01), (detector, profile)


def test_novelty_beats_numenta_htm_on_the_development_subset(
    benchmark_data: Path, tmp_path: Path
) -> None:
    root = benchmark_data / "nab"
    report = nab.evaluate(
        data=root / "data",
        windows=root / "labels" / "combined_windows_realKnownCause.json",
        method="novelty",
        results_out=tmp_path,
    )
    assert report.windows == 19 and len(report.files) == 7
    derived = json.loads(
        (root / "results" / "realKnownCause_subset_scores.DERIVED.json").read_text()
    )
    htm = derived["scores"]["numenta"]["standard"]
    assert report.profiles["standard"].score > htm
    assert len(list((tmp_path / "novelty" / "realKnownCause").glob("novelty_*.csv"))) == 7


def test_scorer_gives_0_to_silence_and_100_to_perfection_on_the_subset(
    benchmark_data: Path,
) -> None:
    root = benchmark_data / "nab"
    labels = nab.read_windows(root / "labels" / "combined_windows_realKnownCause.json")
    sweeps, silent, perfect = [], [], []
    for name, spans in labels.items():
        series = nab.read_series(root / "data" / name, name=name)
        bounds = nab.window_rows(series, spans, source=root)
        sweeps.append(nab_scoring.sweep(len(series.values), bounds))
        silent.append(np.zeros(len(series.values)))
        hits = np.zeros(len(series.values))
        hits[[first for first, _ in bounds]] = 1.0
        perfect.append(hits)
    assert sum(s.windows for s in sweeps) == 19
    for costs in nab_scoring.PROFILES.values():
        for scores, expected in ((silent, 0.0), (perfect, 100.0)):
            _, raw = nab_scoring.threshold_curve(sweeps, scores, costs).best()
            assert nab_scoring.normalised(raw, windows=19, costs=costs) == pytest.approx(expected)
