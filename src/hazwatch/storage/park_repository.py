"""The places and emergency resources of each park, as the linkage logic reads them.

They are declared in the plant file and stored by its import (``storage/plant_import.py``);
the only state kept here besides is whether a resource is ``available`` (a brigade out on
another call is not), which a re-import keeps. Reads are by park node id: callers resolve
the park and check the caller's grant on its path first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select, update

from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.respond.linkage import Place
from hazwatch.respond.resources import Resource
from hazwatch.storage.database import Database
from hazwatch.storage.schema import emergency_resources, park_places, scope_nodes


class ParkRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def parks(self, key: str) -> list[ScopeNode]:
        """The parks keyed ``key`` (one per region at most), ordered by id."""
        query = (
            select(scope_nodes)
            .where(scope_nodes.c.kind == ScopeKind.PARK.value, scope_nodes.c.key == key)
            .order_by(scope_nodes.c.id)
        )
        with self._db.engine.connect() as conn:
            return [
                ScopeNode(
                    id=row.id,
                    kind=ScopeKind(row.kind),
                    key=row.key,
                    name=row.name,
                    parent_id=row.parent_id,
                    path=row.path,
                )
                for row in conn.execute(query)
            ]

    def places(self, park_id: int) -> list[Place]:
        """The places of park ``park_id``, in plant-file order."""
        query = (
            select(park_places).where(park_places.c.scope_id == park_id).order_by(park_places.c.id)
        )
        with self._db.engine.connect() as conn:
            return [
                Place(
                    key=row.key,
                    name=row.name,
                    kind=row.kind,
                    lat=row.lat,
                    lon=row.lon,
                    sensitive=row.sensitive,
                )
                for row in conn.execute(query)
            ]

    def resources(self, park_id: int) -> list[Resource]:
        """The emergency resources of park ``park_id``, available or not, in file order."""
        query = (
            select(emergency_resources)
            .where(emergency_resources.c.scope_id == park_id)
            .order_by(emergency_resources.c.id)
        )
        with self._db.engine.connect() as conn:
            return [_resource(row) for row in conn.execute(query)]

    def units(self, park_id: int) -> dict[str, str]:
        """The unit of each resource's capacity, by resource key ("" where not given)."""
        query = select(emergency_resources.c.key, emergency_resources.c.unit).where(
            emergency_resources.c.scope_id == park_id
        )
        with self._db.engine.connect() as conn:
            return {key: unit for key, unit in conn.execute(query)}

    def set_available(self, park_id: int, key: str, available: bool) -> Resource | None:
        """Mark a resource available or not; the resource, or None when there is no such one."""
        where = (emergency_resources.c.scope_id == park_id, emergency_resources.c.key == key)
        with self._db.engine.begin() as conn:
            conn.execute(update(emergency_resources).where(*where).values(available=available))
            row = conn.execute(select(emergency_resources).where(*where)).first()
        return None if row is None else _resource(row)


def _resource(row: Row[Any]) -> Resource:
    return Resource(
        key=row.key,
        name=row.name,
        kind=row.kind,
        lat=row.lat,
        lon=row.lon,
        capacity=row.capacity,
        available=row.available,
        contact=row.contact,
    )
