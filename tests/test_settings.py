from __future__ import annotations

from pathlib import Path

import pytest

from hazwatch.settings import ConfigError, load_settings


def test_a_settings_file_overrides_defaults_and_keyword_overrides_win(tmp_path: Path) -> None:
    path = tmp_path / "hazwatch.yaml"
    path.write_text("port: 9000\nraw_retention_days: 60\nsimulator:\n  speed: 10\n")
    settings = load_settings(path, port=9100, host=None)
    assert settings.port == 9100
    assert settings.host == "127.0.0.1"
    assert settings.raw_retention_ms == 60 * 86_400_000
    assert settings.simulator.speed == 10


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("port: [1\n", "not valid YAML"),
        ("- just\n- a list\n", "mapping"),
        ("prot: 9000\n", "prot"),
        ("raw_retention_days: -1\n", "raw_retention_days"),
        ("simulator:\n  speed: 0\n", "simulator.speed"),
    ],
)
def test_a_bad_settings_file_names_the_file_and_the_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "bad.yaml" in str(info.value)
    assert expected in str(info.value)


def test_the_signing_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"data_dir: {tmp_path / 'data'}\n")
    first = load_settings(path).signing_key()
    assert len(first) > 40
    assert load_settings(path).signing_key() == first
    assert oct((tmp_path / "data" / "secret.key").stat().st_mode)[-3:] == "600"
