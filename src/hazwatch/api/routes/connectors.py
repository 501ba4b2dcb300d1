"""The connectors the platform runs, and the health of the devices behind them."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.schemas import ConnectorOut, LinkOut
from hazwatch.domain.link import status_key
from hazwatch.runtime.sources import Sources

router = APIRouter(tags=["connectors"])


@router.get("/connectors", operation_id="list_connectors", response_model=list[ConnectorOut])
def list_connectors(
    request: Request, platform: PlatformDep, grant: ViewerGrant
) -> list[ConnectorOut]:
    """Every connector with its health and counters; of the devices behind it, those in the
    caller's scope. Link alarms (device offline, degraded) are on the status tags."""
    sources: Sources | None = getattr(request.app.state, "sources", None)
    if sources is None:
        return []
    tags = platform.pipeline.tags_by_key
    out = []
    for status in sources.status:
        devices = []
        for link in status.devices.values():
            tag = tags.get(status_key(link.key))
            if tag is not None and not grant.allows(tag.scope_path):
                continue
            devices.append(
                LinkOut(
                    key=link.key,
                    health=link.health,
                    detail=link.detail,
                    status_tag_id=tag.id if tag else None,
                )
            )
        entry = status.entry
        out.append(
            ConnectorOut(
                name=entry.name,
                kind=entry.kind,
                equipment=entry.equipment,
                health=status.health,
                detail=status.detail,
                batches=status.batches,
                readings=status.readings,
                restarts=status.restarts,
                devices=sorted(devices, key=lambda d: d.key),
            )
        )
    return out
