"""Storing a plant file: an idempotent upsert of the scope tree, tags, limits, inventories,
and each park's places and emergency resources.

Rows are matched by their keys: a scope node by (parent, key), an enterprise by its key inside
the region (so an enterprise moved to another park keeps its id, its subtree and the roles
bound to it), a tag by its full key. Matching rows are updated only where a field differs, so
importing the same file twice changes nothing. Tags stored below the region but absent from the
file are kept (their history and alarms stay readable) and reported as orphaned; so are nodes.
A park's places and resources are rewritten as a list when they differ from the file (a place
the file no longer lists is removed); a resource keeps its ``available`` state by key.

The whole import runs in the caller's transaction and writes in bulk (``executemany``): a
100,000-tag file is a handful of statements per level, never one round trip per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import Connection, bindparam, delete, func, literal, select, update

from hazwatch.domain.plant import (
    InventorySpec,
    Location,
    PlaceSpec,
    PlantSpec,
    ResourceSpec,
    TagSpec,
)
from hazwatch.domain.scope import ScopeKind, child_path
from hazwatch.storage.bulk import insert_rows
from hazwatch.storage.schema import (
    dead_letters,
    emergency_resources,
    inventories,
    park_places,
    scope_nodes,
    tag_limits,
    tags,
)

# (name, lat, lon, people_within_500m, assessment_score) of a node
_NodeFields = tuple[str, float | None, float | None, int | None, float | None]
# the values of _TAG_COLUMNS, in that order
_TagFields = tuple[str, int, str, str, str, float, float, float, float | None, float | None]
# the values of _LIMIT_COLUMNS, in that order
_LimitRow = tuple[str, float, str, float, float, float]
# the values of _INVENTORY_COLUMNS, in that order
_InventoryRow = tuple[
    str, str | None, float | None, float | None, float | None, str | None, str | None, str | None
]
# the values of _PLACE_COLUMNS / _RESOURCE_COLUMNS, in that order
_PlaceRow = tuple[str, str, str, float, float, bool, str | None]
_ResourceRow = tuple[str, str, str, float, float, float, str, str]

# No stored path contains it: paths are ids and slashes.
PLACEHOLDER = "~"

_TAG_COLUMNS = (
    tags.c.key,
    tags.c.scope_id,
    tags.c.scope_path,
    tags.c.name,
    tags.c.unit,
    tags.c.range_lo,
    tags.c.range_hi,
    tags.c.period_s,
    tags.c.offline_after_s,
    tags.c.frozen_after_s,
)
_SCOPE_PATH = 2
_LIMIT_COLUMNS = (
    tag_limits.c.kind,
    tag_limits.c.value,
    tag_limits.c.priority,
    tag_limits.c.deadband,
    tag_limits.c.on_delay_s,
    tag_limits.c.off_delay_s,
)
_PLACE_COLUMNS = (
    park_places.c.key,
    park_places.c.name,
    park_places.c.kind,
    park_places.c.lat,
    park_places.c.lon,
    park_places.c.sensitive,
    park_places.c.enterprise,
)
_RESOURCE_COLUMNS = (
    emergency_resources.c.key,
    emergency_resources.c.name,
    emergency_resources.c.kind,
    emergency_resources.c.lat,
    emergency_resources.c.lon,
    emergency_resources.c.capacity,
    emergency_resources.c.unit,
    emergency_resources.c.contact,
)
_INVENTORY_COLUMNS = (
    inventories.c.chemical,
    inventories.c.cas,
    inventories.c.tonnes,
    inventories.c.volume_m3,
    inventories.c.density_t_per_m3,
    inventories.c.category,
    inventories.c.level_tag,
    inventories.c.shape,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantImportSummary:
    """What storing a plant file changed.

    A node moved to another parent counts as one updated node; the nodes and tags below it
    follow (their paths are rewritten) without being counted. ``inventories_changed`` counts
    installations whose inventory list was rewritten, ``parks_changed`` parks whose list of
    places or of resources was rewritten;
    ``orphaned`` holds the full keys of stored tags below the region that the file no longer
    declares (kept, in id order).
    """

    nodes_created: int = 0
    nodes_updated: int = 0
    tags_created: int = 0
    tags_updated: int = 0
    inventories_changed: int = 0
    parks_changed: int = 0
    orphaned: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """True when the import wrote anything."""
        return bool(
            self.nodes_created
            or self.nodes_updated
            or self.tags_created
            or self.tags_updated
            or self.inventories_changed
            or self.parks_changed
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class _Placed:
    """A node of the tree once stored: its id and materialised path."""

    id: int
    path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class _Wanted:
    kind: ScopeKind
    key: str
    parent: _Placed | None
    fields: _NodeFields


@dataclass(frozen=True, slots=True, kw_only=True)
class _Stored:
    id: int
    kind: ScopeKind
    parent_id: int | None
    path: str
    fields: _NodeFields


@dataclass(frozen=True, slots=True, kw_only=True)
class _WantedTag:
    key: str
    fields: _TagFields
    limits: frozenset[_LimitRow]


def import_plant(conn: Connection, spec: PlantSpec) -> PlantImportSummary:
    """Upsert ``spec`` through ``conn``, inside the caller's transaction."""
    return _Import(conn).run(spec)


class _Import:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._created = 0
        self._updated: set[int] = set()
        self._stored: dict[tuple[int | None, str], _Stored] = {}
        self._enterprises: dict[str, _Stored] = {}

    def run(self, spec: PlantSpec) -> PlantImportSummary:
        self._load_nodes()
        root = _Wanted(
            kind=ScopeKind.REGION,
            key=spec.region,
            parent=None,
            fields=(spec.region_name, None, None, None, None),
        )
        (region,) = self._level([root])
        self._enterprises = {
            key: node
            for (_, key), node in self._stored.items()
            if node.kind is ScopeKind.ENTERPRISE and node.path.startswith(region.path)
        }
        parks = self._level(
            [_node(ScopeKind.PARK, p.key, p.name, region, p.location) for p in spec.parks]
        )
        ents = [(e, park) for p, park in zip(spec.parks, parks, strict=True) for e in p.enterprises]
        ent_nodes = self._level(
            [
                _node(
                    ScopeKind.ENTERPRISE, e.key, e.name, park, e.location, score=e.assessment_score
                )
                for e, park in ents
            ]
        )
        sites = [(s, e.key, n) for (e, _), n in zip(ents, ent_nodes, strict=True) for s in e.sites]
        site_nodes = self._level([_node(ScopeKind.SITE, s.key, s.name, n) for s, _, n in sites])
        insts = [
            (i, f"{ek}.{s.key}", n)
            for (s, ek, _), n in zip(sites, site_nodes, strict=True)
            for i in s.installations
        ]
        inst_nodes = self._level(
            [
                _node(ScopeKind.INSTALLATION, i.key, i.name, n, people=i.people_within_500m)
                for i, _, n in insts
            ]
        )
        equipment = [
            (q, f"{prefix}.{i.key}", n)
            for (i, prefix, _), n in zip(insts, inst_nodes, strict=True)
            for q in i.equipment
        ]
        eq_nodes = self._level(
            [_node(ScopeKind.EQUIPMENT, q.key, q.name, n) for q, _, n in equipment]
        )
        wanted_tags = [
            _wanted_tag(f"{prefix}.{q.key}.{t.key}", t, node)
            for (q, prefix, _), node in zip(equipment, eq_nodes, strict=True)
            for t in q.tags
        ]
        tags_created, tags_updated, orphaned = self._tags(wanted_tags, region.path)
        inventory_lists = {
            node.id: [_inventory_row(v) for v in i.inventories]
            for (i, _, _), node in zip(insts, inst_nodes, strict=True)
        }
        places = {
            node.id: [_place_row(x) for x in p.places]
            for p, node in zip(spec.parks, parks, strict=True)
        }
        resources = {
            node.id: [_resource_row(r) for r in p.resources]
            for p, node in zip(spec.parks, parks, strict=True)
        }
        parks_changed = self._park_list(park_places, _PLACE_COLUMNS, places) | self._park_list(
            emergency_resources, _RESOURCE_COLUMNS, resources, keep={"available": True}
        )
        return PlantImportSummary(
            nodes_created=self._created,
            nodes_updated=len(self._updated),
            tags_created=tags_created,
            tags_updated=tags_updated,
            inventories_changed=self._inventories(inventory_lists),
            parks_changed=len(parks_changed),
            orphaned=orphaned,
        )

    def _load_nodes(self) -> None:
        columns = (
            scope_nodes.c.name,
            scope_nodes.c.lat,
            scope_nodes.c.lon,
            scope_nodes.c.people_within_500m,
            scope_nodes.c.assessment_score,
        )
        query = select(
            scope_nodes.c.id,
            scope_nodes.c.kind,
            scope_nodes.c.key,
            scope_nodes.c.parent_id,
            scope_nodes.c.path,
            *columns,
        )
        for row in self._conn.execute(query):
            id_, kind, key, parent_id, path = row[:5]
            self._stored[(parent_id, key)] = _Stored(
                id=id_,
                kind=ScopeKind(kind),
                parent_id=parent_id,
                path=path,
                fields=cast(_NodeFields, tuple(row[5:])),
            )

    def _level(self, wanted: Sequence[_Wanted]) -> list[_Placed]:
        """Upsert one level of the tree; the placed nodes come back in ``wanted`` order."""
        placed: list[_Placed | None] = [None] * len(wanted)
        updates: list[dict[str, object]] = []
        fresh: list[int] = []
        for index, want in enumerate(wanted):
            stored = self._match(want)
            if stored is None:
                fresh.append(index)
                continue
            parent_id = want.parent.id if want.parent else None
            path = child_path(want.parent.path if want.parent else None, stored.id)
            if stored.parent_id != parent_id:
                self._move(stored, parent_id, path)
            if stored.fields != want.fields:
                name, lat, lon, people, score = want.fields
                updates.append(
                    {
                        "node_id": stored.id,
                        "name": name,
                        "lat": lat,
                        "lon": lon,
                        "people": people,
                        "score": score,
                    }
                )
                self._updated.add(stored.id)
            # computed, not read: a moved ancestor has already rewritten the stored path
            placed[index] = _Placed(id=stored.id, path=path)
        if updates:
            self._conn.execute(
                update(scope_nodes)
                .where(scope_nodes.c.id == bindparam("node_id"))
                .values(
                    name=bindparam("name"),
                    lat=bindparam("lat"),
                    lon=bindparam("lon"),
                    people_within_500m=bindparam("people"),
                    assessment_score=bindparam("score"),
                ),
                updates,
            )
        for index, node in zip(fresh, self._insert([wanted[i] for i in fresh]), strict=True):
            placed[index] = node
        return [node for node in placed if node is not None]

    def _match(self, want: _Wanted) -> _Stored | None:
        if want.kind is ScopeKind.ENTERPRISE:
            return self._enterprises.get(want.key)
        return self._stored.get((want.parent.id if want.parent else None, want.key))

    def _move(self, stored: _Stored, parent_id: int | None, new: str) -> None:
        """Re-parent a node; rewrite the paths of its subtree, its tags and dead letters."""
        old = stored.path
        self._conn.execute(
            update(scope_nodes).where(scope_nodes.c.id == stored.id).values(parent_id=parent_id)
        )
        for column in (scope_nodes.c.path, tags.c.scope_path, dead_letters.c.scope_path):
            self._conn.execute(
                update(column.table)
                .where(column.startswith(old, autoescape=True))
                .values({column.name: literal(new) + func.substr(column, len(old) + 1)})
            )
        self._updated.add(stored.id)

    def _insert(self, wanted: Sequence[_Wanted]) -> list[_Placed]:
        if not wanted:
            return []
        # A node's path holds its own id, known only after the insert: insert with a
        # placeholder no real path can equal, then set the path.
        rows = [
            {
                "kind": w.kind.value,
                "key": w.key,
                "name": w.fields[0],
                "parent_id": w.parent.id if w.parent else None,
                "path": f"{w.parent.path if w.parent else ''}{PLACEHOLDER}{w.key}",
                "lat": w.fields[1],
                "lon": w.fields[2],
                "people_within_500m": w.fields[3],
                "assessment_score": w.fields[4],
            }
            for w in wanted
        ]
        # Insert in bulk, then one query for the ids and one update for the paths: an
        # INSERT … RETURNING that keeps row order runs one statement per row on SQLite.
        pending = scope_nodes.c.path.contains(PLACEHOLDER, autoescape=True)
        insert_rows(self._conn, scope_nodes, rows)
        ids = dict(
            self._conn.execute(select(scope_nodes.c.path, scope_nodes.c.id).where(pending)).all()
        )
        parent = scope_nodes.alias("parent")
        parent_path = (
            select(parent.c.path).where(parent.c.id == scope_nodes.c.parent_id).scalar_subquery()
        )
        self._conn.execute(
            update(scope_nodes)
            .where(pending)
            .values(path=func.coalesce(parent_path, "/") + sa.cast(scope_nodes.c.id, sa.Text) + "/")
        )
        placed = [
            _Placed(
                id=ids[row["path"]],
                path=child_path(w.parent.path if w.parent else None, ids[row["path"]]),
            )
            for row, w in zip(rows, wanted, strict=True)
        ]
        for node, want in zip(placed, wanted, strict=True):
            if want.kind is ScopeKind.ENTERPRISE:
                self._enterprises[want.key] = _Stored(
                    id=node.id,
                    kind=want.kind,
                    parent_id=want.parent.id if want.parent else None,
                    path=node.path,
                    fields=want.fields,
                )
        self._created += len(placed)
        return placed

    def _tags(
        self, wanted: Sequence[_WantedTag], region_path: str
    ) -> tuple[int, int, tuple[str, ...]]:
        """Upsert tags and their limits; returns (created, updated, orphaned keys)."""
        stored: dict[str, tuple[int, _TagFields]] = {}
        for row in self._conn.execute(select(tags.c.id, *_TAG_COLUMNS).order_by(tags.c.id)):
            stored[row[1]] = (row[0], cast(_TagFields, tuple(row[1:])))
        stored_limits: dict[int, set[_LimitRow]] = defaultdict(set)
        for limit in self._conn.execute(select(tag_limits.c.tag_id, *_LIMIT_COLUMNS)):
            stored_limits[limit[0]].add(cast(_LimitRow, tuple(limit[1:])))

        fresh: list[_WantedTag] = []
        changed_rows: list[dict[str, object]] = []
        relimited: list[tuple[int, frozenset[_LimitRow]]] = []
        for want in wanted:
            match = stored.get(want.key)
            if match is None:
                fresh.append(want)
                continue
            tag_id, stored_fields = match
            if stored_fields != want.fields:
                changed_rows.append({"tag_id": tag_id, **_tag_row(want.fields)})
            if stored_limits.get(tag_id, set()) != want.limits:
                relimited.append((tag_id, want.limits))
        updated = len({row["tag_id"] for row in changed_rows} | {i for i, _ in relimited})
        if changed_rows:
            self._conn.execute(
                update(tags)
                .where(tags.c.id == bindparam("tag_id"))
                .values({c.name: bindparam(c.name) for c in _TAG_COLUMNS}),
                changed_rows,
            )
        if relimited:
            self._conn.execute(
                delete(tag_limits).where(tag_limits.c.tag_id == bindparam("tag_id")),
                [{"tag_id": tag_id} for tag_id, _ in relimited],
            )
        if fresh:
            before = self._conn.execute(select(func.coalesce(func.max(tags.c.id), 0))).scalar_one()
            insert_rows(self._conn, tags, [_tag_row(w.fields) for w in fresh])
            ids = dict(
                self._conn.execute(select(tags.c.key, tags.c.id).where(tags.c.id > before)).all()
            )
            relimited.extend((ids[w.key], w.limits) for w in fresh)
        limit_rows = [_limit_row(tag_id, row) for tag_id, rows in relimited for row in rows]
        if limit_rows:
            insert_rows(self._conn, tag_limits, limit_rows)
        declared = {w.key for w in wanted}
        orphaned = tuple(
            key
            for key, (_, stored_fields) in stored.items()
            if key not in declared and str(stored_fields[_SCOPE_PATH]).startswith(region_path)
        )
        return len(fresh), updated, orphaned

    def _inventories(self, wanted: dict[int, list[_InventoryRow]]) -> int:
        """Rewrite the inventory list of each installation whose list differs."""
        stored: dict[int, list[_InventoryRow]] = defaultdict(list)
        query = select(inventories.c.scope_id, *_INVENTORY_COLUMNS).order_by(inventories.c.id)
        for row in self._conn.execute(query):
            stored[row[0]].append(cast(_InventoryRow, tuple(row[1:])))
        changed = [i for i, rows in wanted.items() if stored.get(i, []) != rows]
        if not changed:
            return 0
        self._conn.execute(
            delete(inventories).where(inventories.c.scope_id == bindparam("installation")),
            [{"installation": scope_id} for scope_id in changed],
        )
        names = [c.name for c in _INVENTORY_COLUMNS]
        rows = [
            {"scope_id": scope_id, **dict(zip(names, row, strict=True))}
            for scope_id in changed
            for row in wanted[scope_id]
        ]
        if rows:
            insert_rows(self._conn, inventories, rows)
        return len(changed)

    def _park_list(
        self,
        table: sa.Table,
        columns: Sequence[sa.Column[Any]],
        wanted: Mapping[int, Sequence[tuple[object, ...]]],
        keep: Mapping[str, object] = MappingProxyType({}),
    ) -> set[int]:
        """Rewrite the list in ``table`` of each park whose list differs from ``wanted``
        (file order); returns the ids of those parks. The columns in ``keep`` are state the
        file does not hold: they keep their stored value by key (new rows: ``keep``'s)."""
        stored: dict[int, list[tuple[object, ...]]] = defaultdict(list)
        kept: dict[tuple[int, object], dict[str, object]] = {}
        names = [c.name for c in columns]
        extra = [table.c[name] for name in keep]
        query = select(table.c.scope_id, *columns, *extra).order_by(table.c.id)
        for row in self._conn.execute(query):
            fields = tuple(row[1 : len(columns) + 1])
            stored[row[0]].append(fields)
            kept[(row[0], fields[0])] = dict(zip(keep, row[len(columns) + 1 :], strict=True))
        changed = {i for i, rows in wanted.items() if stored.get(i, []) != list(rows)}
        if not changed:
            return changed
        self._conn.execute(
            delete(table).where(table.c.scope_id == bindparam("park")),
            [{"park": scope_id} for scope_id in changed],
        )
        rows = [
            {
                "scope_id": scope_id,
                **dict(zip(names, row, strict=True)),
                **kept.get((scope_id, row[0]), keep),
            }
            for scope_id in sorted(changed)
            for row in wanted[scope_id]
        ]
        if rows:
            insert_rows(self._conn, table, rows)
        return changed


def _node(
    kind: ScopeKind,
    key: str,
    name: str,
    parent: _Placed,
    location: Location | None = None,
    *,
    people: int | None = None,
    score: float | None = None,
) -> _Wanted:
    lat, lon = (location.lat, location.lon) if location else (None, None)
    return _Wanted(kind=kind, key=key, parent=parent, fields=(name, lat, lon, people, score))


def _wanted_tag(key: str, spec: TagSpec, equipment: _Placed) -> _WantedTag:
    fields: _TagFields = (
        key,
        equipment.id,
        equipment.path,
        spec.name,
        spec.unit,
        spec.range[0],
        spec.range[1],
        spec.period_s,
        spec.offline_after_s,
        spec.frozen_after_s,
    )
    limits = frozenset(
        (kind.value, lim.value, lim.priority.value, lim.deadband, lim.on_delay_s, lim.off_delay_s)
        for kind, lim in spec.limits.items()
    )
    return _WantedTag(key=key, fields=fields, limits=limits)


def _tag_row(fields: _TagFields) -> dict[str, object]:
    key, scope_id, scope_path, name, unit, lo, hi, period_s, offline, frozen = fields
    return {
        "key": key,
        "scope_id": scope_id,
        "scope_path": scope_path,
        "name": name,
        "unit": unit,
        "range_lo": lo,
        "range_hi": hi,
        "period_s": period_s,
        "offline_after_s": offline,
        "frozen_after_s": frozen,
    }


def _limit_row(tag_id: int, limit: _LimitRow) -> dict[str, object]:
    kind, value, priority, deadband, on_delay_s, off_delay_s = limit
    return {
        "tag_id": tag_id,
        "kind": kind,
        "value": value,
        "priority": priority,
        "deadband": deadband,
        "on_delay_s": on_delay_s,
        "off_delay_s": off_delay_s,
    }


def _inventory_row(spec: InventorySpec) -> _InventoryRow:
    return (
        spec.chemical,
        spec.cas,
        spec.tonnes,
        spec.volume_m3,
        spec.density_t_per_m3,
        spec.category,
        spec.level_tag,
        None if spec.shape is None else spec.shape.value,
    )


def _place_row(spec: PlaceSpec) -> _PlaceRow:
    loc = spec.location
    return (spec.key, spec.name, spec.kind.value, loc.lat, loc.lon, spec.sensitive, spec.enterprise)


def _resource_row(spec: ResourceSpec) -> _ResourceRow:
    loc = spec.location
    return (
        spec.key,
        spec.name,
        spec.kind.value,
        loc.lat,
        loc.lon,
        spec.capacity,
        spec.unit,
        spec.contact,
    )
