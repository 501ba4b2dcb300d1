"""The configuration of an OPC UA connector: one server endpoint, and which of its variables
become which hazwatch tags.

Variables are named one by one (``nodes``: a node id and the tag it feeds) or found by
browsing (``browse``: every variable below a root node becomes ``<tag_prefix>.<slug of its
browse name>``). Everything that cannot work is refused here, before a connection is made,
with a message naming the field: node ids that are not OPC UA node ids, keys that are not
hazwatch keys, intervals that are not positive, a percent deadband outside 0–100, a node or
a tag named twice, security settings without the files they need.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from asyncua import ua
from asyncua.ua.uaerrors import UaStringParsingError
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from hazwatch.domain.keys import EquipmentKey, TagKey


def parse_node_id(text: str) -> ua.NodeId:
    """The node id written as ``ns=2;s=TK201.Level``, ``i=85``, ``ns=3;g=<uuid>``,
    ``ns=1;b=<base64>`` or ``nsu=<namespace uri>;s=…``; ``ValueError`` if it is none."""
    try:
        node_id = ua.NodeId.from_string(text.strip())
    except (UaStringParsingError, ValueError) as exc:
        raise ValueError(
            f"{text!r} is not an OPC UA node id (expected e.g. 'ns=2;s=TK201.Level' or 'i=85')"
        ) from exc
    if node_id.Identifier in ("", b"", None):
        raise ValueError(f"{text!r} has an empty identifier")
    return node_id


def _node_id(text: str) -> str:
    parse_node_id(text)
    return text.strip()


NodeIdText = Annotated[
    str,
    AfterValidator(_node_id),
    Field(description="An OPC UA node id, e.g. 'ns=2;s=TK201.Level' or 'nsu=urn:plc;i=1001'."),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeadbandConfig(_Strict):
    """When the server reports a change: any change (none), a change larger than ``value``
    in the variable's unit (absolute), or larger than ``value`` % of its EURange (percent;
    the server must know the variable's EURange, or the item fails)."""

    type: Literal["none", "absolute", "percent"] = Field(
        default="none", description="none, absolute or percent."
    )
    value: float = Field(
        default=0.0,
        ge=0,
        description="The deadband: in the variable's unit (absolute) or in % (percent, 0–100).",
    )

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.type == "percent" and self.value > 100:
            raise ValueError(f"value: a percent deadband lies in 0–100, not {self.value}")
        if self.type == "none" and self.value != 0:
            raise ValueError("value: a deadband of type none takes no value; set type too")
        return self


Interval = Annotated[float, Field(gt=0, le=86_400_000, allow_inf_nan=False)]


class NodeConfig(_Strict):
    """One variable read as one tag."""

    node_id: NodeIdText
    tag: TagKey = Field(description="The tag this variable's values are readings of.")
    sampling_interval_ms: Interval | None = Field(
        default=None,
        description="How often the server samples this variable (default if unset).",
    )
    deadband: DeadbandConfig | None = Field(
        default=None, description="This variable's deadband (the connector's default if unset)."
    )


class BrowseConfig(_Strict):
    """Every variable below a node, each read as ``<tag_prefix>.<slug of its browse name>``."""

    root: NodeIdText
    tag_prefix: EquipmentKey = Field(
        description="The equipment key the found variables' tags are put under."
    )
    recursive: bool = Field(
        default=False,
        description=(
            "Also look inside objects and folders below the root (their variables keep "
            "their own browse name: names must be unique in the whole subtree)."
        ),
    )
    sampling_interval_ms: Interval | None = Field(
        default=None, description="Sampling interval of the found variables (default if unset)."
    )
    deadband: DeadbandConfig | None = Field(
        default=None, description="Deadband of the found variables (default if unset)."
    )


class SecurityConfig(_Strict):
    """How the secure channel is protected. ``none`` by default; Basic256Sha256 signs (and
    encrypts) every message with the client's certificate and private key."""

    policy: Literal["none", "Basic256Sha256"] = Field(
        default="none", description="none or Basic256Sha256."
    )
    mode: Literal["Sign", "SignAndEncrypt"] = Field(
        default="SignAndEncrypt", description="Sign, or SignAndEncrypt (Basic256Sha256 only)."
    )
    certificate: Path | None = Field(
        default=None, description="The client's application certificate (.der or .pem)."
    )
    private_key: Path | None = Field(
        default=None, description="The private key of that certificate (.pem or .der)."
    )
    private_key_password: SecretStr | None = Field(
        default=None, description="The private key's password, if it is encrypted."
    )
    server_certificate: Path | None = Field(
        default=None,
        description=(
            "The server's certificate, pinned; if unset, the one the server presents in its "
            "endpoint description is used."
        ),
    )
    application_uri: str | None = Field(
        default=None,
        min_length=1,
        description=(
            "The client's application URI; must match the URI in the certificate "
            "(default: the library's own)."
        ),
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.policy == "none":
            given = [
                name
                for name in ("certificate", "private_key", "server_certificate")
                if getattr(self, name) is not None
            ]
            if given:
                raise ValueError(f"{given[0]}: only used with policy Basic256Sha256")
            return self
        if self.certificate is None:
            raise ValueError(f"certificate: policy {self.policy} needs the client's certificate")
        if self.private_key is None:
            raise ValueError(f"private_key: policy {self.policy} needs the certificate's key")
        return self


class OpcUaConfig(_Strict):
    """An OPC UA connector: one session with one server, one subscription, the variables of
    ``nodes`` and of ``browse`` monitored in it."""

    kind: Literal["opcua"] = Field(description="The connector family.")
    name: str = Field(min_length=1, description="The connector's name, unique in a process.")
    endpoint: str = Field(
        description="The server's endpoint URL: opc.tcp://host:port[/path].",
    )
    username: str | None = Field(
        default=None, min_length=1, description="User name (anonymous if unset)."
    )
    password: SecretStr | None = Field(default=None, description="Password of ``username``.")
    security: SecurityConfig = Field(
        default_factory=SecurityConfig, description="Secure channel settings (none by default)."
    )
    device: EquipmentKey = Field(
        description="The equipment key under which this server's health is reported."
    )
    publishing_interval_ms: Interval = Field(
        default=1000.0,
        description="How often the server sends the changes it gathered (one batch each).",
    )
    sampling_interval_ms: Interval = Field(
        default=500.0, description="How often the server samples a variable, unless set per node."
    )
    deadband: DeadbandConfig = Field(
        default_factory=DeadbandConfig, description="The deadband, unless set per node."
    )
    nodes: list[NodeConfig] = Field(
        default_factory=list, description="Variables read one by one, each as a named tag."
    )
    browse: list[BrowseConfig] = Field(
        default_factory=list, description="Subtrees whose variables are all read (at each connect)."
    )
    health_check_interval_s: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        allow_inf_nan=False,
        description=(
            "How often the link is checked (a read of the server state); also the keep-alive "
            "period asked of the subscription."
        ),
    )
    timeout_s: float = Field(
        default=4.0,
        gt=0,
        le=300,
        allow_inf_nan=False,
        description="Seconds to wait for the server to answer a request.",
    )

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme != "opc.tcp":
            raise ValueError(f"{value!r}: expected opc.tcp://host:port[/path]")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{value!r}: the port is not a number in 1–65535") from exc
        if not parts.hostname:
            raise ValueError(f"{value!r}: no host")
        if port is None or port == 0:
            raise ValueError(f"{value!r}: no port (OPC UA servers usually listen on 4840)")
        if parts.username is not None or parts.password is not None:
            raise ValueError("credentials belong in username and password, not in the URL")
        return value

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.password is not None and self.username is None:
            raise ValueError("password: given without a username")
        if not self.nodes and not self.browse:
            raise ValueError("nodes: name at least one variable, in nodes or through browse")
        node_ids: dict[str, int] = {}
        tags: dict[str, int] = {}
        for i, node in enumerate(self.nodes):
            key = parse_node_id(node.node_id).to_string()
            if key in node_ids:
                raise ValueError(
                    f"nodes[{i}].node_id: {node.node_id} is already nodes[{node_ids[key]}]"
                )
            node_ids[key] = i
            if node.tag in tags:
                raise ValueError(
                    f"nodes[{i}].tag: {node.tag} is already read by nodes[{tags[node.tag]}]"
                )
            tags[node.tag] = i
        roots: dict[str, int] = {}
        for i, entry in enumerate(self.browse):
            key = parse_node_id(entry.root).to_string()
            if key in roots:
                raise ValueError(f"browse[{i}].root: {entry.root} is already browse[{roots[key]}]")
            roots[key] = i
        return self
