"""The settings of one MQTT JSON connector (kind ``mqtt``): broker, session, subscription.

The defaults are what the platform runs: QoS 1 on a persistent session (fixed client id,
``clean_start`` false, a session expiry), subscribed to ``$share/hazwatch/hazwatch/v1/#``
so that messages published while the platform restarts wait in the broker and several
ingest processes share the stream. See docs/mqtt.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

TOPIC_ROOT = "hazwatch/v1/"
_SHARE_NAME = re.compile(r"^[^/+#\s]+$")
_CLIENT_ID = re.compile(r"^[\x21-\x7e]+$")


class MqttConfig(BaseModel):
    """One subscription of the platform (or a gateway) to hazwatch JSON readings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["mqtt"] = Field(default="mqtt", description="the connector family: mqtt")
    name: str = Field(min_length=1, max_length=128, description="name of this connector")
    host: str = Field(default="127.0.0.1", min_length=1, description="broker host or address")
    port: int = Field(default=1883, ge=1, le=65535, description="broker TCP port")
    tls: bool = Field(default=False, description="connect with TLS")
    ca_file: Path | None = Field(
        default=None, description="CA certificates (PEM) to check the broker; default: system"
    )
    client_id: str = Field(
        min_length=1,
        max_length=128,
        description="MQTT client id; fixed, so that the broker keeps the session (and the "
        "messages that arrive meanwhile) across restarts. Unique per ingest process",
    )
    username: str | None = Field(default=None, min_length=1, description="user at the broker")
    password: SecretStr | None = Field(default=None, description="password at the broker")
    topics: list[str] = Field(
        default_factory=lambda: [f"{TOPIC_ROOT}#"],
        min_length=1,
        description="topic filters to subscribe to, each under hazwatch/v1/",
    )
    share_group: str | None = Field(
        default=None,
        description="shared-subscription group ($share/<group>/<filter>): processes of one "
        "group split the stream between them; null (the default) for a plain subscription, "
        "which the broker keeps across its own restart and which receives retained messages",
    )
    qos: Literal[0, 1] = Field(
        default=1,
        description="subscription QoS: 1 = every message is acknowledged only once it is "
        "handed on (none lost); 0 = at most once, faster",
    )
    clean_start: bool = Field(
        default=False,
        description="start a fresh session at every connection (drops what the broker kept)",
    )
    session_expiry_s: int = Field(
        default=86_400,
        ge=0,
        le=0xFFFFFFFF,
        description="how long the broker keeps the session and its queued messages while "
        "the connector is away, in seconds",
    )
    keepalive_s: int = Field(default=30, ge=5, le=65_535, description="MQTT keep-alive, seconds")
    connect_timeout_s: float = Field(
        default=10.0, gt=0, le=300, description="time allowed to connect and subscribe"
    )
    max_inflight: int = Field(
        default=10_000,
        ge=1,
        le=65_535,
        description="QoS 1 messages the broker may send before they are acknowledged (MQTT "
        "receive maximum); bounds the memory used while the reader is slow",
    )
    max_readings_per_batch: int = Field(
        default=50_000, ge=1, le=10_000_000, description="readings in one batch, at most"
    )
    flush_ms: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="how long messages are gathered into one batch after the first arrives",
    )
    max_payload_bytes: int = Field(
        default=1_048_576,
        ge=64,
        le=256 * 1_048_576,
        description="larger messages are refused as oversized",
    )

    @field_validator("topics")
    @classmethod
    def _topics_under_root(cls, topics: list[str]) -> list[str]:
        for topic in topics:
            problem = topic_filter_problem(topic)
            if problem:
                raise ValueError(f"topics: {topic!r} {problem}")
        return topics

    @field_validator("share_group")
    @classmethod
    def _share_name(cls, group: str | None) -> str | None:
        if group is not None and not _SHARE_NAME.match(group):
            raise ValueError(
                f"share_group: {group!r} must be non-empty without '/', '+', '#' or spaces"
            )
        return group

    @field_validator("client_id")
    @classmethod
    def _printable(cls, client_id: str) -> str:
        if not _CLIENT_ID.match(client_id):
            raise ValueError(f"client_id: {client_id!r} must be printable ASCII without spaces")
        return client_id

    @model_validator(mode="after")
    def _session_kept(self) -> Self:
        if not self.clean_start and self.session_expiry_s == 0:
            raise ValueError(
                "session_expiry_s: must be > 0 when clean_start is false, or the broker drops "
                "the session (and the messages waiting in it) at every disconnection"
            )
        if self.password is not None and self.username is None:
            raise ValueError("password: given without a username")
        if self.ca_file is not None and not self.tls:
            raise ValueError("ca_file: set tls: true to use a CA file")
        return self

    def subscriptions(self) -> list[str]:
        """The filters as subscribed: with the ``$share/<group>/`` prefix where shared."""
        if self.share_group is None:
            return list(self.topics)
        return [f"$share/{self.share_group}/{topic}" for topic in self.topics]


def topic_filter_problem(topic: str) -> str:
    """What is wrong with a subscription filter of the hazwatch convention ('' if nothing)."""
    if not topic.startswith(TOPIC_ROOT) or topic == TOPIC_ROOT:
        return f"must lie under {TOPIC_ROOT} (the hazwatch topic convention)"
    levels = topic.split("/")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            return "may hold '#' only as its whole last level"
        if "+" in level and level != "+":
            return "may hold '+' only as a whole level"
    return ""
