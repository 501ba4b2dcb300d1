"""Park places and emergency resources: list them, and mark a resource available or not.

Places and resources are declared in the plant file (``hazwatch plant import``); here they
are read, and a resource's availability — operational state the file does not hold — is
set. Anyone with a role on the park or on a node inside it may read (an enterprise must
know the schools downwind of it); setting availability needs an admin role covering the
park. A park the caller may not see answers 404, as one that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from hazwatch.api.deps import AdminGrant, PlatformDep, ViewerGrant
from hazwatch.domain.scope import Grant, ScopeNode
from hazwatch.respond.linkage import Place
from hazwatch.respond.resources import Resource
from hazwatch.storage.park_repository import ParkRepository

router = APIRouter(tags=["parks"])


class PlaceOut(BaseModel):
    key: str
    name: str
    kind: str
    lat: float
    lon: float
    sensitive: bool

    @classmethod
    def of(cls, place: Place) -> PlaceOut:
        return cls(
            key=place.key,
            name=place.name,
            kind=place.kind,
            lat=place.lat,
            lon=place.lon,
            sensitive=place.sensitive,
        )


class ResourceOut(BaseModel):
    key: str
    name: str
    kind: str
    lat: float
    lon: float
    capacity: float
    unit: str = Field(description="unit of capacity: people, vehicles, tonnes…")
    available: bool
    contact: str

    @classmethod
    def of(cls, resource: Resource, unit: str) -> ResourceOut:
        return cls(
            key=resource.key,
            name=resource.name,
            kind=resource.kind,
            lat=resource.lat,
            lon=resource.lon,
            capacity=resource.capacity,
            unit=unit,
            available=resource.available,
            contact=resource.contact,
        )


class ResourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    available: bool = Field(description="false while the resource is out on another call")


@router.get(
    "/parks/{park_key}/places", operation_id="list_park_places", response_model=list[PlaceOut]
)
def list_park_places(park_key: str, platform: PlatformDep, grant: ViewerGrant) -> list[PlaceOut]:
    """The park's places — enterprises, schools, hospitals, residential areas — in file order;
    ``sensitive`` ones are warned first."""
    parks = platform.parks
    park = _park(parks, grant, park_key)
    return [PlaceOut.of(p) for p in parks.places(park.id)]


@router.get(
    "/parks/{park_key}/resources",
    operation_id="list_park_resources",
    response_model=list[ResourceOut],
)
def list_park_resources(
    park_key: str, platform: PlatformDep, grant: ViewerGrant
) -> list[ResourceOut]:
    """The park's emergency resources (fire brigades, medical teams, materials), in file
    order, available or not."""
    parks = platform.parks
    park = _park(parks, grant, park_key)
    units = parks.units(park.id)
    return [ResourceOut.of(r, units.get(r.key, "")) for r in parks.resources(park.id)]


@router.patch(
    "/parks/{park_key}/resources/{key}",
    operation_id="update_park_resource",
    response_model=ResourceOut,
)
def update_park_resource(
    park_key: str,
    key: str,
    body: ResourcePatch,
    platform: PlatformDep,
    grant: ViewerGrant,
    admin: AdminGrant,
) -> ResourceOut:
    """Mark a resource available or not (admin role on the park)."""
    parks = platform.parks
    park = _park(parks, grant, park_key)
    if not admin.allows(park.path):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="this needs an admin role on the park"
        )
    resource = parks.set_available(park.id, key, body.available)
    if resource is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no resource {key!r} in park {park_key!r}"
        )
    return ResourceOut.of(resource, parks.units(park.id).get(key, ""))


def _park(parks: ParkRepository, grant: Grant, key: str) -> ScopeNode:
    """The park ``key`` the caller holds a role on, at or inside it; else 404."""
    seen = [
        p
        for p in parks.parks(key)
        if grant.allows(p.path) or any(prefix.startswith(p.path) for prefix in grant.prefixes)
    ]
    if not seen:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no park {key!r}")
    if len(seen) > 1:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=f"several regions have a park {key!r}")
    return seen[0]
