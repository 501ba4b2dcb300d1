"""``hazwatch connector test``: connect, read a few values, print them; fail on nothing read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hazwatch.cli import app

runner = CliRunner()


def test_prints_what_each_connector_reads(tmp_path: Path, fake_family: Any) -> None:
    config = tmp_path / "connectors.yaml"
    config.write_text(
        "connectors:\n"
        "  - kind: fake\n"
        "    name: tank-plc\n"
        "    devices: [lpg.main.farm.plc-1]\n"
        "    values: {lpg.main.farm.plc-1.level: 61.25, lpg.main.farm.plc-1.pressure: 1.5}\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["connector", "test", str(config), "--count", "2"])
    assert result.exit_code == 0, result.output
    assert "lpg.main.farm.plc-1.level" in result.output and "61.25" in result.output
    assert "lpg.main.farm.plc-1.pressure" in result.output
    assert "device lpg.main.farm.plc-1: online" in result.output
    assert "2 readings, 0 refused" in result.output


def test_nothing_read_is_a_failure(tmp_path: Path, fake_family: Any) -> None:
    config = tmp_path / "connectors.yaml"
    config.write_text("connectors:\n  - {kind: fake, name: silent}\n", encoding="utf-8")
    result = runner.invoke(app, ["connector", "test", str(config), "--timeout", "0.3"])
    assert result.exit_code == 1
    assert "0 readings" in result.output


def test_a_bad_config_names_the_field(tmp_path: Path, fake_family: Any) -> None:
    config = tmp_path / "connectors.yaml"
    config.write_text("connectors:\n  - {kind: fake, name: x, port: 0}\n", encoding="utf-8")
    result = runner.invoke(app, ["connector", "test", str(config)])
    assert result.exit_code == 2
    assert "connectors[0] (x).port" in result.output


def test_an_unknown_name_is_refused(tmp_path: Path, fake_family: Any) -> None:
    config = tmp_path / "connectors.yaml"
    config.write_text("connectors:\n  - {kind: fake, name: x}\n", encoding="utf-8")
    result = runner.invoke(app, ["connector", "test", str(config), "--name", "y"])
    assert result.exit_code == 2
    assert "no connector named 'y'" in result.output
