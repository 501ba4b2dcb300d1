"""TEP reader, evaluation protocol, published PCA figures and the ``warn evaluate tep`` CLI."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from hazwatch.datasets import tep
from hazwatch.datasets.errors import DatasetError

DEVELOPMENT_FAULTS = (1, 2, 4, 5, 6, 7)


def _write(path: Path, data: np.ndarray) -> Path:
    np.savetxt(path, data, fmt="%.6e")
    return path


def _synthetic_run(rng: np.random.Generator, n: int, fault_from: int | None = None) -> np.ndarray:
    mixing = np.random.default_rng(0).normal(size=(4, 52))
    run: np.ndarray = rng.normal(size=(n, 4)) @ mixing + 0.5 * rng.normal(size=(n, 52))
    if fault_from is not None:
        run[fault_from:, 3] += 5.0  # ten noise standard deviations on XMEAS(4)
    return run


# --- reader -----------------------------------------------------------------------------


def test_transposed_training_file_is_detected_by_shape(tmp_path: Path) -> None:
    data = np.random.default_rng(1).normal(size=(500, 52))
    read = tep.read(_write(tmp_path / "d00.dat", data.T))
    assert read.shape == (500, 52)
    assert np.allclose(read, data, rtol=1e-6)


def test_wrong_column_count_names_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.dat", np.zeros((960, 51)))
    with pytest.raises(DatasetError, match=r"bad\.dat.*52 columns"):
        tep.read(path)


def test_non_numeric_value_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "text.dat"
    path.write_text("1.0 " * 52 + "\n" + "1.0 " * 51 + "oops\n")
    with pytest.raises(DatasetError, match=r"text\.dat: line 2, column 52 \('oops'\) is not a"):
        tep.read(path)


def test_ragged_rows_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ragged.dat"
    path.write_text("1.0 " * 52 + "\n" + "1.0 " * 50 + "\n")
    with pytest.raises(DatasetError, match=r"ragged\.dat: line 2 has 50 values"):
        tep.read(path)


# --- protocol -----------------------------------------------------------------------------


def test_delay_is_the_first_of_three_consecutive_flags_after_onset() -> None:
    flagged = np.zeros(300, dtype=np.bool_)
    flagged[150:153] = True  # before the fault: not a detection
    flagged[170:172] = True  # only two in a row
    flagged[180:183] = True
    assert tep.delay(flagged) == 20
    flagged[160:163] = True
    assert tep.delay(flagged) == 0
    assert tep.delay(np.zeros(300, dtype=np.bool_)) is None


def test_evaluate_any_folder_in_the_format(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    train = _write(tmp_path / "d00.dat", _synthetic_run(rng, 500).T)
    normal = _write(tmp_path / "d00_te.dat", _synthetic_run(rng, 960))
    fault = _write(tmp_path / "d99_te.dat", _synthetic_run(rng, 960, fault_from=160))
    report = tep.evaluate(train=train, tests=[normal, fault], method="pca")
    assert report.normal_file == "d00_te.dat"
    assert report.false_alarm_rate is not None and report.false_alarm_rate < 0.1
    [result] = report.files
    assert result.file == "d99_te.dat"
    assert result.detection_rate > 0.95
    assert result.delay_samples == 0


def test_unknown_method_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="known: cva, dpca, pca"):
        tep.evaluate(train=tmp_path / "x", tests=[tmp_path / "y"], method="svm")


def test_default_method_is_registered() -> None:
    assert tep.DEFAULT_METHOD in tep.METHODS


# --- published figures ------------------------------------------------------------------


def _reference(data: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((data / "tep" / "reference_results.json").read_text())
    return loaded


@cache  # each method runs once per test run; the reports are immutable
def _run(data: Path, method: str) -> tep.TepReport:
    tests = [data / "tep" / "test" / "d00_te.dat"]
    tests += [data / "tep" / "test" / f"d{f:02d}_te.dat" for f in DEVELOPMENT_FAULTS]
    return tep.evaluate(train=data / "tep" / "train" / "d00.dat", tests=tests, method=method)


def test_pca_reproduces_yin_2012(benchmark_data: Path) -> None:
    published = _reference(benchmark_data)["published"]
    assert isinstance(published, dict)
    fdr = published["PCA_k9_FDR_percent_Table4"]
    report = _run(benchmark_data, "pca")
    for fault, result in zip(DEVELOPMENT_FAULTS, report.files, strict=True):
        assert result.file == f"d{fault:02d}_te.dat"
        assert 100 * result.detection_rate == pytest.approx(fdr[str(fault)], abs=1.0)
    assert report.false_alarm_rate is not None
    assert 100 * report.false_alarm_rate == pytest.approx(
        published["PCA_k9_FAR_percent_Table5"], abs=1.0
    )


@pytest.mark.slow
def test_default_method_beats_pca(benchmark_data: Path) -> None:
    pca = _run(benchmark_data, "pca")
    best = _run(benchmark_data, tep.DEFAULT_METHOD)
    assert best.false_alarm_rate is not None and pca.false_alarm_rate is not None
    assert best.false_alarm_rate <= 0.05
    assert best.false_alarm_rate < pca.false_alarm_rate
    assert best.mean_detection_rate is not None and pca.mean_detection_rate is not None
    assert best.mean_detection_rate > pca.mean_detection_rate


# --- command line -------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_prints_the_figures_as_json(benchmark_data: Path) -> None:
    from typer.testing import CliRunner

    from hazwatch.cli import app

    folder = benchmark_data / "tep"
    args = ["warn", "evaluate", "tep", "--train", str(folder / "train" / "d00.dat")]
    for name in ("d00_te.dat", "d01_te.dat", "d05_te.dat"):
        args += ["--test", str(folder / "test" / name)]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.stdout)
    assert figures["method"] == tep.DEFAULT_METHOD
    assert 0 <= figures["false_alarm_rate"] <= 1
    assert [f["file"] for f in figures["files"]] == ["d01_te.dat", "d05_te.dat"]
    assert set(figures["files"][0]) >= {"file", "detection_rate", "delay_samples"}


def test_cli_bad_file_exits_2_naming_it(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hazwatch.cli import app

    train = _write(tmp_path / "d00.dat", np.random.default_rng(2).normal(size=(52, 500)))
    bad = _write(tmp_path / "short.dat", np.zeros((960, 40)))
    result = CliRunner().invoke(
        app, ["warn", "evaluate", "tep", "--train", str(train), "--test", str(bad)]
    )
    assert result.exit_code == 2
    assert "short.dat" in result.output
