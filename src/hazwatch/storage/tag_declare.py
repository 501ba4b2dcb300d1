"""Tags made known at run time: announced by a source (a Sparkplug birth) or the status tag
of a communication link.

A declared tag is created under its equipment, and the equipment under its installation if
it is missing; the installation itself must already be in the plant (a source cannot invent
enterprises, sites or installations). Tags that exist are left as they are: the plant file
stays the authority on names, ranges and limits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, select, update

from hazwatch.domain.scope import ScopeKind, child_path
from hazwatch.domain.tag import TagDeclaration
from hazwatch.storage.schema import scope_nodes, tags

_DEPTHS = (ScopeKind.ENTERPRISE, ScopeKind.SITE, ScopeKind.INSTALLATION)


@dataclass(slots=True)
class Declared:
    """What became of declared tags: keys created, and keys refused with the reason."""

    created: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


def declare_tags(conn: Connection, declarations: Sequence[TagDeclaration]) -> Declared:
    result = Declared()
    wanted = {d.key: d for d in declarations}
    known = set(
        conn.execute(select(tags.c.key).where(tags.c.key.in_(list(wanted)))).scalars().all()
    )
    equipment: dict[str, tuple[int, str] | str] = {}
    for key, declaration in wanted.items():
        if key in known:
            continue
        parts = key.split(".")
        if len(parts) != 5:
            result.refused[key] = (
                "a tag key has five parts: enterprise.site.installation.equipment.tag"
            )
            continue
        equipment_key = ".".join(parts[:4])
        if equipment_key not in equipment:
            equipment[equipment_key] = _equipment(conn, parts[:4])
        node = equipment[equipment_key]
        if isinstance(node, str):
            result.refused[key] = node
            continue
        node_id, path = node
        lo = declaration.range_lo if declaration.range_lo is not None else -1e308
        hi = declaration.range_hi if declaration.range_hi is not None else 1e308
        conn.execute(
            insert(tags).values(
                key=key,
                name=declaration.name or parts[4],
                scope_id=node_id,
                scope_path=path,
                unit=declaration.unit,
                range_lo=min(lo, hi),
                range_hi=max(lo, hi),
                period_s=declaration.period_s,
                offline_after_s=declaration.offline_after_s,
                frozen_after_s=None,
            )
        )
        result.created.append(key)
    return result


def _equipment(conn: Connection, keys: Sequence[str]) -> tuple[int, str] | str:
    """(id, path) of the equipment node, created if missing; or why it cannot be."""
    parent: tuple[int, str] | None = None
    for kind, key in zip(_DEPTHS, keys[:3], strict=True):
        query = select(scope_nodes.c.id, scope_nodes.c.path).where(
            scope_nodes.c.kind == kind.value, scope_nodes.c.key == key
        )
        if parent is not None:
            query = query.where(scope_nodes.c.parent_id == parent[0])
        rows = conn.execute(query.limit(2)).all()
        if len(rows) != 1:
            where = ".".join(keys[: _DEPTHS.index(kind) + 1])
            return f"no {kind.value} {where} in the plant" if not rows else f"{where} is ambiguous"
        parent = (rows[0][0], rows[0][1])
    assert parent is not None
    row = conn.execute(
        select(scope_nodes.c.id, scope_nodes.c.path).where(
            scope_nodes.c.parent_id == parent[0], scope_nodes.c.key == keys[3]
        )
    ).first()
    if row is not None:
        return row[0], row[1]
    node_id = conn.execute(
        insert(scope_nodes)
        .values(
            kind=ScopeKind.EQUIPMENT.value,
            key=keys[3],
            name=keys[3],
            parent_id=parent[0],
            path=f"{parent[1]}~{keys[3]}",
        )
        .returning(scope_nodes.c.id)
    ).scalar_one()
    path = child_path(parent[1], node_id)
    conn.execute(update(scope_nodes).where(scope_nodes.c.id == node_id).values(path=path))
    return node_id, path
