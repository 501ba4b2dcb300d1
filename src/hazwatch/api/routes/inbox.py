"""The caller's in-app notifications: newest first, and marking them read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status

from hazwatch.api.deps import PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.domain.clock import iso

router = APIRouter(tags=["inbox"])


@router.get("/inbox", operation_id="my_inbox")
def my_inbox(
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: ViewerGrant,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, object]]:
    """The caller's notifications, newest first; ``read_at`` is null while unread."""
    return [
        {
            "key": entry.key,
            "title": entry.title,
            "text": entry.text,
            "rank": entry.rank,
            "at": iso(entry.at),
            "notice_ids": list(entry.notice_ids),
            "read_at": None if read_at is None else iso(read_at),
        }
        for entry, read_at in platform.inbox.latest(principal.name, limit=limit)
    ]


@router.post(
    "/inbox/{key}/read", operation_id="mark_inbox_read", status_code=status.HTTP_204_NO_CONTENT
)
def mark_read(
    key: str, platform: PlatformDep, principal: PrincipalDep, grant: ViewerGrant
) -> Response:
    if not platform.inbox.mark_read(principal.name, key, now=platform.clock.now()):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no notification {key!r}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
