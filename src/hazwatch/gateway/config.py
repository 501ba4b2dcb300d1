"""The edge gateway's configuration: a YAML file validated into ``GatewayConfig``.

``load_gateway_config(path)`` reads and validates the file, including every connector's
settings (the ``connectors:`` list of a connectors file), and raises
``GatewayConfigError`` naming the file and the field, one problem a line
(``gateway.yaml: upstream.host: Field required``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from hazwatch.connectors.config_file import ConnectorConfigError, ConnectorEntry, parse_connectors
from hazwatch.connectors.mqtt.links import LINKS_LEVEL, links_topic, links_topic_of
from hazwatch.domain.keys import SEGMENT, TAG_KEY

Segment = Annotated[str, Field(pattern=rf"^{SEGMENT}$")]


class GatewayConfigError(Exception):
    """A gateway configuration that cannot be used; the message names the file and field."""


class MqttUpstreamConfig(BaseModel):
    """Forward to an MQTT broker (MQTT v5, persistent session)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["mqtt"] = Field(description="forward over MQTT")
    host: str = Field(min_length=1, description="broker host name or address")
    port: int = Field(default=1883, ge=1, le=65535, description="broker port")
    username: str | None = Field(default=None, description="user name at the broker")
    password: SecretStr | None = Field(default=None, description="password at the broker")
    client_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="MQTT client id, fixed so the broker keeps the session across restarts; "
        "default hazwatch-gateway-<name>",
    )
    topic: str | None = Field(
        default=None,
        description="topic to publish on; default hazwatch/v1/<enterprise>/gateway/<name>",
    )
    qos: Literal[1, 2] = Field(
        default=1, description="MQTT QoS; 1 or 2 (a message counts only once acknowledged)"
    )
    session_expiry_s: int = Field(
        default=86_400, ge=1, description="how long the broker keeps the session while away"
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keep-alive")
    max_in_flight: int = Field(
        default=20, ge=1, le=1000, description="messages sent but not yet acknowledged, at most"
    )
    reconnect_max_s: int = Field(
        default=30, ge=1, le=3600, description="longest wait between reconnection attempts"
    )
    tls: bool = Field(default=False, description="connect with TLS")
    ca_file: Path | None = Field(
        default=None, description="CA certificates (PEM) to check the broker; default: system"
    )


class HttpUpstreamConfig(BaseModel):
    """Forward to the platform's HTTP ingest (POST <url>/api/v1/ingest, a device API key)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["http"] = Field(description="forward over HTTP")
    url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="the platform's base URL, e.g. https://hazwatch.example.com",
    )
    api_key: SecretStr = Field(description="device API key (sent as X-API-Key)")
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="timeout of one request")


Upstream = Annotated[MqttUpstreamConfig | HttpUpstreamConfig, Field(discriminator="kind")]


class QueueConfig(BaseModel):
    """The disk-backed store-and-forward queue."""

    model_config = ConfigDict(extra="forbid")

    path: Path = Field(description="SQLite file of the queue (created if missing)")
    quota_mb: float = Field(
        default=1024,
        gt=0,
        description="most megabytes of queued messages; beyond it the oldest are evicted",
    )
    replay_per_s: float = Field(
        default=50,
        gt=0,
        description="backlog messages sent per second while catching up after an outage",
    )
    max_readings_per_message: int = Field(
        default=1000, ge=1, le=100_000, description="readings in one upstream message, at most"
    )

    @property
    def quota_bytes(self) -> int:
        return int(self.quota_mb * 1024 * 1024)


class GatewayConfig(BaseModel):
    """One edge gateway: its connectors, where it forwards, and its queue."""

    model_config = ConfigDict(extra="forbid")

    name: Segment = Field(description="name of this gateway (a key: a-z, 0-9, - and _)")
    enterprise: Segment = Field(
        description="the enterprise it serves: the first key segment of all its tags"
    )
    connectors: list[dict[str, Any]] = Field(
        default_factory=list,
        description="connectors, each with kind, name, optionally equipment, and the "
        "settings of its family (see the connector docs)",
    )
    upstream: Upstream = Field(description="where batches are forwarded: mqtt or http")
    queue: QueueConfig = Field(description="the store-and-forward queue")
    dropped_tag: str | None = Field(
        default=None,
        description="tag key on which the gateway reports how many readings it had to evict",
    )
    status_every_s: float = Field(
        default=60, gt=0, description="seconds between status lines in the log"
    )

    @model_validator(mode="after")
    def _check(self) -> GatewayConfig:
        if self.dropped_tag is not None:
            if not TAG_KEY.fullmatch(self.dropped_tag):
                raise ValueError(
                    "dropped_tag: a tag key has 5 dot-separated segments "
                    "(enterprise.site.installation.equipment.tag)"
                )
            if self.dropped_tag.split(".")[0] != self.enterprise:
                raise ValueError(f"dropped_tag: must belong to enterprise {self.enterprise!r}")
        upstream = self.upstream
        if isinstance(upstream, MqttUpstreamConfig) and upstream.topic is not None:
            prefix = f"hazwatch/v1/{self.enterprise}/"
            if not upstream.topic.startswith(prefix) or upstream.topic == prefix:
                raise ValueError(f"upstream.topic: must start with {prefix!r}")
            if "+" in upstream.topic or "#" in upstream.topic:
                raise ValueError("upstream.topic: no wildcards (+, #) in a topic to publish on")
            if links_topic_of(upstream.topic) is not None:
                raise ValueError(
                    f"upstream.topic: {prefix}{LINKS_LEVEL}/… is for link health, not readings"
                )
        return self

    @property
    def mqtt_topic(self) -> str:
        """The topic the MQTT upstream publishes on."""
        upstream = self.upstream
        if isinstance(upstream, MqttUpstreamConfig) and upstream.topic:
            return upstream.topic
        return f"hazwatch/v1/{self.enterprise}/gateway/{self.name}"

    @property
    def links_topic(self) -> str:
        """The topic the MQTT upstream publishes link health on."""
        return links_topic(self.enterprise, self.name)

    @property
    def mqtt_client_id(self) -> str:
        upstream = self.upstream
        if isinstance(upstream, MqttUpstreamConfig) and upstream.client_id:
            return upstream.client_id
        return f"hazwatch-gateway-{self.name}"

    def connector_entries(self, *, source: str = "config") -> list[ConnectorEntry]:
        """Each connector's validated settings; ``GatewayConfigError`` names every problem
        (``gateway.yaml: connectors[0] (plc).port: ...``)."""
        try:
            return parse_connectors(self.connectors, source=source)
        except ConnectorConfigError as exc:
            raise GatewayConfigError(str(exc)) from exc


def _located(exc: ValidationError) -> list[str]:
    """Pydantic errors as ``upstream.host: message`` lines."""
    out: list[str] = []
    for error in exc.errors():
        where = _path(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        # a model validator's message names its field already
        out.append(
            message if not where or message.startswith(f"{where}") else f"{where}: {message}"
        )
    return out


def _path(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"mqtt", "http"} and text.endswith("upstream"):
            continue  # the discriminated union's branch is not a field
        else:
            text += f".{part}" if text else str(part)
    return text


def parse_gateway_config(data: object, *, source: str = "config") -> GatewayConfig:
    """Validate settings (a parsed YAML document), connectors included."""
    if not isinstance(data, dict):
        raise GatewayConfigError(f"{source}: expected a mapping of settings at the top")
    try:
        config = GatewayConfig.model_validate(data)
    except ValidationError as exc:
        raise GatewayConfigError("\n".join(f"{source}: {p}" for p in _located(exc))) from exc
    config.connector_entries(source=source)
    return config


def load_gateway_config(path: Path) -> GatewayConfig:
    """The gateway configuration of a YAML file; ``GatewayConfigError`` says what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GatewayConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise GatewayConfigError(f"{path}: not valid YAML: {exc}") from exc
    return parse_gateway_config(data, source=str(path))
