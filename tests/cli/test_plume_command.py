"""``hazwatch plume``: its JSON contract, its table and its refusals."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from hazwatch.cli import app

runner = CliRunner()
BASE = ["plume", "--chemical", "chlorine", "--rate-g-s", "1000", "--wind-m-s", "2",
        "--stability", "F"]  # fmt: skip


def _json(*extra: str) -> dict[str, Any]:
    result = runner.invoke(app, [*BASE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = orjson.loads(result.stdout)
    return report


def test_json_echoes_inputs_and_uses_the_default_distances() -> None:
    report = _json()
    assert {"chemical", "rate_g_s", "wind_m_s", "stability", "height_m", "centerline",
            "thresholds"} <= set(report)  # fmt: skip
    assert (report["chemical"], report["rate_g_s"], report["wind_m_s"]) == ("chlorine", 1000, 2)
    assert (report["stability"], report["height_m"]) == ("F", 0)
    assert [row["distance_m"] for row in report["centerline"]] == [100, 200, 500, 1000, 2000, 5000]
    assert all(set(row) == {"distance_m", "mg_m3", "ppm"} for row in report["centerline"])


def test_json_figures_match_the_reference_vectors() -> None:
    # Standards §6.3: 1000 g/s, 2 m/s, class F → 339.06 mg/m³ (116.9 ppm Cl₂) at 1 km.
    rows = {row["distance_m"]: row for row in _json()["centerline"]}
    assert rows[1000]["mg_m3"] == pytest.approx(339.06, rel=0.01)
    assert rows[1000]["ppm"] == pytest.approx(116.9, rel=0.01)
    assert rows[2000]["mg_m3"] == pytest.approx(108.97, rel=0.01)


def test_json_lists_every_threshold_with_its_distance() -> None:
    thresholds = {t["name"]: t for t in _json()["thresholds"]}
    assert set(thresholds) == {"AEGL-1", "AEGL-2", "AEGL-3", "ERPG-1", "ERPG-2", "ERPG-3", "IDLH"}
    idlh, aegl3 = thresholds["IDLH"], thresholds["AEGL-3"]
    assert idlh["ppm"] == 10
    # The centreline is 37.6 ppm at 2 km and 10.5 ppm at 5 km (standards §6.3 vectors and the
    # table above): AEGL-3 (20 ppm) is reached between them, IDLH (10 ppm) beyond 5 km.
    assert 2000 < aegl3["distance_m"] < 5000 < idlh["distance_m"] < 10_000
    assert thresholds["AEGL-1"]["beyond_range"] is True


def test_custom_distances_and_an_unreached_threshold() -> None:
    report = _json("--distances-m", "300,700", "--rate-g-s", "0.001")
    assert [row["distance_m"] for row in report["centerline"]] == [300, 700]
    assert all(t["distance_m"] is None for t in report["thresholds"] if t["ppm"] >= 10)


def test_distances_beyond_validity_are_computed_with_a_warning() -> None:
    result = runner.invoke(app, [*BASE, "--distances-m", "50,20000", "--json"])
    assert result.exit_code == 0, result.output
    assert "validity" in result.stderr
    assert [row["distance_m"] for row in orjson.loads(result.stdout)["centerline"]] == [50, 20000]


def test_table_output_is_readable() -> None:
    result = runner.invoke(app, [*BASE, "--height-m", "10"])
    assert result.exit_code == 0, result.output
    assert "chlorine" in result.stdout
    assert "AEGL-2" in result.stdout
    assert "mg/m3" in result.stdout


def _with(option: str, value: str) -> list[str]:
    args = list(BASE)
    if option in args:
        args[args.index(option) + 1] = value
    else:
        args += [option, value]
    return args


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--chemical", "phosgene", "known: chlorine"),
        ("--stability", "G", "stability"),
        ("--rate-g-s", "-5", "rate"),
        ("--wind-m-s", "0", "wind"),
        ("--distances-m", "100,abc", "distances"),
        ("--distances-m", "100,-5", "distances"),
        ("--height-m", "-1", "height"),
    ],
)
def test_bad_input_exits_2_with_a_message(option: str, value: str, words: str) -> None:
    result = runner.invoke(app, _with(option, value))
    assert result.exit_code == 2
    assert words in result.stderr
