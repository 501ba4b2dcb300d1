"""Park places and emergency resources: list, add, replace and remove them, and mark a
resource available or not.

Places and resources are declared in the plant file (``hazwatch plant import``) or written
here one at a time, in the plant file's form (``{"key", "kind", "location": {"lat",
"lon"}, …}``, validated as ``PlaceSpec`` / ``ResourceSpec``); both land in the same tables,
so ``hazwatch plant export`` writes out what was edited here. A refused body answers 422
with ``problems`` each naming the field (``location.lat: Input should be less than or equal
to 90``). Anyone with a role on the park or on a node inside it may read (an enterprise must
know the schools downwind of it); every write needs an admin role covering the park. A park
the caller may not see answers 404, as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, HTTPException, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hazwatch.api.deps import AdminGrant, PlatformDep, ViewerGrant
from hazwatch.domain.plant import PlaceSpec, ResourceSpec
from hazwatch.domain.scope import Grant, ScopeKind, ScopeNode
from hazwatch.respond.linkage import Place
from hazwatch.respond.resources import Resource
from hazwatch.runtime.platform import Platform
from hazwatch.storage.errors import ConflictError
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.park_repository import ParkRepository

router = APIRouter(tags=["parks"])


class PlaceOut(BaseModel):
    key: str
    name: str
    kind: str
    lat: float
    lon: float
    sensitive: bool
    enterprise: str | None = None

    @classmethod
    def of(cls, place: Place) -> PlaceOut:
        return cls(
            key=place.key,
            name=place.name,
            kind=place.kind,
            lat=place.lat,
            lon=place.lon,
            sensitive=place.sensitive,
            enterprise=place.enterprise or None,
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
    park = _admin_park(parks, grant, admin, park_key)
    resource = parks.set_available(park.id, key, body.available)
    if resource is None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no resource {key!r} in park {park_key!r}"
        )
    return ResourceOut.of(resource, parks.units(park.id).get(key, ""))


PlaceBody = Annotated[
    dict[str, Any],
    Body(
        description="a place as in the plant file: key, name, kind (school, hospital, "
        "residential, enterprise, office, other), location {lat, lon}, sensitive",
        examples=[{"key": "school-1", "kind": "school", "location": {"lat": 32.1, "lon": 119.4}}],
    ),
]
ResourceBody = Annotated[
    dict[str, Any],
    Body(
        description="a resource as in the plant file: key, name, kind (fire-brigade, "
        "medical-team, materials, rescue-team, other), location {lat, lon}, capacity, unit, "
        "contact; and optionally available",
        examples=[
            {
                "key": "fire-1",
                "kind": "fire-brigade",
                "location": {"lat": 32.1, "lon": 119.4},
                "capacity": 3,
                "unit": "vehicles",
            }
        ],
    ),
]


@router.post(
    "/parks/{park_key}/places",
    operation_id="add_park_place",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaceOut,
)
def add_park_place(
    park_key: str, body: PlaceBody, platform: PlatformDep, grant: ViewerGrant, admin: AdminGrant
) -> Response:
    """Add a place at the end of the park's list (409 when its key is taken)."""
    park = _admin_park(platform.parks, grant, admin, park_key)
    spec = _spec(PlaceSpec, body, None, _enterprise_problems(platform, park, body))
    if isinstance(spec, JSONResponse):
        return spec
    try:
        place = platform.parks.add_place(park.id, spec)
    except ConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return _written(PlaceOut.of(place), PutOutcome.CREATED)


@router.put(
    "/parks/{park_key}/places/{key}", operation_id="set_park_place", response_model=PlaceOut
)
def set_park_place(
    park_key: str,
    key: str,
    body: PlaceBody,
    platform: PlatformDep,
    grant: ViewerGrant,
    admin: AdminGrant,
) -> Response:
    """Replace the place ``key`` (keeping its position in the list), or add it: 200 or 201."""
    park = _admin_park(platform.parks, grant, admin, park_key)
    spec = _spec(PlaceSpec, body, key, _enterprise_problems(platform, park, body))
    if isinstance(spec, JSONResponse):
        return spec
    place, outcome = platform.parks.put_place(park.id, spec)
    return _written(PlaceOut.of(place), outcome)


@router.delete(
    "/parks/{park_key}/places/{key}",
    operation_id="delete_park_place",
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_park_place(
    park_key: str, key: str, platform: PlatformDep, grant: ViewerGrant, admin: AdminGrant
) -> Response:
    park = _admin_park(platform.parks, grant, admin, park_key)
    if not platform.parks.remove_place(park.id, key):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no place {key!r} in park {park_key!r}"
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/parks/{park_key}/resources",
    operation_id="add_park_resource",
    status_code=status.HTTP_201_CREATED,
    response_model=ResourceOut,
)
def add_park_resource(
    park_key: str,
    body: ResourceBody,
    platform: PlatformDep,
    grant: ViewerGrant,
    admin: AdminGrant,
) -> Response:
    """Add a resource at the end of the park's list (409 when its key is taken); it is
    available unless the body says ``"available": false``."""
    park = _admin_park(platform.parks, grant, admin, park_key)
    valid = _resource_spec(body)
    if isinstance(valid, JSONResponse):
        return valid
    spec, available = valid
    try:
        resource = platform.parks.add_resource(park.id, spec, available=available is not False)
    except ConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return _written(ResourceOut.of(resource, spec.unit), PutOutcome.CREATED)


@router.put(
    "/parks/{park_key}/resources/{key}",
    operation_id="set_park_resource",
    response_model=ResourceOut,
)
def set_park_resource(
    park_key: str,
    key: str,
    body: ResourceBody,
    platform: PlatformDep,
    grant: ViewerGrant,
    admin: AdminGrant,
) -> Response:
    """Replace the resource ``key`` (keeping its position and, unless the body gives
    ``available``, its availability), or add it: 200 or 201."""
    park = _admin_park(platform.parks, grant, admin, park_key)
    valid = _resource_spec(body, key)
    if isinstance(valid, JSONResponse):
        return valid
    spec, available = valid
    resource, outcome = platform.parks.put_resource(park.id, spec, available=available)
    return _written(ResourceOut.of(resource, spec.unit), outcome)


@router.delete(
    "/parks/{park_key}/resources/{key}",
    operation_id="delete_park_resource",
    status_code=status.HTTP_204_NO_CONTENT,
)
def delete_park_resource(
    park_key: str, key: str, platform: PlatformDep, grant: ViewerGrant, admin: AdminGrant
) -> Response:
    park = _admin_park(platform.parks, grant, admin, park_key)
    if not platform.parks.remove_resource(park.id, key):
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail=f"no resource {key!r} in park {park_key!r}"
        )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


SpecT = TypeVar("SpecT", PlaceSpec, ResourceSpec)


def _enterprise_problems(platform: Platform, park: ScopeNode, body: dict[str, Any]) -> list[str]:
    """A place's ``enterprise`` must be one of the park's."""
    named = body.get("enterprise")
    if not isinstance(named, str):
        return []
    ours = {
        n.key
        for n in platform.plants.nodes(Grant.everything())
        if n.kind is ScopeKind.ENTERPRISE and n.parent_id == park.id
    }
    if named in ours:
        return []
    return [f"enterprise: {named!r} is not an enterprise of park {park.key!r}"]


def _spec(
    model: type[SpecT], body: dict[str, Any], key: str | None, problems: list[str]
) -> SpecT | JSONResponse:
    """``body`` validated as ``model`` (with the path's ``key``, if any), or the 422 answer
    listing ``problems`` and every field the model refuses."""
    if key is not None:
        if "key" in body and body["key"] != key:
            problems.append(f"key: {body['key']!r} differs from the key in the path {key!r}")
        body = body | {"key": key}
    spec: SpecT | None = None
    try:
        spec = model.model_validate(body)
    except ValidationError as exc:
        problems += _problems(exc)
    if problems or spec is None:
        what = "place" if model is PlaceSpec else "resource"
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": f"the {what} is not valid", "problems": problems},
        )
    return spec


def _resource_spec(
    body: dict[str, Any], key: str | None = None
) -> tuple[ResourceSpec, bool | None] | JSONResponse:
    """The resource of ``body`` and its ``available`` (None when not given), or 422."""
    fields = dict(body)
    available = fields.pop("available", None)
    problems: list[str] = []
    if available is not None and not isinstance(available, bool):
        problems.append("available: Input should be a valid boolean")
    spec = _spec(ResourceSpec, fields, key, problems)
    if isinstance(spec, JSONResponse):
        return spec
    return spec, available


def _problems(exc: ValidationError) -> list[str]:
    """``location.lat: Input should be less than or equal to 90`` — one per error."""
    found: list[str] = []
    for error in exc.errors():
        where = ""
        for part in error["loc"]:
            where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else part)
        message = str(error["msg"]).removeprefix("Value error, ")
        found.append(f"{where}: {message}" if where else message)
    return found


def _written(out: BaseModel, outcome: PutOutcome) -> JSONResponse:
    created = outcome is PutOutcome.CREATED
    return JSONResponse(
        status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        content=out.model_dump(mode="json"),
    )


def _admin_park(parks: ParkRepository, grant: Grant, admin: Grant, key: str) -> ScopeNode:
    """The park ``key`` as ``_park`` finds it, when ``admin`` covers it; else 403."""
    park = _park(parks, grant, key)
    if not admin.allows(park.path):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="this needs an admin role on the park"
        )
    return park


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
