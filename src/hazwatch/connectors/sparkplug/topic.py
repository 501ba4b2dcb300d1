"""Sparkplug B topics: what a topic names, and the topics a host application uses. Pure.

Edge node and device messages::

    spBv1.0/<group>/<NBIRTH|NDATA|NDEATH|NCMD>/<edge node>
    spBv1.0/<group>/<DBIRTH|DDATA|DDEATH|DCMD>/<edge node>/<device>

Host application state (Sparkplug 3.0): ``spBv1.0/STATE/<host id>``. A topic of another
shape raises ``TopicError``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

NAMESPACE = "spBv1.0"


class MessageType(StrEnum):
    NBIRTH = "NBIRTH"
    NDATA = "NDATA"
    NDEATH = "NDEATH"
    NCMD = "NCMD"
    DBIRTH = "DBIRTH"
    DDATA = "DDATA"
    DDEATH = "DDEATH"
    DCMD = "DCMD"
    STATE = "STATE"

    @property
    def of_device(self) -> bool:
        return self.value.startswith("D")


class TopicError(ValueError):
    """A topic that is not a Sparkplug B topic."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Topic:
    """A parsed topic. For STATE, ``edge_node`` holds the host id and ``group`` is empty."""

    type: MessageType
    group: str
    edge_node: str
    device: str | None = None


def parse(topic: str) -> Topic:
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != NAMESPACE:
        raise TopicError(f"not a Sparkplug B topic: {topic!r}")
    if parts[1] == "STATE":
        if len(parts) != 3 or not parts[2]:
            raise TopicError(f"a STATE topic is {NAMESPACE}/STATE/<host id>: {topic!r}")
        return Topic(type=MessageType.STATE, group="", edge_node=parts[2])
    if len(parts) < 4:
        raise TopicError(f"not a Sparkplug B topic: {topic!r}")
    try:
        kind = MessageType(parts[2])
    except ValueError:
        raise TopicError(f"unknown Sparkplug message type {parts[2]!r} in {topic!r}") from None
    expected = 5 if kind.of_device else 4
    if kind is MessageType.STATE or len(parts) != expected or not all(parts):
        shape = "<edge node>/<device>" if kind.of_device else "<edge node>"
        raise TopicError(f"a {kind} topic is {NAMESPACE}/<group>/{kind}/{shape}: {topic!r}")
    return Topic(
        type=kind,
        group=parts[1],
        edge_node=parts[3],
        device=parts[4] if kind.of_device else None,
    )


def group_filter(group: str) -> str:
    """The subscription that reads every message of a group."""
    return f"{NAMESPACE}/{group}/#"


def state_topic(host_id: str) -> str:
    return f"{NAMESPACE}/STATE/{host_id}"


def command_topic(group: str, edge_node: str) -> str:
    """Where an edge node reads its commands (NCMD)."""
    return f"{NAMESPACE}/{group}/{MessageType.NCMD}/{edge_node}"
