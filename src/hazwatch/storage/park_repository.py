"""The places and emergency resources of each park, as the linkage logic reads them.

They are declared in the plant file and stored by its import (``storage/plant_import.py``),
or added, replaced and removed one at a time here (through the API). Either way they live
in the same tables, so ``hazwatch plant export`` writes them out; a later import of a file
sets each park's lists to the file's again. The only state kept besides is whether a
resource is ``available`` (a brigade out on another call is not), which a re-import and a
replacement keep. Reads and writes are by park node id: callers resolve the park and check
the caller's grant on its path first.

A replaced place or resource keeps its row, and so its position in the park's list (the
plant file's order); a new one comes last.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, Table, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from hazwatch.domain.plant import PlaceSpec, ResourceSpec
from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.respond.linkage import Place
from hazwatch.respond.resources import Resource
from hazwatch.storage.database import Database
from hazwatch.storage.errors import ConflictError
from hazwatch.storage.outcome import PutOutcome
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
            return [_place(row) for row in conn.execute(query)]

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

    def add_place(self, park_id: int, spec: PlaceSpec) -> Place:
        """Add a place at the end of the park's list; ``ConflictError`` when its key is
        taken."""
        row = _add(self._db, park_places, park_id, _place_fields(spec), entity="place")
        return _place(row)

    def put_place(self, park_id: int, spec: PlaceSpec) -> tuple[Place, PutOutcome]:
        """Replace the place of the same key in place, or add it at the end."""
        row, outcome = _put(self._db, park_places, park_id, _place_fields(spec))
        return _place(row), outcome

    def remove_place(self, park_id: int, key: str) -> bool:
        """Remove a place; False when the park has none of that key."""
        return _remove(self._db, park_places, park_id, key)

    def add_resource(self, park_id: int, spec: ResourceSpec, *, available: bool = True) -> Resource:
        """Add a resource at the end of the park's list; ``ConflictError`` when its key is
        taken."""
        fields = _resource_fields(spec) | {"available": available}
        return _resource(_add(self._db, emergency_resources, park_id, fields, entity="resource"))

    def put_resource(
        self, park_id: int, spec: ResourceSpec, *, available: bool | None = None
    ) -> tuple[Resource, PutOutcome]:
        """Replace the resource of the same key in place, or add it at the end. ``available``
        None keeps a replaced resource's state (a new one is available)."""
        fields = _resource_fields(spec)
        if available is not None:
            fields["available"] = available
        row, outcome = _put(self._db, emergency_resources, park_id, fields)
        return _resource(row), outcome

    def remove_resource(self, park_id: int, key: str) -> bool:
        """Remove a resource; False when the park has none of that key."""
        return _remove(self._db, emergency_resources, park_id, key)


def _place_fields(spec: PlaceSpec) -> dict[str, object]:
    loc = spec.location
    return {
        "key": spec.key,
        "name": spec.name,
        "kind": spec.kind.value,
        "lat": loc.lat,
        "lon": loc.lon,
        "sensitive": spec.sensitive,
        "enterprise": spec.enterprise,
    }


def _resource_fields(spec: ResourceSpec) -> dict[str, object]:
    loc = spec.location
    return {
        "key": spec.key,
        "name": spec.name,
        "kind": spec.kind.value,
        "lat": loc.lat,
        "lon": loc.lon,
        "capacity": spec.capacity,
        "unit": spec.unit,
        "contact": spec.contact,
    }


def _row(conn: Connection, table: Table, park_id: int, key: object) -> Row[Any] | None:
    query = select(table).where(table.c.scope_id == park_id, table.c.key == key)
    return conn.execute(query).first()


def _add(
    db: Database, table: Table, park_id: int, fields: dict[str, object], *, entity: str
) -> Row[Any]:
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table).values(scope_id=park_id, **fields))
            row = _row(conn, table, park_id, fields["key"])
    except IntegrityError:
        raise ConflictError(entity, fields["key"], "the park has one of that key") from None
    assert row is not None, "just inserted"
    return row


def _put(
    db: Database, table: Table, park_id: int, fields: dict[str, object]
) -> tuple[Row[Any], PutOutcome]:
    try:
        return _update_or_insert(db, table, park_id, fields)
    except IntegrityError:
        # another writer added the key between our update and insert: now it is a replacement
        return _update_or_insert(db, table, park_id, fields)


def _update_or_insert(
    db: Database, table: Table, park_id: int, fields: dict[str, object]
) -> tuple[Row[Any], PutOutcome]:
    where = (table.c.scope_id == park_id, table.c.key == fields["key"])
    with db.engine.begin() as conn:
        replaced = conn.execute(update(table).where(*where).values(**fields)).rowcount
        if not replaced:
            conn.execute(insert(table).values(scope_id=park_id, **fields))
        row = _row(conn, table, park_id, fields["key"])
    assert row is not None, "just written"
    return row, PutOutcome.REPLACED if replaced else PutOutcome.CREATED


def _remove(db: Database, table: Table, park_id: int, key: str) -> bool:
    with db.engine.begin() as conn:
        where = (table.c.scope_id == park_id, table.c.key == key)
        return bool(conn.execute(delete(table).where(*where)).rowcount)


def _place(row: Row[Any]) -> Place:
    return Place(
        key=row.key,
        name=row.name,
        kind=row.kind,
        lat=row.lat,
        lon=row.lon,
        sensitive=row.sensitive,
        enterprise=row.enterprise or "",
    )


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
