"""Which variables a connection monitors, under which tag keys. Pure: the configuration and
what browsing found in, a list of watches out.

Named nodes come first, in the order written. Browsed variables follow, root by root, in
the order the server listed them; each becomes ``<tag_prefix>.<slug of its browse name>``
(see ``naming``). A browsed variable that is already watched (a named node, or found under
an earlier root) is skipped; one whose browse name gives no key, or a key that another
variable already has, is a problem (reported, not watched). Node ids written with a
namespace URI (``nsu=…``) are given the server's index for that URI; where the server has
no such namespace the watch has no node id and cannot be monitored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from asyncua import ua

from hazwatch.connectors.opcua.config import DeadbandConfig, OpcUaConfig, parse_node_id
from hazwatch.connectors.opcua.naming import browse_key


@dataclass(frozen=True, slots=True, kw_only=True)
class Found:
    """A variable found by browsing, with what the server says of it."""

    node_id: ua.NodeId
    browse_name: str
    display_name: str = ""
    unit: str = ""
    range_lo: float | None = None
    range_hi: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Watch:
    """One variable to monitor: ``node_id`` (None where it cannot be resolved), ``label``
    (the node id as written or found, for messages) and the tag key its values feed."""

    node_id: ua.NodeId | None
    label: str
    key: str
    sampling_interval_ms: float
    deadband: DeadbandConfig
    found: Found | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """A variable that is not watched, and why."""

    label: str
    key: str | None
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    watches: tuple[Watch, ...]
    problems: tuple[Problem, ...] = ()


def needs_namespaces(config: OpcUaConfig) -> bool:
    """Whether any node id of ``config`` names its namespace by URI."""
    texts = [n.node_id for n in config.nodes] + [b.root for b in config.browse]
    return any(isinstance(parse_node_id(t), ua.ExpandedNodeId) for t in texts)


def resolve(node_id: ua.NodeId, namespaces: Sequence[str]) -> ua.NodeId | None:
    """``node_id`` with a namespace URI replaced by the server's index for it (None if the
    server has no such namespace); any other node id as it is."""
    uri = getattr(node_id, "NamespaceUri", None)
    if not uri:
        return node_id
    if uri not in namespaces:
        return None
    return ua.NodeId(node_id.Identifier, ua.Int16(namespaces.index(uri)), node_id.NodeIdType)


def make_plan(
    config: OpcUaConfig, browsed: Sequence[Sequence[Found]], namespaces: Sequence[str] = ()
) -> Plan:
    """The watches of ``config``; ``browsed[i]`` is what browsing ``config.browse[i]`` found."""
    watches: list[Watch] = []
    problems: list[Problem] = []
    by_key: dict[str, str] = {}
    seen: set[ua.NodeId] = set()
    for node in config.nodes:
        node_id = resolve(parse_node_id(node.node_id), namespaces)
        watches.append(
            Watch(
                node_id=node_id,
                label=node.node_id,
                key=node.tag,
                sampling_interval_ms=node.sampling_interval_ms or config.sampling_interval_ms,
                deadband=node.deadband or config.deadband,
            )
        )
        by_key[node.tag] = node.node_id
        if node_id is not None:
            seen.add(node_id)
    for entry, found in zip(config.browse, browsed, strict=True):
        for variable in found:
            if variable.node_id in seen:
                continue
            seen.add(variable.node_id)
            label = variable.node_id.to_string()
            key = browse_key(entry.tag_prefix, variable.browse_name)
            if key in by_key:
                problems.append(
                    Problem(
                        label=label,
                        key=key,
                        detail=f"tag {key} is already read from {by_key[key]}",
                    )
                )
                continue
            by_key[key] = label
            watches.append(
                Watch(
                    node_id=variable.node_id,
                    label=label,
                    key=key,
                    sampling_interval_ms=entry.sampling_interval_ms or config.sampling_interval_ms,
                    deadband=entry.deadband or config.deadband,
                    found=variable,
                )
            )
    return Plan(watches=tuple(watches), problems=tuple(problems))
