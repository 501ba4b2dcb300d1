"""Connector lists from YAML: every problem reported at once, each naming its field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hazwatch.connectors.config_file import ConnectorConfigError, load_connectors


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "connectors.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_entries_are_validated_by_their_family(tmp_path: Path, fake_family: Any) -> None:
    path = write(
        tmp_path,
        "connectors:\n"
        "  - {kind: fake, name: a, equipment: lpg.main.farm.gw-1, port: 1883}\n"
        "  - {kind: fake, name: b}\n",
    )
    entries = load_connectors(path)
    assert [(e.name, e.kind, e.equipment) for e in entries] == [
        ("a", "fake", "lpg.main.farm.gw-1"),
        ("b", "fake", None),
    ]
    assert entries[0].config.port == 1883  # type: ignore[attr-defined]


def test_every_problem_names_the_entry_and_field(tmp_path: Path, fake_family: Any) -> None:
    path = write(
        tmp_path,
        "connectors:\n"
        "  - {kind: fake, name: a, port: 70000}\n"
        "  - {kind: opcx, name: b}\n"
        "  - {kind: fake, name: c, equipment: not-a-key, colour: red}\n"
        "  - {kind: fake, name: a}\n"
        "  - just text\n",
    )
    with pytest.raises(ConnectorConfigError) as caught:
        load_connectors(path)
    problems = caught.value.problems
    assert any(p.startswith("connectors[0] (a).port:") and "65535" in p for p in problems)
    assert any(p.startswith("connectors[1] (b).kind:") and "opcx" in p for p in problems)
    assert any(p.startswith("connectors[2] (c).equipment:") for p in problems)
    assert any(p.startswith("connectors[2] (c).colour:") for p in problems)
    assert any(p.startswith("connectors[3] (a).name:") and "already" in p for p in problems)
    assert any(p.startswith("connectors[4]:") for p in problems)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [("connectors: {kind: fake}\n", "expected a list"), ("[1, 2]\n", "mapping"), (": :\n", "YAML")],
)
def test_unusable_files_say_why(tmp_path: Path, text: str, fragment: str) -> None:
    with pytest.raises(ConnectorConfigError, match=fragment):
        load_connectors(write(tmp_path, text))


def test_a_plant_file_without_connectors_has_none(tmp_path: Path) -> None:
    assert load_connectors(write(tmp_path, "region: r\nparks: []\n")) == []
