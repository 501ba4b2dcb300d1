"""Reading a stored plant back as a plant file (``PlantSpec``).

The export is the inverse of the import: storing an export changes nothing, and exporting
right after storing a file gives that file back, children in file order (ids grow in the
order the import inserts them). Orphaned tags and nodes are part of what is stored, so they
are exported too.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Row, select

from hazwatch.domain.plant import (
    EnterpriseSpec,
    EquipmentSpec,
    InstallationSpec,
    InventorySpec,
    LimitSpec,
    Location,
    ParkSpec,
    PlaceKind,
    PlaceSpec,
    PlantSpec,
    ResourceKind,
    ResourceSpec,
    SiteSpec,
    TagSpec,
    TankShape,
)
from hazwatch.domain.tag import LIMIT_KINDS, ConditionKind, Priority
from hazwatch.storage.errors import ConflictError, NotFoundError
from hazwatch.storage.schema import (
    emergency_resources,
    inventories,
    park_places,
    scope_nodes,
    tag_limits,
    tags,
)


def export_plant(conn: Connection, region: str | None = None) -> PlantSpec:
    """The stored plant below region ``region`` (``None``: the only region stored).

    Raises ``NotFoundError`` when there is no such region, ``ConflictError`` when ``region``
    is ``None`` and several regions are stored.
    """
    children: dict[int | None, list[Row[Any]]] = defaultdict(list)
    for node in conn.execute(select(scope_nodes).order_by(scope_nodes.c.id)):
        children[node.parent_id].append(node)
    roots = [n for n in children[None] if region is None or n.key == region]
    if not roots:
        raise NotFoundError("region", region)
    if len(roots) > 1:
        raise ConflictError("region", None, "several regions are stored: name one")
    (root,) = roots
    return _Export(conn, children).region(root)


class _Export:
    def __init__(self, conn: Connection, children: dict[int | None, list[Row[Any]]]) -> None:
        self._children = children
        self._tags: dict[int, list[Row[Any]]] = defaultdict(list)
        for tag in conn.execute(select(tags).order_by(tags.c.id)):
            self._tags[tag.scope_id].append(tag)
        self._limits: dict[int, dict[ConditionKind, LimitSpec]] = defaultdict(dict)
        order = {kind.value: i for i, kind in enumerate(LIMIT_KINDS)}
        rows = sorted(conn.execute(select(tag_limits)), key=lambda r: order.get(r.kind, 0))
        for lim in rows:
            self._limits[lim.tag_id][ConditionKind(lim.kind)] = LimitSpec(
                value=lim.value,
                priority=Priority(lim.priority),
                deadband=lim.deadband,
                on_delay_s=lim.on_delay_s,
                off_delay_s=lim.off_delay_s,
            )
        self._inventories: dict[int, list[InventorySpec]] = defaultdict(list)
        for inv in conn.execute(select(inventories).order_by(inventories.c.id)):
            self._inventories[inv.scope_id].append(inventory_of(inv))

        self._places: dict[int, list[PlaceSpec]] = defaultdict(list)
        for place in conn.execute(select(park_places).order_by(park_places.c.id)):
            self._places[place.scope_id].append(
                PlaceSpec(
                    key=place.key,
                    name=place.name,
                    kind=PlaceKind(place.kind),
                    location=Location(lat=place.lat, lon=place.lon),
                    sensitive=place.sensitive,
                    enterprise=place.enterprise,
                )
            )
        self._resources: dict[int, list[ResourceSpec]] = defaultdict(list)
        for res in conn.execute(select(emergency_resources).order_by(emergency_resources.c.id)):
            self._resources[res.scope_id].append(
                ResourceSpec(
                    key=res.key,
                    name=res.name,
                    kind=ResourceKind(res.kind),
                    location=Location(lat=res.lat, lon=res.lon),
                    capacity=res.capacity,
                    unit=res.unit,
                    contact=res.contact,
                )
            )

    def region(self, node: Row[Any]) -> PlantSpec:
        return PlantSpec(
            region=node.key,
            region_name=node.name,
            parks=[
                ParkSpec(
                    key=p.key,
                    name=p.name,
                    location=_location(p),
                    enterprises=[self._enterprise(e) for e in self._children[p.id]],
                    places=self._places[p.id],
                    resources=self._resources[p.id],
                )
                for p in self._children[node.id]
            ],
        )

    def _enterprise(self, node: Row[Any]) -> EnterpriseSpec:
        return EnterpriseSpec(
            key=node.key,
            name=node.name,
            location=_location(node),
            assessment_score=node.assessment_score,
            sites=[
                SiteSpec(
                    key=s.key,
                    name=s.name,
                    installations=[self._installation(i) for i in self._children[s.id]],
                )
                for s in self._children[node.id]
            ],
        )

    def _installation(self, node: Row[Any]) -> InstallationSpec:
        return InstallationSpec(
            key=node.key,
            name=node.name,
            people_within_500m=node.people_within_500m,
            inventories=self._inventories[node.id],
            equipment=[
                EquipmentSpec(key=q.key, name=q.name, tags=[self._tag(t) for t in self._tags[q.id]])
                for q in self._children[node.id]
            ],
        )

    def _tag(self, row: Row[Any]) -> TagSpec:
        return TagSpec(
            key=row.key.rsplit(".", 1)[-1],
            name=row.name,
            unit=row.unit,
            range=(row.range_lo, row.range_hi),
            period_s=row.period_s,
            limits=self._limits[row.id],
            offline_after_s=row.offline_after_s,
            frozen_after_s=row.frozen_after_s,
        )


def inventory_of(row: Row[Any]) -> InventorySpec:
    """The inventory stored in a row of ``inventories``."""
    return InventorySpec(
        chemical=row.chemical,
        cas=row.cas,
        tonnes=row.tonnes,
        volume_m3=row.volume_m3,
        density_t_per_m3=row.density_t_per_m3,
        category=row.category,
        level_tag=row.level_tag,
        shape=None if row.shape is None else TankShape(row.shape),
    )


def _location(node: Row[Any]) -> Location | None:
    if node.lat is None or node.lon is None:
        return None
    return Location(lat=node.lat, lon=node.lon)
