"""Playbooks: list, read (any version), and upload a new version (admins).

An upload is the playbook document as JSON (``application/json``) or YAML
(``application/yaml``); it is validated before it is stored, and a refusal answers 422 with
every problem naming the step and the field (``steps[1] (wait-shift).timeout_s: …``). A
version is stored once: the same document again is accepted as it is, another document
under a stored version answers 409.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hazwatch.api.deps import AdminGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.api.documents import YAML_OR_JSON, document_body
from hazwatch.respond.playbook import PlaybookError, parse_playbook
from hazwatch.storage.playbook_repository import PlaybookVersionError, StoredPlaybook

router = APIRouter(tags=["playbooks"])

MAX_BYTES = 256 * 1024


def _out(stored: StoredPlaybook) -> dict[str, Any]:
    return {
        "name": stored.playbook.name,
        "version": stored.playbook.version,
        "title": stored.playbook.title,
        "created_at": stored.created_at,
        "created_by": stored.created_by,
        "document": stored.playbook.model_dump(mode="json"),
    }


@router.get("/playbooks", operation_id="list_playbooks")
def list_playbooks(platform: PlatformDep, grant: ViewerGrant) -> list[dict[str, Any]]:
    """The playbooks in force (the newest version of each)."""
    return [_out(s) for s in platform.playbooks.in_force()]


@router.get("/playbooks/{name}", operation_id="get_playbook")
def get_playbook(
    name: str,
    platform: PlatformDep,
    grant: ViewerGrant,
    version: Annotated[int | None, Query(ge=1, description="default: the newest")] = None,
) -> dict[str, Any]:
    stored = platform.playbooks.get(name, version)
    if stored is None:
        which = f"version {version} of " if version is not None else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {which}playbook {name!r}")
    return _out(stored) | {"versions": platform.playbooks.versions(name)}


@router.post(
    "/playbooks",
    operation_id="upload_playbook",
    status_code=status.HTTP_201_CREATED,
    openapi_extra=YAML_OR_JSON,
)
async def upload_playbook(
    request: Request, platform: PlatformDep, principal: PrincipalDep, grant: AdminGrant
) -> JSONResponse:
    """Validate and store a playbook version."""
    document = await document_body(request, what="a playbook", max_bytes=MAX_BYTES)
    try:
        playbook = parse_playbook(document, source="playbook")
    except PlaybookError as exc:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "the playbook is not valid", "problems": list(exc.problems)},
        )
    existed = platform.playbooks.get(playbook.name, playbook.version) is not None
    try:
        stored = platform.playbooks.save(playbook, actor=principal.name, now=platform.clock.now())
    except PlaybookVersionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return JSONResponse(
        status_code=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        content=_out(stored),
    )
