"""The command line as an administrator uses it, on each database backend."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from hazwatch.cli import app
from hazwatch.connectors.simulator.demo import demo_plant_text
from hazwatch.plant.file import parse_plant
from hazwatch.storage.database import Database
from hazwatch.storage.user_repository import UserRepository

runner = CliRunner()


def _db_args(database_url: str) -> list[str]:
    return ["--database-url", database_url]


def test_plant_import_then_export_round_trips(database_url: str, tmp_path: Path) -> None:
    plant = tmp_path / "park.yaml"
    plant.write_text(demo_plant_text(), encoding="utf-8")
    first = runner.invoke(app, ["plant", "import", str(plant), *_db_args(database_url)])
    assert first.exit_code == 0, first.output
    assert "tags created" in first.output

    exported = runner.invoke(app, ["plant", "export", *_db_args(database_url)])
    assert exported.exit_code == 0, exported.output
    assert parse_plant(exported.output, source="export") == parse_plant(
        demo_plant_text(), source="demo"
    )

    again = runner.invoke(app, ["plant", "import", str(plant), *_db_args(database_url)])
    assert again.exit_code == 0
    assert "nothing changed" in again.output


def test_a_bad_plant_file_names_the_file_and_the_place(database_url: str, tmp_path: Path) -> None:
    text = demo_plant_text().replace("value: 90", "value: 900", 1)
    assert text != demo_plant_text()
    plant = tmp_path / "bad.yaml"
    plant.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["plant", "import", str(plant), *_db_args(database_url)])
    assert result.exit_code == 2
    assert "bad.yaml" in result.output
    assert "limits.HH" in result.output


def test_user_add_binds_a_role_to_a_scope(database_url: str, tmp_path: Path) -> None:
    plant = tmp_path / "park.yaml"
    plant.write_text(demo_plant_text(), encoding="utf-8")
    assert (
        runner.invoke(app, ["plant", "import", str(plant), *_db_args(database_url)]).exit_code == 0
    )
    spec = parse_plant(demo_plant_text(), source="demo")
    enterprise = spec.parks[0].enterprises[0].key
    scope = f"{spec.region}/{spec.parks[0].key}/{enterprise}"

    added = runner.invoke(
        app,
        [
            "user",
            "add",
            "li.wei",
            "--role",
            "operator",
            "--scope",
            scope,
            "--password",
            "long-enough-pw",
            *_db_args(database_url),
        ],
    )
    assert added.exit_code == 0, added.output
    weak = runner.invoke(app, ["user", "add", "x", "--password", "short", *_db_args(database_url)])
    assert weak.exit_code == 2 and "at least" in weak.output
    nowhere = runner.invoke(
        app,
        [
            "user",
            "add",
            "y",
            "--scope",
            "no/such",
            "--password",
            "long-enough-pw",
            *_db_args(database_url),
        ],
    )
    assert nowhere.exit_code == 2 and "no scope node" in nowhere.output
    twice = runner.invoke(
        app,
        ["user", "add", "li.wei", "--password", "long-enough-pw", *_db_args(database_url)],
    )
    assert twice.exit_code == 2 and "exists" in twice.output

    with Database.open(database_url) as db:
        user = UserRepository(db).get("li.wei")
    assert user is not None
    assert [(b.role.value, b.scope_path.count("/")) for b in user.bindings] == [("operator", 4)]


def test_db_upgrade_is_repeatable(database_url: str) -> None:
    for _ in range(2):
        result = runner.invoke(app, ["db", "upgrade", *_db_args(database_url)])
        assert result.exit_code == 0, result.output
