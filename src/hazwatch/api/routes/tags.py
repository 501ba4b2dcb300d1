"""Tags, their latest values and their history."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, HTTPException, Query, status

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.schemas import HistoryOut, LatestOut, PointOut, TagOut
from hazwatch.domain.batch import Quality
from hazwatch.domain.clock import HOUR_MS, Millis, iso, to_millis
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import Tag
from hazwatch.runtime.platform import Platform
from hazwatch.storage.readings.history import history

router = APIRouter(tags=["tags"])

UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
QUALITY_NAMES = {q.value: q.name.lower() for q in Quality}


def _visible_tag(platform: Platform, grant: Grant, tag_id: int) -> Tag:
    tag = platform.plants.tag(tag_id, grant)
    if tag is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no tag {tag_id}")
    return tag


@router.get("/tags", operation_id="list_tags", response_model=list[TagOut])
def list_tags(
    platform: PlatformDep,
    grant: ViewerGrant,
    q: Annotated[str | None, Query(max_length=200, description="part of key or name")] = None,
    scope_id: int | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[TagOut]:
    tags = platform.plants.search_tags(grant, q=q, scope_id=scope_id, limit=limit, offset=offset)
    return [TagOut.of(t) for t in tags]


@router.get("/tags/{tag_id}", operation_id="get_tag", response_model=TagOut)
def get_tag(tag_id: int, platform: PlatformDep, grant: ViewerGrant) -> TagOut:
    return TagOut.of(_visible_tag(platform, grant, tag_id))


@router.get("/values/latest", operation_id="latest_values", response_model=list[LatestOut])
def latest_values(
    platform: PlatformDep,
    grant: ViewerGrant,
    tag_ids: Annotated[str | None, Query(description="comma-separated tag ids")] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[LatestOut]:
    """The newest reading of each tag (all visible tags, or those named)."""
    if tag_ids:
        try:
            wanted = [int(x) for x in tag_ids.split(",") if x.strip()]
        except ValueError:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail="tag_ids must be integers"
            ) from None
        tags = [t for t in (platform.plants.tag(i, grant) for i in wanted[:limit]) if t]
    else:
        tags = platform.plants.search_tags(grant, q=q, limit=limit)
    ids = np.array([t.id for t in tags], dtype=np.int32)
    ts, value, quality = platform.pipeline.latest.of(ids)
    return [
        LatestOut(
            tag_id=t.id,
            tag_key=t.key,
            ts=iso(s) if s >= 0 else None,
            value=None if s < 0 else v,
            quality=QUALITY_NAMES[qv] if s >= 0 else None,
        )
        for t, s, v, qv in zip(tags, ts.tolist(), value.tolist(), quality.tolist(), strict=True)
    ]


@router.get("/tags/{tag_id}/history", operation_id="tag_history", response_model=HistoryOut)
def tag_history(
    tag_id: int,
    platform: PlatformDep,
    grant: ViewerGrant,
    start: datetime | None = None,
    end: datetime | None = None,
    points: Annotated[int, Query(ge=2, le=10_000)] = 600,
    mode: Literal["auto", "raw", "rollup"] = "auto",
) -> HistoryOut:
    """Readings of a tag between ``start`` and ``end`` (default: the last hour of plant time),
    reduced to at most ``points`` points; peaks are kept (min and max of each bucket)."""
    tag = _visible_tag(platform, grant, tag_id)
    end_ms: Millis = _ms(end) if end else platform.clock.now()
    start_ms: Millis = _ms(start) if start else end_ms - HOUR_MS
    if start_ms >= end_ms:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="start must be before end"
        )
    series = history(platform.readings, tag.id, start_ms, end_ms, points=points, mode=mode)
    return HistoryOut(
        tag_id=tag.id,
        mode=series.mode,
        start=iso(start_ms),
        end=iso(end_ms),
        points=[
            PointOut(
                ts=iso(p.ts),
                value=p.value,
                min=p.min,
                max=p.max,
                count=p.count,
                server_ts=None if p.server_ts is None else iso(p.server_ts),
            )
            for p in series.points
        ],
    )


def _ms(moment: datetime) -> Millis:
    if moment.tzinfo is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail="times need a zone, e.g. 2026-11-28T10:00Z",
        )
    return to_millis(moment)
