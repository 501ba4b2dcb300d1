from __future__ import annotations

from pathlib import Path

import pytest

from hazwatch.domain.warning import Colour
from hazwatch.settings import ConfigError, Settings, load_settings
from hazwatch.warn.escalation import DEFAULT_POLICY, AgreementRule, PersistRule


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
        ("warnings:\n  escalation:\n    - {name: x, after_min: 5}\n", "warnings.escalation.0"),
        ("warnings:\n  confidence: 1.5\n", "warnings.confidence"),
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


def test_escalation_rules_and_the_trend_are_set_in_the_settings_file(tmp_path: Path) -> None:
    assert Settings().warnings.policy() == DEFAULT_POLICY
    path = tmp_path / "hazwatch.yaml"
    path.write_text(
        "warnings:\n"
        "  trend_period_s: 60\n"
        "  horizon_min: 30\n"
        "  escalation:\n"
        "    - {kind: persist, name: unanswered-15min, after_min: 15, ceiling: orange}\n"
        "    - {kind: agreement, name: three-agree, detectors: 3, window_min: 5}\n"
    )
    warnings = load_settings(path).warnings
    persist, agreement = warnings.policy().rules
    assert isinstance(persist, PersistRule) and persist.after_ms == 15 * 60_000
    assert persist.ceiling is Colour.ORANGE
    assert isinstance(agreement, AgreementRule) and agreement.detectors == 3
    assert agreement.window_ms == 5 * 60_000
    watch = warnings.trend()
    assert watch.period_ms == 60_000 and watch.forecaster.horizon_s == 1800
