"""The stored plant: scope tree, tags with their limits, and hazardous inventories.

Scoped reads take a ``Grant`` and filter inside SQL (see ``storage/visibility.py``). Reads of
all tags are two bulk queries (tags, then limits), never one query per tag: loading 100,000
tags is the engine's start-up path.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, func, or_, select, true

from hazwatch.domain.plant import InventorySpec, Location, PlantSpec
from hazwatch.domain.scope import Grant, ScopeKind, ScopeNode
from hazwatch.domain.tag import LIMIT_KINDS, ConditionKind, Limit, Priority, Tag, TagDeclaration
from hazwatch.storage.bulk import collector_paused
from hazwatch.storage.database import Database
from hazwatch.storage.plant_export import export_plant, inventory_of
from hazwatch.storage.plant_import import PlantImportSummary, import_plant
from hazwatch.storage.schema import inventories, scope_nodes, tag_limits, tags
from hazwatch.storage.tag_declare import Declared, declare_tags
from hazwatch.storage.visibility import visible

_KINDS = {kind.value: kind for kind in ConditionKind}
_PRIORITIES = {priority.value: priority for priority in Priority}
_LIMIT_ORDER = {kind: i for i, kind in enumerate(LIMIT_KINDS)}
_TAG_COLUMNS = (
    tags.c.id,
    tags.c.key,
    tags.c.name,
    tags.c.scope_id,
    tags.c.scope_path,
    tags.c.unit,
    tags.c.range_lo,
    tags.c.range_hi,
    tags.c.period_s,
    tags.c.offline_after_s,
    tags.c.frozen_after_s,
)
_LIMIT_COLUMNS = (
    tag_limits.c.tag_id,
    tag_limits.c.kind,
    tag_limits.c.value,
    tag_limits.c.priority,
    tag_limits.c.deadband,
    tag_limits.c.on_delay_s,
    tag_limits.c.off_delay_s,
)

__all__ = ["PlantImportSummary", "PlantRepository", "StoredInstallation", "StoredInventory"]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredInventory:
    """A hazardous chemical held in installation ``scope_id`` (whose path is ``scope_path``)."""

    id: int
    scope_id: int
    scope_path: str
    inventory: InventorySpec


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredInstallation:
    """An installation node: its full ``key`` (``enterprise.site.installation``), id, path,
    name, declared neighbourhood (``None``: not declared) and inventories."""

    id: int
    key: str
    path: str
    name: str
    people_within_500m: int | None
    inventories: tuple[InventorySpec, ...]


class PlantRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, spec: PlantSpec) -> PlantImportSummary:
        """Store a plant file in one transaction (idempotent; see ``storage/plant_import.py``)."""
        with collector_paused(), self._db.engine.begin() as conn:
            return import_plant(conn, spec)

    def declare(self, declarations: Sequence[TagDeclaration]) -> Declared:
        """Create the declared tags that do not exist yet (see ``storage/tag_declare.py``)."""
        with self._db.engine.begin() as conn:
            return declare_tags(conn, declarations)

    def export(self, region: str | None = None) -> PlantSpec:
        """The stored plant as a file; ``region`` may be omitted when only one is stored.

        Raises ``NotFoundError`` (no such region) or ``ConflictError`` (several, none named).
        """
        with collector_paused(), self._db.engine.connect() as conn:
            return export_plant(conn, region)

    def tags(self) -> list[Tag]:
        """Every tag with its limits, ordered by id (unscoped: for the engine at start-up)."""
        with collector_paused(), self._db.engine.connect() as conn:
            return _load_tags(conn, true())

    def tags_in(self, grant: Grant) -> list[Tag]:
        """The tags ``grant`` may see, ordered by id."""
        with collector_paused(), self._db.engine.connect() as conn:
            return _load_tags(conn, visible(tags.c.scope_path, grant))

    def tag(self, tag_id: int, grant: Grant) -> Tag | None:
        """The tag ``tag_id`` if ``grant`` may see it (``None`` when absent or hidden)."""
        with self._db.engine.connect() as conn:
            found = _load_tags(conn, and_(tags.c.id == tag_id, visible(tags.c.scope_path, grant)))
        return found[0] if found else None

    def tag_by_key(self, key: str) -> Tag | None:
        """The tag of full key ``key`` (``enterprise.site.installation.equipment.tag``)."""
        with self._db.engine.connect() as conn:
            found = _load_tags(conn, tags.c.key == key)
        return found[0] if found else None

    def search_tags(
        self,
        grant: Grant,
        *,
        q: str | None = None,
        scope_id: int | None = None,
        limit: int = 200,
        offset: int = 0,
    ) -> list[Tag]:
        """A page of the tags ``grant`` may see, ordered by id.

        ``q`` keeps tags whose full key or name contains it (case-insensitive); ``scope_id``
        keeps tags below that node.
        """
        where = [visible(tags.c.scope_path, grant)]
        if q:
            needle = q.lower()
            where.append(
                or_(
                    func.lower(tags.c.key).contains(needle, autoescape=True),
                    func.lower(tags.c.name).contains(needle, autoescape=True),
                )
            )
        if scope_id is not None:
            below = select(scope_nodes.c.path).where(scope_nodes.c.id == scope_id)
            where.append(tags.c.scope_path.startswith(below.scalar_subquery()))
        with self._db.engine.connect() as conn:
            return _load_tags(conn, and_(*where), limit=limit, offset=offset)

    def nodes(self, grant: Grant) -> list[ScopeNode]:
        """The scope nodes ``grant`` may see, ordered by id (so parents before children)."""
        query = select(scope_nodes).where(visible(scope_nodes.c.path, grant))
        with self._db.engine.connect() as conn:
            return [_node(row) for row in conn.execute(query.order_by(scope_nodes.c.id))]

    def node(self, node_id: int) -> ScopeNode | None:
        """The node ``node_id``, unscoped (callers check ``grant.allows(node.path)``)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(select(scope_nodes).where(scope_nodes.c.id == node_id)).first()
        return None if row is None else _node(row)

    def node_by_keys(self, keys: Sequence[str] | None = None) -> ScopeNode | None:
        """The node reached by following ``keys`` from a root: ``[region, park, ...]``.

        No keys (``None`` or empty) means the region, when exactly one is stored.
        """
        with self._db.engine.connect() as conn:
            if not keys:
                roots = conn.execute(
                    select(scope_nodes).where(scope_nodes.c.parent_id.is_(None)).limit(2)
                ).all()
                return _node(roots[0]) if len(roots) == 1 else None
            found: ScopeNode | None = None
            for key in keys:
                parent = (
                    scope_nodes.c.parent_id.is_(None)
                    if found is None
                    else scope_nodes.c.parent_id == found.id
                )
                row = conn.execute(
                    select(scope_nodes).where(parent, scope_nodes.c.key == key)
                ).first()
                if row is None:
                    return None
                found = _node(row)
        return found

    def locations(self, grant: Grant) -> dict[int, Location]:
        """Map positions of the nodes ``grant`` may see that have one (parks, enterprises)."""
        query = select(scope_nodes.c.id, scope_nodes.c.lat, scope_nodes.c.lon).where(
            visible(scope_nodes.c.path, grant),
            scope_nodes.c.lat.is_not(None),
            scope_nodes.c.lon.is_not(None),
        )
        with self._db.engine.connect() as conn:
            return {i: Location(lat=lat, lon=lon) for i, lat, lon in conn.execute(query)}

    def inventories(self, grant: Grant) -> list[StoredInventory]:
        """The inventories of the installations ``grant`` may see, ordered by id."""
        query = (
            select(inventories, scope_nodes.c.path)
            .join(scope_nodes, scope_nodes.c.id == inventories.c.scope_id)
            .where(visible(scope_nodes.c.path, grant))
            .order_by(inventories.c.id)
        )
        with self._db.engine.connect() as conn:
            return [
                StoredInventory(
                    id=row.id,
                    scope_id=row.scope_id,
                    scope_path=row.path,
                    inventory=inventory_of(row),
                )
                for row in conn.execute(query)
            ]

    def installation(self, key: str, grant: Grant) -> StoredInstallation | None:
        """The installation of key ``enterprise.site.installation`` if ``grant`` may see it,
        with its declared inventories in file order (``None`` when absent or hidden)."""
        parts = key.split(".")
        if len(parts) != 3:
            return None
        enterprise, site, node = (scope_nodes.alias(n) for n in ("enterprise", "site", "node"))
        query = (
            select(node.c.id, node.c.path, node.c.name, node.c.people_within_500m)
            .select_from(enterprise)
            .join(site, site.c.parent_id == enterprise.c.id)
            .join(node, node.c.parent_id == site.c.id)
            .where(
                enterprise.c.kind == ScopeKind.ENTERPRISE.value,
                enterprise.c.key == parts[0],
                site.c.key == parts[1],
                node.c.key == parts[2],
                visible(node.c.path, grant),
            )
            .order_by(node.c.id)
        )
        with self._db.engine.connect() as conn:
            found = conn.execute(query).first()
            if found is None:
                return None
            rows = conn.execute(
                select(inventories)
                .where(inventories.c.scope_id == found.id)
                .order_by(inventories.c.id)
            ).all()
        return StoredInstallation(
            id=found.id,
            key=key,
            path=found.path,
            name=found.name,
            people_within_500m=found.people_within_500m,
            inventories=tuple(inventory_of(row) for row in rows),
        )


def _load_tags(
    conn: Connection, where: ColumnElement[bool], *, limit: int | None = None, offset: int = 0
) -> list[Tag]:
    tag_query = select(*_TAG_COLUMNS).where(where).order_by(tags.c.id)
    if limit is not None:
        tag_query = tag_query.limit(limit).offset(offset)
    rows = conn.execute(tag_query).all()
    if limit is None:
        limit_query = (
            select(*_LIMIT_COLUMNS).join(tags, tags.c.id == tag_limits.c.tag_id).where(where)
        )
    else:
        limit_query = select(*_LIMIT_COLUMNS).where(
            tag_limits.c.tag_id.in_([row[0] for row in rows])
        )
    # Plants repeat a few limit settings across thousands of tags: share one value each.
    shared: dict[tuple[str, float, str, float, float, float], Limit] = {}
    limits: dict[int, list[Limit]] = defaultdict(list)
    for tag_id, *setting in conn.execute(limit_query).all():
        key = tuple(setting)
        limit_ = shared.get(key)
        if limit_ is None:
            kind, value, priority, deadband, on_delay, off_delay = setting
            limit_ = Limit(
                kind=_KINDS[kind],
                value=value,
                priority=_PRIORITIES[priority],
                deadband=deadband,
                on_delay_s=on_delay,
                off_delay_s=off_delay,
            )
            shared[key] = limit_
        limits[tag_id].append(limit_)
    return [
        Tag(
            id=tag_id,
            key=key,
            name=name,
            scope_id=scope_id,
            scope_path=scope_path,
            unit=unit,
            range_lo=range_lo,
            range_hi=range_hi,
            period_s=period_s,
            limits=tuple(sorted(limits[tag_id], key=_rank)) if tag_id in limits else (),
            offline_after_s=offline_after_s,
            frozen_after_s=frozen_after_s,
        )
        for (
            tag_id,
            key,
            name,
            scope_id,
            scope_path,
            unit,
            range_lo,
            range_hi,
            period_s,
            offline_after_s,
            frozen_after_s,
        ) in rows
    ]


def _rank(limit: Limit) -> int:
    return _LIMIT_ORDER[limit.kind]


def _node(row: Row[Any]) -> ScopeNode:
    return ScopeNode(
        id=row.id,
        kind=ScopeKind(row.kind),
        key=row.key,
        name=row.name,
        parent_id=row.parent_id,
        path=row.path,
    )
