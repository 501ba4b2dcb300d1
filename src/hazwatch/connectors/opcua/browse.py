"""Finding the variables below a node, with their units and ranges where the server has them.

Browsing follows hierarchical references forward (``Organizes``, ``HasComponent`` and their
subtypes), never ``HasProperty``: the properties of a variable (its ``EURange``, its
``EngineeringUnits``) are read as what they are, not taken for process values. Without
``recursive`` only the root's own variables are found; with it, objects and folders below
are searched too. Requests are batched, and continuation points followed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from asyncua import ua
from asyncua.client.ua_session import UaSession
from asyncua.ua.attribute_ids import AttributeIds
from asyncua.ua.object_ids import ObjectIds

from hazwatch.connectors.opcua.plan import Found

BATCH = 500
MAX_VARIABLES = 10_000
_HAS_PROPERTY = ua.NodeId(ua.Int32(ObjectIds.HasProperty))
_PROPERTIES = ("EURange", "EngineeringUnits")

References = list[ua.ReferenceDescription]


async def browse_variables(session: UaSession, root: ua.NodeId, *, recursive: bool) -> list[Found]:
    """The variables below ``root`` (at most ``MAX_VARIABLES``); raises the library's
    ``UaStatusCodeError`` when the root itself cannot be browsed."""
    found: list[Found] = []
    seen = {root}
    level = [root]
    while level and len(found) < MAX_VARIABLES:
        below: list[ua.NodeId] = []
        children = await _children(
            session,
            level,
            ua.NodeId(ua.Int32(ObjectIds.HierarchicalReferences)),
            ua.NodeClass.Object | ua.NodeClass.Variable,
        )
        for node, refs in zip(level, children, strict=True):
            if isinstance(refs, ua.StatusCode):
                if node == root:
                    refs.check()
                continue
            for ref in refs:
                node_id = _plain(ref.NodeId)
                if ref.ReferenceTypeId == _HAS_PROPERTY or node_id in seen:
                    continue
                seen.add(node_id)
                if ref.NodeClass == ua.NodeClass.Variable:
                    found.append(
                        Found(
                            node_id=node_id,
                            browse_name=ref.BrowseName.Name or "",
                            display_name=ref.DisplayName.Text or "",
                        )
                    )
                elif recursive and ref.NodeClass == ua.NodeClass.Object:
                    below.append(node_id)
        level = below
    found = found[:MAX_VARIABLES]
    return await _describe(session, found)


async def _describe(session: UaSession, found: list[Found]) -> list[Found]:
    """``found`` with unit and range filled in from the variables' properties."""
    if not found:
        return found
    properties = await _children(
        session, [f.node_id for f in found], _HAS_PROPERTY, ua.NodeClass.Variable
    )
    wanted: list[tuple[int, str, ua.NodeId]] = []
    for index, refs in enumerate(properties):
        if isinstance(refs, ua.StatusCode):
            continue
        for ref in refs:
            if ref.BrowseName.Name in _PROPERTIES:
                wanted.append((index, str(ref.BrowseName.Name), _plain(ref.NodeId)))
    values: list[Any] = []
    for start in range(0, len(wanted), BATCH):
        chunk = [node_id for _, _, node_id in wanted[start : start + BATCH]]
        read = await session.read_attributes(chunk, AttributeIds.Value)
        values += [dv.Value.Value if dv.Value is not None else None for dv in read]
    described = list(found)
    for (index, name, _), value in zip(wanted, values, strict=True):
        described[index] = _with_property(described[index], name, value)
    return described


def _with_property(found: Found, name: str, value: Any) -> Found:
    if name == "EURange" and isinstance(value, ua.Range):
        lo, hi = float(value.Low), float(value.High)
        if math.isfinite(lo) and math.isfinite(hi) and lo < hi:
            return replace(found, range_lo=lo, range_hi=hi)
    if name == "EngineeringUnits" and isinstance(value, ua.EUInformation):
        unit = value.DisplayName.Text if value.DisplayName is not None else None
        if unit:
            return replace(found, unit=str(unit))
    return found


async def _children(
    session: UaSession, nodes: Sequence[ua.NodeId], reference: ua.NodeId, classes: int
) -> list[References | ua.StatusCode]:
    """The forward references of type ``reference`` (and subtypes) to nodes of ``classes``
    of each node, or the Bad status of a node that could not be browsed."""
    out: list[References | ua.StatusCode] = []
    for start in range(0, len(nodes), BATCH):
        parameters = ua.BrowseParameters(
            View=ua.ViewDescription(),
            RequestedMaxReferencesPerNode=0,
            NodesToBrowse=[
                ua.BrowseDescription(
                    NodeId=node,
                    BrowseDirection=ua.BrowseDirection.Forward,
                    ReferenceTypeId=reference,
                    IncludeSubtypes=True,
                    NodeClassMask=int(classes),
                    ResultMask=int(ua.BrowseResultMask.All),
                )
                for node in nodes[start : start + BATCH]
            ],
        )
        for result in await session.browse(parameters):
            out.append(await _all_references(session, result))
    return out


async def _all_references(
    session: UaSession, result: ua.BrowseResult
) -> References | ua.StatusCode:
    status: ua.StatusCode = result.StatusCode
    if not status.is_good():
        return status
    refs: References = list(result.References)
    point = result.ContinuationPoint
    while point:
        more = await session.browse_next(
            ua.BrowseNextParameters(ReleaseContinuationPoints=False, ContinuationPoints=[point])
        )
        if not more or not more[0].StatusCode.is_good():
            break
        refs += more[0].References
        point = more[0].ContinuationPoint
    return refs


def _plain(node_id: ua.NodeId) -> ua.NodeId:
    """A node id without the expanded parts (a browse result names nodes by ExpandedNodeId)."""
    return ua.NodeId(node_id.Identifier, node_id.NamespaceIndex, node_id.NodeIdType)
