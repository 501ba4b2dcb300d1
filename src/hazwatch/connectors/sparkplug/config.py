"""Settings of one Sparkplug B connector: the broker, the host application, the groups read.

``groups`` maps each Sparkplug group id read to the installation its edge nodes belong to
(``enterprise.site.installation``); tag keys are that prefix, the equipment (the edge node,
or the edge node and device) and the metric (see ``keys``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hazwatch.domain.keys import INSTALLATION_KEY

_TOPIC_FORBIDDEN = frozenset("/+#")


def _topic_level(value: str, what: str) -> str:
    """A Sparkplug id must be one MQTT topic level: not empty, no '/', '+' or '#'."""
    if not value or _TOPIC_FORBIDDEN & set(value):
        raise ValueError(f"{what} {value!r} must be one topic level: not empty, no '/', '+', '#'")
    return value


class SparkplugConfig(BaseModel):
    """A Sparkplug B host application reading the edge nodes of some groups on one broker."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["sparkplug"] = Field(description="Sparkplug B over MQTT")
    name: str = Field(min_length=1, description="connector name, unique in its file")
    host: str = Field(min_length=1, description="broker host name or address")
    port: int = Field(default=1883, ge=1, le=65535, description="broker port")
    username: str | None = Field(default=None, description="user name at the broker")
    password: SecretStr | None = Field(default=None, description="password at the broker")
    tls: bool = Field(default=False, description="connect with TLS")
    ca_file: Path | None = Field(
        default=None, description="CA certificates (PEM) to check the broker; default: system"
    )
    client_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="MQTT client id, fixed so the broker can keep the session; "
        "default hazwatch-sparkplug-<name>",
    )
    host_id: str | None = Field(
        default=None,
        description="Sparkplug host id: when set, the connector publishes its STATE birth "
        "(and its STATE death as its will) on spBv1.0/STATE/<host_id>, as the primary host "
        "application edge nodes may wait for; when unset it reads as a secondary host",
    )
    groups: dict[str, str] = Field(
        min_length=1,
        description="Sparkplug group id → installation key prefix "
        "'enterprise.site.installation' its edge nodes' tags live under",
    )
    qos: Literal[0, 1, 2] = Field(default=1, description="QoS of the subscriptions")
    mqtt_version: Literal["5", "3.1.1"] = Field(default="5", description="MQTT protocol version")
    clean_start: bool = Field(
        default=False,
        description="start a fresh session at every connect; false keeps the session so "
        "messages sent while the connector is away wait in the broker (Sparkplug 3.0 asks "
        "host applications for a clean session: set true for strict conformance)",
    )
    session_expiry_s: int = Field(
        default=86_400,
        ge=0,
        description="how long the broker keeps the session while away (MQTT 5)",
    )
    keepalive_s: int = Field(default=30, ge=5, le=3600, description="MQTT keep-alive")
    receive_maximum: int = Field(
        default=1000,
        ge=1,
        le=65_535,
        description="messages the broker may send before earlier ones are acknowledged "
        "(MQTT 5); a message is acknowledged once its readings are handed on",
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="how long to wait for the broker to answer"
    )
    rebirth_on_gap: bool = Field(
        default=True,
        description="ask an edge node to rebirth when its sequence numbers skip (lost messages)",
    )
    rebirth_interval_s: float = Field(
        default=10.0,
        ge=0,
        description="least time between two rebirth requests to the same edge node",
    )

    @field_validator("host_id")
    @classmethod
    def _host_id(cls, value: str | None) -> str | None:
        return None if value is None else _topic_level(value, "host_id")

    @field_validator("groups")
    @classmethod
    def _groups(cls, value: dict[str, str]) -> dict[str, str]:
        for group, prefix in value.items():
            _topic_level(group, "group id")
            if group == "STATE":
                raise ValueError("group id 'STATE' is reserved by Sparkplug for host states")
            if not INSTALLATION_KEY.fullmatch(prefix):
                raise ValueError(
                    f"group {group!r}: {prefix!r} is not an installation key prefix "
                    "'enterprise.site.installation' (lowercase a-z, 0-9, '_', '-')"
                )
        return value

    @model_validator(mode="after")
    def _session(self) -> Self:
        if self.mqtt_version == "5" and not self.clean_start and self.session_expiry_s == 0:
            raise ValueError(
                "session_expiry_s: must be > 0 to keep the session (clean_start is false)"
            )
        if self.ca_file is not None and not self.tls:
            raise ValueError("ca_file: set tls: true to use a CA file")
        if self.password is not None and self.username is None:
            raise ValueError("password: a password needs a username")
        return self

    @property
    def mqtt_client_id(self) -> str:
        return self.client_id or f"hazwatch-sparkplug-{self.name}"
