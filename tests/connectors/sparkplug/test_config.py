"""Sparkplug connector settings: what is refused, and how the registry finds them."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hazwatch.connectors import registry
from hazwatch.connectors.sparkplug import CONFIG, CONNECTOR, SparkplugConfig, SparkplugConnector

BASE: dict[str, Any] = {
    "kind": "sparkplug",
    "name": "site-a",
    "host": "broker.example",
    "groups": {"Plant 1": "lpg.main.sphere-farm"},
}


def test_defaults() -> None:
    config = SparkplugConfig.model_validate(BASE)
    assert (config.port, config.qos, config.mqtt_version) == (1883, 1, "5")
    assert (config.clean_start, config.session_expiry_s, config.rebirth_on_gap) == (
        False,
        86_400,
        True,
    )
    assert config.mqtt_client_id == "hazwatch-sparkplug-site-a"
    assert config.host_id is None


def test_the_registry_builds_sparkplug() -> None:
    assert CONFIG is SparkplugConfig
    assert CONNECTOR is SparkplugConnector
    config = registry.parse_connector_config(BASE)
    assert isinstance(config, SparkplugConfig)
    assert config.groups == {"Plant 1": "lpg.main.sphere-farm"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"groups": {}}, "at least 1 item"),
        ({"groups": {"a/b": "x.y.z"}}, "group id 'a/b' must be one topic level"),
        ({"groups": {"STATE": "x.y.z"}}, "group id 'STATE' is reserved"),
        ({"groups": {"g": "x.y"}}, "'x.y' is not an installation key prefix"),
        ({"groups": {"g": "X.y.z"}}, "not an installation key prefix"),
        ({"host_id": "a+b"}, "host_id 'a+b' must be one topic level"),
        ({"session_expiry_s": 0}, "session_expiry_s: must be > 0"),
        ({"password": "secret"}, "password: a password needs a username"),
        ({"ca_file": "/ca.pem"}, "ca_file: set tls: true"),
        ({"qos": 3}, "qos"),
        ({"port": 0}, "port"),
        ({"topic": "x"}, "Extra inputs are not permitted"),
    ],
)
def test_impossible_settings_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SparkplugConfig.model_validate(BASE | change)
    assert message in str(caught.value)


def test_a_clean_session_may_expire_at_once() -> None:
    config = SparkplugConfig.model_validate(BASE | {"clean_start": True, "session_expiry_s": 0})
    assert config.clean_start


def test_the_password_is_hidden() -> None:
    config = SparkplugConfig.model_validate(BASE | {"username": "u", "password": "s3cret"})
    assert "s3cret" not in repr(config)
