"""``hazwatch broker``: device accounts and topic rights managed from the command line."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from hazwatch.cli import app

runner = CliRunner()
ADMIN = ("hazwatch-admin", "admin-secret")  # the secure broker's administrator
DEVICE = "lpg.main.sphere-farm.plc-9"


def broker_args(broker: Any) -> list[str]:
    return ["--port", str(broker.port), "--admin-user", ADMIN[0], "--admin-password", ADMIN[1]]


def test_a_device_added_on_the_command_line_publishes_only_into_its_enterprise(
    secure_broker: Any, kit: Any
) -> None:
    added = runner.invoke(app, ["broker", "device-add", DEVICE, *broker_args(secure_broker)])
    assert added.exit_code == 0, added.output
    found = re.search(r"password: (\S+)", added.output)
    assert found is not None, added.output
    listed = runner.invoke(app, ["broker", "devices", *broker_args(secure_broker)])
    assert f"{DEVICE}  lpg" in listed.output

    login = {"username": DEVICE, "password": found.group(1)}
    own = ("hazwatch/v1/lpg/main", kit.single("lpg.main.sphere-farm.tk-1.level", 1.0))
    foreign = ("hazwatch/v1/acme/main", kit.single("acme.main.farm.tk-1.level", 2.0))
    codes = kit.publish_all(secure_broker.host, secure_broker.port, [own, foreign], **login)
    assert [code.is_failure for code in codes] == [False, True]

    removed = runner.invoke(app, ["broker", "device-remove", DEVICE, *broker_args(secure_broker)])
    assert removed.exit_code == 0, removed.output
    listed = runner.invoke(app, ["broker", "devices", *broker_args(secure_broker)])
    assert DEVICE not in listed.output


def test_a_wrong_administrator_password_is_a_clear_error(secure_broker: Any) -> None:
    args = ["--port", str(secure_broker.port), "--admin-user", ADMIN[0]]
    result = runner.invoke(app, ["broker", "devices", *args, "--admin-password", "wrong"])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_init_writes_the_plugins_first_configuration(tmp_path: Path) -> None:
    target = tmp_path / "dynamic-security.json"
    result = runner.invoke(app, ["broker", "init", str(target), "--admin-user", "root-admin"])
    assert result.exit_code == 0, result.output
    assert "password:" in result.output
    config = json.loads(target.read_text())
    assert [c["username"] for c in config["clients"]] == ["root-admin"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    again = runner.invoke(app, ["broker", "init", str(target)])
    assert again.exit_code == 2 and "exists" in again.output
