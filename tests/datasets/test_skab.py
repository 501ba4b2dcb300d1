"""SKAB folder reader, outlier-detection metrics, evaluation protocol and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from hazwatch.cli import app
from hazwatch.datasets import skab
from hazwatch.datasets.errors import DatasetError

HEADER = ";".join(["datetime", *skab.SIGNALS, "anomaly", "changepoint"])
LEVELS = np.array([0.03, 0.04, 1.3, 0.2, 70.0, 25.0, 230.0, 32.0])
NOISE = np.array([0.002, 0.003, 0.3, 0.3, 0.2, 0.05, 10.0, 0.5])
FLOW = skab.SIGNALS.index("Volume Flow RateRMS")


def _experiment(seed: int, rows: int = 1100, fault: tuple[int, int] = (580, 900)) -> str:
    """A SKAB-like run: noise around an operating point, the flow down 3 sigma in ``fault``."""
    rng = np.random.default_rng(seed)
    signals = LEVELS + NOISE * rng.normal(size=(rows, len(LEVELS)))
    label = np.zeros(rows)
    label[fault[0] : fault[1]] = 1.0
    signals[fault[0] : fault[1], FLOW] -= 3 * NOISE[FLOW]
    changepoint = np.zeros(rows)
    changepoint[[fault[0], fault[1]]] = 1.0
    lines = [HEADER]
    for i in range(rows):
        stamp = f"2020-03-09 10:{i // 60 % 60:02d}:{i % 60:02d}"
        values = ";".join(f"{v:.6g}" for v in signals[i])
        lines.append(f"{stamp};{values};{label[i]:.1f};{changepoint[i]:.1f}")
    return "\n".join(lines) + "\n"


def _folder(root: Path, names: tuple[str, ...] = ("valve1/0.csv", "other/1.csv")) -> Path:
    for seed, name in enumerate(names):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_experiment(seed))
    free = root / "anomaly-free" / "anomaly-free.csv"
    free.parent.mkdir(parents=True, exist_ok=True)
    free.write_text(";".join(["datetime", *skab.SIGNALS]) + "\n")  # unused by the protocol
    return root


# --- metrics ------------------------------------------------------------------------------


def test_confusion_counts_and_rates_by_definition() -> None:
    labels = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype=bool)
    flags = np.array([1, 1, 0, 0, 1, 0, 0, 0], dtype=bool)
    c = skab.Confusion.of(labels, flags)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 1, 2, 3)
    assert c.f1 == pytest.approx(2 / (2 + (2 + 1) / 2))
    assert c.far == pytest.approx(1 / 4)
    assert c.mar == pytest.approx(2 / 4)


def test_perfect_and_null_detectors_score_as_on_the_leaderboard() -> None:
    # SKAB's leaderboard rows: perfect detector F1 1, FAR 0, MAR 0; null detector 0, 0, 100 %.
    labels = np.array([0, 0, 1, 1, 1, 0], dtype=bool)
    perfect = skab.Confusion.of(labels, labels)
    null = skab.Confusion.of(labels, np.zeros_like(labels))
    assert (perfect.f1, perfect.far, perfect.mar) == (1.0, 0.0, 0.0)
    assert (null.f1, null.far, null.mar) == (0.0, 0.0, 1.0)


def test_rates_without_a_denominator_are_none() -> None:
    nothing_abnormal = skab.Confusion.of(np.zeros(4, dtype=bool), np.zeros(4, dtype=bool))
    assert nothing_abnormal.f1 is None
    assert nothing_abnormal.mar is None
    assert nothing_abnormal.far == 0.0
    assert skab.Confusion().far is None


def test_counts_are_pooled_over_files_not_rates_averaged() -> None:
    a = skab.Confusion.of(np.array([1, 1, 0, 0], bool), np.array([1, 1, 1, 1], bool))
    b = skab.Confusion.of(np.array([1, 0, 0, 0, 0, 0], bool), np.array([0, 0, 0, 0, 0, 0], bool))
    pooled = a + b
    whole = skab.Confusion.of(
        np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0], bool),
        np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool),
    )
    assert pooled == whole
    assert pooled.far == pytest.approx(2 / 7)
    assert a.far is not None and b.far is not None
    assert pooled.far != pytest.approx((a.far + b.far) / 2)


def test_confusion_refuses_arrays_of_different_shape() -> None:
    with pytest.raises(ValueError, match="shape"):
        skab.Confusion.of(np.zeros(3, bool), np.zeros(4, bool))


# --- folder and files -----------------------------------------------------------------------


def test_experiments_are_found_in_natural_order_without_anomaly_free(tmp_path: Path) -> None:
    root = tmp_path / "data"
    for name in ("valve1/10.csv", "valve1/2.csv", "other/1.csv", "valve2/0.csv"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    (root / "anomaly-free").mkdir()
    (root / "anomaly-free" / "anomaly-free.csv").write_text("")
    names = [name for _, name in skab.experiment_files(root)]
    assert names == ["other/1.csv", "valve1/2.csv", "valve1/10.csv", "valve2/0.csv"]
    # the benchmark root (holding skab/data) and the SKAB checkout (holding data/) work too
    assert [n for _, n in skab.experiment_files(tmp_path)] == names
    nested = tmp_path / "bench"
    (nested / "skab").mkdir(parents=True)
    root.rename(nested / "skab" / "data")
    assert [n for _, n in skab.experiment_files(nested)] == names


def test_folder_without_experiments_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no SKAB experiment files"):
        skab.experiment_files(tmp_path)


def test_reader_returns_signals_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "0.csv"
    path.write_text(_experiment(3))
    experiment = skab.read(path, "valve1/0.csv")
    assert experiment.signals.shape == (1100, 8)
    assert experiment.labels.sum() == 320
    assert experiment.labels[580] and not experiment.labels[579]


def test_comma_separated_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "comma.csv"
    path.write_text(_experiment(4).replace(";", ","))
    with pytest.raises(DatasetError, match=r"comma\.csv.*semicolon"):
        skab.read(path, "comma.csv")


def test_missing_label_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nolabel.csv"
    path.write_text(_experiment(5).replace(";anomaly;", ";label;", 1))
    with pytest.raises(DatasetError, match=r"nolabel\.csv.*missing columns anomaly"):
        skab.read(path, "nolabel.csv")


def test_unparsable_row_and_short_file_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    text = _experiment(6).splitlines()
    text[700] = text[700].rsplit(";", 3)[0]  # a truncated row
    bad.write_text("\n".join(text) + "\n")
    with pytest.raises(DatasetError, match=r"bad\.csv.*parse"):
        skab.read(bad, "bad.csv")
    short = tmp_path / "short.csv"
    short.write_text("\n".join(_experiment(7).splitlines()[:401]) + "\n")
    with pytest.raises(DatasetError, match=r"short\.csv.*400 rows"):
        skab.read(short, "short.csv")


# --- protocol -------------------------------------------------------------------------------


def test_evaluation_trains_on_400_rows_and_pools_the_test_parts(tmp_path: Path) -> None:
    report = skab.evaluate(data=_folder(tmp_path), method="ewma")
    assert [f.file for f in report.files] == ["other/1.csv", "valve1/0.csv"]
    for f in report.files:
        assert f.rows == 1100
        c = f.confusion
        assert c.tp + c.fp + c.fn + c.tn == 1100 - skab.TRAIN_ROWS
        assert c.tp + c.fn == 320
        assert f.not_ready == 0
    assert report.confusion == report.files[0].confusion + report.files[1].confusion
    # a 3-sigma flow drop held for 320 samples is found, and normal rows stay quiet
    assert report.confusion.f1 is not None and report.confusion.f1 > 0.9
    assert report.confusion.far is not None and report.confusion.far < 0.05


def test_unknown_method_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="known: cva, dpca, ewma, pca"):
        skab.evaluate(data=_folder(tmp_path), method="lstm")


def test_report_text_has_a_row_per_file_and_the_pooled_row(tmp_path: Path) -> None:
    text = skab.evaluate(data=_folder(tmp_path), method="pca").text()
    assert "valve1/0.csv" in text
    assert "all (pooled)" in text


# --- command line ---------------------------------------------------------------------------


def test_cli_prints_json_with_rates_as_fractions(tmp_path: Path) -> None:
    data = _folder(tmp_path / "skab")
    result = CliRunner().invoke(app, ["warn", "evaluate", "skab", "--data", str(data), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["method"] == skab.DEFAULT_METHOD
    for key in ("f1", "far", "mar"):
        assert 0.0 <= report[key] <= 1.0
    assert [f["file"] for f in report["files"]] == ["other/1.csv", "valve1/0.csv"]
    assert all(f["test_rows"] == 700 for f in report["files"])
    assert report["f1"] > 0.9


def test_cli_runs_the_pca_baseline(tmp_path: Path) -> None:
    data = _folder(tmp_path / "skab")
    args = ["warn", "evaluate", "skab", "--data", str(data), "--method", "pca", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["method"] == "pca"


def test_cli_exits_2_naming_a_bad_file(tmp_path: Path) -> None:
    data = _folder(tmp_path / "skab")
    broken = data / "valve1" / "0.csv"
    broken.write_text(broken.read_text().replace(";", ","))
    result = CliRunner().invoke(app, ["warn", "evaluate", "skab", "--data", str(data)])
    assert result.exit_code == 2
    assert "0.csv" in result.output
    assert "semicolon" in result.output


def test_cli_exits_2_on_an_unknown_method(tmp_path: Path) -> None:
    data = _folder(tmp_path / "skab")
    args = ["warn", "evaluate", "skab", "--data", str(data), "--method", "nope"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert "known: cva, dpca, ewma, pca" in result.output


# --- the real benchmark ---------------------------------------------------------------------


def test_recommended_method_on_skab_bounds_false_alarms_and_beats_pca(
    benchmark_data: Path,
) -> None:
    data = benchmark_data / "skab" / "data"
    recommended = skab.evaluate(data=data, method=skab.DEFAULT_METHOD)
    baseline = skab.evaluate(data=data, method="pca")
    assert len(recommended.files) == 8
    assert all(f.not_ready == 0 for f in recommended.files)
    ours, theirs = recommended.confusion, baseline.confusion
    assert ours.f1 is not None and theirs.f1 is not None and ours.far is not None
    assert ours.far <= 0.15
    assert ours.f1 > theirs.f1
