"""The MQTT connector's settings: the platform's defaults, and impossible settings refused."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hazwatch.connectors import registry
from hazwatch.connectors.mqtt import CONFIG, CONNECTOR, MqttConfig, MqttConnector


def _config(**fields: Any) -> MqttConfig:
    return MqttConfig.model_validate({"name": "plant", "client_id": "hazwatch-1"} | fields)


def test_the_defaults_are_a_plain_persistent_qos1_subscription() -> None:
    config = _config()
    assert config.kind == "mqtt"
    assert config.subscriptions() == ["hazwatch/v1/#"]
    assert (config.qos, config.clean_start) == (1, False)
    assert config.session_expiry_s > 0


def test_a_share_group_shares_every_filter() -> None:
    config = _config(share_group="ingest", topics=["hazwatch/v1/lpg/#", "hazwatch/v1/+/north/#"])
    assert config.subscriptions() == [
        "$share/ingest/hazwatch/v1/lpg/#",
        "$share/ingest/hazwatch/v1/+/north/#",
    ]


def test_the_registry_knows_the_family() -> None:
    assert CONFIG is MqttConfig
    assert CONNECTOR is MqttConnector
    parsed = registry.parse_connector_config({"kind": "mqtt", "name": "a", "client_id": "c"})
    assert isinstance(parsed, MqttConfig)


def test_the_password_is_not_shown() -> None:
    config = _config(username="platform", password="s3cret")
    assert "s3cret" not in repr(config)
    assert config.password is not None and config.password.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"topics": ["spBv1.0/#"]}, "topics: 'spBv1.0/#' must lie under hazwatch/v1/"),
        ({"topics": ["hazwatch/v1/"]}, "must lie under hazwatch/v1/"),
        ({"topics": []}, "topics"),
        ({"topics": ["hazwatch/v1/#/x"]}, "'#' only as its whole last level"),
        ({"topics": ["hazwatch/v1/lpg#"]}, "'#' only as its whole last level"),
        ({"topics": ["hazwatch/v1/l+/x"]}, "'+' only as a whole level"),
        ({"share_group": "a/b"}, "share_group: 'a/b' must be non-empty"),
        ({"share_group": ""}, "share_group"),
        ({"client_id": "has space"}, "client_id: 'has space' must be printable"),
        ({"qos": 2}, "qos"),
        ({"session_expiry_s": 0}, "session_expiry_s: must be > 0 when clean_start is false"),
        ({"password": "x"}, "password: given without a username"),
        ({"port": 0}, "port"),
        ({"flush_ms": 0}, "flush_ms"),
        ({"max_inflight": 70000}, "max_inflight"),
        ({"ca_file": "ca.pem"}, "ca_file: set tls: true"),
        ({"keepalive": 30}, "keepalive"),
    ],
)
def test_impossible_settings_are_refused_naming_the_field(
    fields: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message.replace("+", r"\+")):
        _config(**fields)


def test_a_client_id_is_required() -> None:
    with pytest.raises(ValidationError, match="client_id"):
        MqttConfig.model_validate({"name": "plant"})


def test_a_clean_session_may_do_without_expiry() -> None:
    assert _config(clean_start=True, session_expiry_s=0).session_expiry_s == 0
