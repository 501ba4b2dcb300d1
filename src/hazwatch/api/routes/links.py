"""Link health from outside: ``POST /links``, how an edge gateway without a broker reports
the health of its connectors and devices.

The body is the payload of the MQTT links convention (docs/mqtt.md, "Link health"): the
current health of every link the sender knows. Each link is handed to the platform's
``Sources`` as a device it does not run itself, which keeps its status tag and raises
device-offline and degraded alarms after the on-delay, as for its own connectors. The
sender needs what ``POST /ingest`` needs (a device key, or an admin's token), and every
equipment must lie within its scope: a key may report only its own devices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Self

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from hazwatch.api.deps import PlatformDep, SenderDep
from hazwatch.api.schemas import ProblemOut
from hazwatch.connectors.mqtt.links import MAX_DETAIL
from hazwatch.domain.clock import MAX_MILLIS
from hazwatch.domain.keys import EQUIPMENT_KEY
from hazwatch.domain.link import Health, status_key
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.role import Role
from hazwatch.domain.scope import Grant, ScopeKind, ScopeNode
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.sources import Sources

router = APIRouter(tags=["connectors"])

SOURCE = "http:links"
MAX_LINKS = 10_000
_SHOWN = 10


def _cut(detail: str) -> str:
    return detail[:MAX_DETAIL]


class LinkIn(BaseModel):
    """The health of one link."""

    equipment: str = Field(
        pattern=rf"^{EQUIPMENT_KEY.pattern}$",
        description="equipment key of the link: enterprise.site.installation.equipment",
        examples=["lpg.main.sphere-farm.plc-1"],
    )
    health: Health = Field(description="online, degraded, offline or connecting")
    detail: Annotated[str, AfterValidator(_cut)] = Field(
        default="",
        description=f"why (the last error and its code); cut at {MAX_DETAIL} characters",
    )


class LinksIn(BaseModel):
    """A sender's links, all of them, as they are now."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "ts": 1800000000000,
                "links": [
                    {
                        "equipment": "lpg.main.sphere-farm.plc-1",
                        "health": "offline",
                        "detail": "no answer [modbus.timeout]",
                    }
                ],
            }
        }
    )

    ts: int = Field(strict=True, ge=0, le=MAX_MILLIS, description="when, epoch milliseconds")
    links: list[LinkIn] = Field(max_length=MAX_LINKS, description="every link of the sender")

    @model_validator(mode="after")
    def _once_each(self) -> Self:
        seen: set[str] = set()
        for link in self.links:
            if link.equipment in seen:
                raise ValueError(f"links: equipment {link.equipment} is listed twice")
            seen.add(link.equipment)
        return self


class LinksOut(BaseModel):
    links: int = Field(description="links in the request")
    changed: int = Field(description="links whose health changed (and was recorded)")
    unknown: list[str] = Field(
        default_factory=list,
        description="links below no installation of the plant: not recorded (each kept as a "
        "dead letter)",
    )


@router.post(
    "/links",
    operation_id="report_links",
    response_model=LinksOut,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        403: {"model": ProblemOut, "description": "a link outside the sender's scope"},
        503: {"model": ProblemOut, "description": "this process reports no link health"},
    },
)
async def report_links(
    body: LinksIn, request: Request, platform: PlatformDep, sender: SenderDep
) -> LinksOut:
    """Report the health of the links behind an edge gateway (see docs/gateway.md).

    Only changes of health count: each becomes a reading of the link's status tag
    (``<equipment>.link-status``, created under its installation if missing), and
    ``offline``/``connecting`` or ``degraded`` held for ``link_alarm_delay_s`` raises a
    device-offline or degraded alarm; ``online`` clears it.
    """
    sources: Sources | None = getattr(request.app.state, "sources", None)
    if sources is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail="no link health here")
    grant = sender.grant(Role.ADMIN)
    places = await _places(platform, [link.equipment for link in body.links])
    outside = [
        key for key, place in places.items() if place is None or not grant.allows(place.path)
    ]
    if outside:
        shown = ", ".join(outside[:_SHOWN]) + (" …" if len(outside) > _SHOWN else "")
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"{len(outside)} links outside this sender's scope (or not in the plant): "
            f"{shown}; none was recorded",
        )
    unknown = [key for key, place in places.items() if place is not None and place.depth < 3]
    if unknown:
        now = platform.clock.now()
        sender_path = grant.prefixes[0] if grant.prefixes else "/"
        letters = [
            DeadLetter(
                received=now,
                source=SOURCE,
                reason=RejectReason.UNKNOWN_TAG,
                detail=f"link {key}: no installation {key.rpartition('.')[0]} in the plant, "
                "so its status tag cannot be created",
                scope_path=sender_path,
                tag_key=status_key(key),
            )
            for key in unknown
        ]
        await run_in_threadpool(platform.pipeline.refuse, letters)
    changed = sum(
        sources.report_device(link.equipment, link.health, link.detail)
        for link in body.links
        if link.equipment not in unknown
    )
    return LinksOut(links=len(body.links), changed=changed, unknown=unknown)


@dataclass(frozen=True, slots=True)
class _Place:
    path: str
    """of the equipment, or of the nearest node above it in the plant"""
    depth: int
    """of that node: 4 equipment, 3 installation, 2 site, 1 enterprise"""


async def _places(platform: Platform, keys: Sequence[str]) -> dict[str, _Place | None]:
    """Where each equipment is, or would be created: at the equipment's node, or at the
    nearest node above it that is in the plant (None: not even its enterprise is)."""
    tags = platform.pipeline.tags_by_key
    places: dict[str, _Place | None] = {}
    for key in keys:
        tag = tags.get(status_key(key))
        places[key] = _Place(tag.scope_path, 4) if tag is not None else None
    if any(place is None for place in places.values()):
        nodes = await run_in_threadpool(platform.plants.nodes, Grant.everything())
        where = _paths_by_key(nodes)
        for key, place in places.items():
            if place is not None:
                continue
            parts = key.split(".")
            places[key] = next(
                (
                    _Place(path, depth)
                    for depth in range(len(parts), 0, -1)
                    if (path := where.get(".".join(parts[:depth]))) is not None
                ),
                None,
            )
    return places


def _paths_by_key(nodes: Sequence[ScopeNode]) -> dict[str, str]:
    """The path of each node from the enterprise down, by its dotted key
    (``lpg``, ``lpg.main``, …); a key that names two nodes is left out."""
    keys: dict[int, str] = {}
    paths: dict[str, str] = {}
    twice: set[str] = set()
    for node in nodes:  # parents come before their children
        if node.kind is ScopeKind.ENTERPRISE:
            key = node.key
        elif node.parent_id is not None and node.parent_id in keys:
            key = f"{keys[node.parent_id]}.{node.key}"
        else:
            continue
        keys[node.id] = key
        if key in paths:
            twice.add(key)
        paths[key] = node.path
    for key in twice:
        del paths[key]
    return paths
