"""The gateway's configuration file: defaults, and errors that name the file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazwatch.gateway.config import (
    GatewayConfigError,
    HttpUpstreamConfig,
    MqttUpstreamConfig,
    load_gateway_config,
)

GOOD = """
name: edge-1
enterprise: lpg
upstream:
  kind: mqtt
  host: broker.example.com
queue:
  path: /var/lib/hazwatch-gateway/queue.db
  quota_mb: 256
dropped_tag: lpg.main.gateway.edge-1.dropped
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "gateway.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_minimal_file_gets_the_documented_defaults(tmp_path: Path) -> None:
    config = load_gateway_config(_write(tmp_path, GOOD))
    assert isinstance(config.upstream, MqttUpstreamConfig)
    assert config.upstream.port == 1883
    assert config.upstream.qos == 1
    assert config.mqtt_topic == "hazwatch/v1/lpg/gateway/edge-1"
    assert config.mqtt_client_id == "hazwatch-gateway-edge-1"
    assert config.queue.quota_bytes == 256 * 1024 * 1024
    assert config.queue.max_readings_per_message == 1000
    assert config.connectors == []


def test_an_http_upstream(tmp_path: Path) -> None:
    text = GOOD.replace(
        "  kind: mqtt\n  host: broker.example.com\n",
        "  kind: http\n  url: https://hazwatch.example.com\n  api_key: hzk_secret\n",
    )
    config = load_gateway_config(_write(tmp_path, text))
    assert isinstance(config.upstream, HttpUpstreamConfig)
    assert config.upstream.api_key.get_secret_value() == "hzk_secret"
    assert "hzk_secret" not in repr(config), "the key is not shown in logs"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("  host: broker.example.com\n", ""), "upstream.host: Field required"),
        (("  quota_mb: 256\n", "  quota_mb: 0\n"), "queue.quota_mb: Input should be greater"),
        (("name: edge-1\n", "name: Edge 1\n"), "name: String should match"),
        (("  kind: mqtt\n", "  kind: amqp\n"), "upstream: Input tag 'amqp'"),
        (("queue:\n", "colour: blue\nqueue:\n"), "colour: Extra inputs are not permitted"),
        (
            ("dropped_tag: lpg.", "dropped_tag: other."),
            "dropped_tag: must belong to enterprise 'lpg'",
        ),
        (("dropped_tag: lpg.main.gateway.", "dropped_tag: lpg."), "dropped_tag: a tag key has 5"),
        (
            ("  host: broker.example.com\n", "  host: b\n  topic: hazwatch/v1/other/x\n"),
            "upstream.topic: must start with 'hazwatch/v1/lpg/'",
        ),
        (
            ("name: edge-1\n", "name: edge-1\nconnectors:\n  - {kind: carrier-pigeon, name: a}\n"),
            "connectors[0] (a).kind: unknown connector kind 'carrier-pigeon'",
        ),
        (
            ("name: edge-1\n", "name: edge-1\nconnectors:\n  - just-a-name\n"),
            "connectors[0]: Input should be a valid dictionary",
        ),
        (
            (
                "name: edge-1\n",
                "name: edge-1\nconnectors:\n  - {kind: x, name: a}\n  - {kind: y, name: a}\n",
            ),
            "connectors[1] (a).name: 'a' is already used by connectors[0]",
        ),
    ],
)
def test_errors_name_the_file_and_the_field(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD
    path = _write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(GatewayConfigError) as caught:
        load_gateway_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="cannot read"):
        load_gateway_config(tmp_path / "missing.yaml")
    with pytest.raises(GatewayConfigError, match="not valid YAML"):
        load_gateway_config(_write(tmp_path, "name: [unclosed\n"))
    with pytest.raises(GatewayConfigError, match="a mapping"):
        load_gateway_config(_write(tmp_path, "- a list\n"))
