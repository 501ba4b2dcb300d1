"""``hazwatch evaluate gb18218 FILE``: its JSON contract, its table and its refusals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from hazwatch.cli import app

runner = CliRunner()

ISSUE_EXAMPLE = """\
installations:
  - id: tank-farm-1
    people_within_500m: 120        # gives α (Table 5)
    inventory:
      - chemical: 氯                # a Table 1 name (Chinese or English) ...
        tonnes: 30
      - cas: 7664-41-7              # ... or its CAS number ...
        tonnes: 50
      - name: solvent blend         # ... or an unlisted substance by Table 2 category
        category: W5.3
        tonnes: 800
  - id: gas-station
    people_within_500m: 0
    inventory:
      - {chemical: gasoline, volume_m3: 40, density_t_per_m3: 0.74, fill_ratio: 0.9}
"""


def _write(tmp_path: Path, text: str, name: str = "plant.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _json(path: Path, *extra: str) -> dict[str, Any]:
    result = runner.invoke(app, ["evaluate", "gb18218", str(path), "--json", *extra])
    assert result.exit_code == 0, result.output
    out: dict[str, Any] = orjson.loads(result.stdout)
    return out


def test_json_answers_per_installation(tmp_path: Path) -> None:
    out = _json(_write(tmp_path, ISSUE_EXAMPLE))
    assert out["standard"] == "GB 18218-2018"
    farm, station = out["installations"]
    assert {"id", "S", "R", "alpha", "major_hazard", "grade", "items"} <= set(farm)
    # 氯 30/5 = 6 (β 4), 氨 50/10 = 5 (β 2), blend 800/1000 = 0.8 (β 1); α = 2 (≥ 100 people)
    # S = 11.8; R = 2 × (24 + 10 + 0.8) = 69.6 → grade II
    assert (farm["id"], farm["S"], farm["alpha"], farm["R"]) == ("tank-farm-1", 11.8, 2.0, 69.6)
    assert (farm["major_hazard"], farm["grade"]) == (True, "II")
    assert [(i["q"], i["Q"], i["beta"], i["basis"]) for i in farm["items"]] == [
        (30, 5, 4, "table1"), (50, 10, 2, "table1"), (800, 1000, 1, "table2:W5.3"),
    ]  # fmt: skip
    assert (station["id"], station["S"], station["major_hazard"], station["grade"]) == (
        "gas-station", 0.1332, False, None,
    )  # fmt: skip


def test_json_document_and_fill_ratio_option(tmp_path: Path) -> None:
    document = {"installations": [{"id": "t", "people_within_500m": 5, "inventory": [
        {"chemical": "甲醇", "volume_m3": 1000, "density_t_per_m3": 0.79}]}]}  # fmt: skip
    path = _write(tmp_path, orjson.dumps(document).decode(), "plant.json")
    (whole,) = _json(path)["installations"]
    (part,) = _json(path, "--fill-ratio", "0.5")["installations"]
    assert (whole["items"][0]["q"], part["items"][0]["q"]) == (790, 395)
    assert (whole["S"], part["S"]) == (1.58, 0.79)


def test_table_output_reads_as_a_report(tmp_path: Path) -> None:
    result = runner.invoke(app, ["evaluate", "gb18218", str(_write(tmp_path, ISSUE_EXAMPLE))])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "tank-farm-1: MAJOR HAZARD, grade II (二级)" in text
    assert "S = 11.8   R = 69.6   α = 2 (120 people within 500 m)" in text
    assert "gas-station: not a major hazard" in text
    assert "table2:W5.3 / table4:W5.3" in text
    assert "40 m³ × 0.74 t/m³ × 0.9" in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("installations:\n  - id: a\n    people_within_500m: 1\n    inventory:\n"
         "      - {chemical: unobtainium, tonnes: 1}\n",
         "installations[0] (a).inventory[0] (unobtainium).chemical: "),
        ("installations:\n  - id: a\n    people_within_500m: 1\n    inventory:\n"
         "      - {name: blend, category: W5.9, tonnes: 1}\n",
         "installations[0] (a).inventory[0] (blend).category: unknown category 'W5.9'"),
        ("installations:\n  - id: a\n    people_within_500m: 1\n    inventory:\n"
         "      - {chemical: 氯, tonnes: -2}\n",
         "installations[0] (a).inventory[0] (氯).tonnes: "),
        ("installations:\n  - id: a\n    inventory: []\n",
         "installations[0] (a).people_within_500m: Field required"),
        ("installations:\n  - id: a\n    id: b\n    people_within_500m: 1\n    inventory: []\n",
         "line 3: key 'id' appears twice"),
        ("installations: [\n", "not valid YAML or JSON"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    result = runner.invoke(app, ["evaluate", "gb18218", str(_write(tmp_path, text)), "--json"])
    assert result.exit_code == 2
    assert message in result.stderr
    assert result.stdout == ""


def test_missing_file_and_bad_fill_ratio_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["evaluate", "gb18218", str(tmp_path / "none.yaml")])
    assert missing.exit_code == 2
    assert "cannot read" in missing.stderr
    path = _write(tmp_path, ISSUE_EXAMPLE)
    bad = runner.invoke(app, ["evaluate", "gb18218", str(path), "--fill-ratio", "1.5"])
    assert bad.exit_code == 2
    assert "--fill-ratio" in bad.stderr
