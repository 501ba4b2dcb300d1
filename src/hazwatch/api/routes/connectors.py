"""The connectors the platform runs, and the health of the devices behind them."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, Request

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.schemas import ConnectorOut, LinkOut
from hazwatch.domain.link import Health, status_key
from hazwatch.runtime.sources import LinkStatus, Sources

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

    def visible(links: Iterable[LinkStatus]) -> list[LinkOut]:
        shown = []
        for link in links:
            tag = tags.get(status_key(link.key))
            if tag is not None and not grant.allows(tag.scope_path):
                continue
            shown.append(
                LinkOut(
                    key=link.key,
                    health=link.health,
                    detail=link.detail,
                    status_tag_id=tag.id if tag else None,
                )
            )
        return sorted(shown, key=lambda d: d.key)

    out = [
        ConnectorOut(
            name=status.entry.name,
            kind=status.entry.kind,
            equipment=status.entry.equipment,
            health=status.health,
            detail=status.detail,
            batches=status.batches,
            readings=status.readings,
            restarts=status.restarts,
            devices=visible(status.devices.values()),
        )
        for status in sources.status
    ]
    if sources.reported:  # links that gateways report over HTTP (POST /links)
        out.append(
            ConnectorOut(
                name="links",
                kind="http",
                equipment=None,
                health=Health.ONLINE,
                detail="link health reported by edge gateways over HTTP",
                batches=0,
                readings=0,
                restarts=0,
                devices=visible(sources.reported.values()),
            )
        )
    return out
