"""HTTP batch ingest (JSON or CSV), device API keys, and the dead letters of refused input."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from hazwatch.api.deps import AdminGrant, PlatformDep, SenderDep, ViewerGrant
from hazwatch.api.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    DeadLetterOut,
    IngestOut,
    ProblemOut,
    RejectOut,
)
from hazwatch.auth.apikey import hash_api_key, new_api_key
from hazwatch.connectors.http.decode import (
    Decoded,
    Intake,
    PayloadError,
    TagRef,
    decode_csv,
    decode_json,
    excerpt,
)
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.runtime.engine import EngineBusyError
from hazwatch.runtime.platform import Platform

router = APIRouter(tags=["ingest"])

SOURCE = "http"


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadError(RejectReason.OVERSIZED, f"body of {declared} bytes; at most {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadError(RejectReason.OVERSIZED, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _refuse(platform: Platform, letters: list[DeadLetter]) -> None:
    """Keep refused input; off the event loop, and not through the engine's queue, which
    may be full exactly when bad input floods in."""
    await run_in_threadpool(platform.pipeline.refuse, letters)


@router.post(
    "/ingest",
    operation_id="ingest_readings",
    response_model=IngestOut,
    responses={
        400: {"model": ProblemOut, "description": "the payload could not be read at all"},
        413: {"model": ProblemOut, "description": "too many readings or bytes in one request"},
        422: {"model": IngestOut, "description": "some readings refused; the valid ones kept"},
        503: {"model": ProblemOut, "description": "the pipeline is full; retry later"},
    },
)
async def ingest_readings(
    request: Request, platform: PlatformDep, sender: SenderDep
) -> JSONResponse:
    """Send a batch of readings (JSON or CSV; see docs/ingest.md).

    Every reading is accepted or refused with a reason; refused readings are kept as dead
    letters and never cost the valid readings of the same request. The answer is 200 when
    everything was accepted and 422 when some readings were refused (the others are kept).
    """
    settings = platform.settings
    now = platform.clock.now()
    grant = sender.grant()
    sender_path = grant.prefixes[0] if grant.prefixes else "/"
    content_type = request.headers.get("content-type", "application/json").split(";")[0].strip()
    try:
        body = await _read_body(request, settings.max_body_bytes)
        decode = decode_csv if content_type == "text/csv" else decode_json
        tags = platform.pipeline.tags_by_key

        def resolve(key: str) -> TagRef | None:
            tag = tags.get(key)
            return TagRef(id=tag.id, scope_path=tag.scope_path) if tag else None

        intake = Intake(
            resolve=resolve,
            allowed=grant.allows,
            source=SOURCE,
            sender_path=sender_path,
            now=now,
            limit=settings.max_batch_readings,
        )
        decoded: Decoded = await run_in_threadpool(decode, body, intake)
    except PayloadError as exc:
        letter = DeadLetter(
            received=now,
            source=SOURCE,
            reason=exc.reason,
            detail=str(exc),
            scope_path=sender_path,
            payload=excerpt(body) if exc.reason is RejectReason.MALFORMED else None,
        )
        await _refuse(platform, [letter])
        code = (
            status.HTTP_413_CONTENT_TOO_LARGE
            if exc.reason is RejectReason.OVERSIZED
            else status.HTTP_400_BAD_REQUEST
        )
        raise HTTPException(code, detail=str(exc)) from None

    if decoded.refused:
        await _refuse(platform, list(decoded.refused))
    try:
        future = platform.engine.submit(decoded.batch, source=SOURCE, scope_path=sender_path)
    except EngineBusyError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None
    report = await asyncio.wrap_future(future)

    by_reason: dict[RejectReason, int] = {}
    for letter in decoded.refused:
        by_reason[letter.reason] = by_reason.get(letter.reason, 0) + 1
    for reason, n in report.rejected.items():
        by_reason[reason] = by_reason.get(reason, 0) + n
    examples = [
        RejectOut(tag=d.tag_key, reason=d.reason, detail=d.detail) for d in decoded.refused[:20]
    ] + [
        RejectOut(tag=r.tag, reason=r.reason, detail=f"reading at {r.ts} refused")
        for r in report.examples[: max(0, 20 - len(decoded.refused))]
    ]
    out = IngestOut(
        accepted=report.accepted,
        rejected=sum(by_reason.values()),
        rejected_by_reason=by_reason,
        examples=examples,
    )
    code = status.HTTP_200_OK if not by_reason else status.HTTP_422_UNPROCESSABLE_CONTENT
    return JSONResponse(out.model_dump(mode="json"), status_code=code)


@router.get("/dead-letters", operation_id="list_dead_letters", response_model=list[DeadLetterOut])
def list_dead_letters(
    platform: PlatformDep,
    grant: ViewerGrant,
    reason: RejectReason | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 200,
) -> list[DeadLetterOut]:
    """Refused readings and payloads, newest first, with why they were refused."""
    return [
        DeadLetterOut.of(r.id, r.letter)
        for r in platform.dead_letters.list(grant, reason=reason, limit=limit)
    ]


@router.post(
    "/api-keys",
    operation_id="create_api_key",
    response_model=ApiKeyOut,
    status_code=status.HTTP_201_CREATED,
)
def create_api_key(body: ApiKeyIn, platform: PlatformDep, grant: AdminGrant) -> ApiKeyOut:
    """A device key that may send readings for tags below ``scope_id`` (shown only now)."""
    node = platform.plants.node(body.scope_id)
    if node is None or not grant.allows(node.path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scope node {body.scope_id}")
    key = new_api_key()
    key_id = platform.users.add_api_key(body.name, hash_api_key(key), body.scope_id)
    return ApiKeyOut(id=key_id, name=body.name, scope_id=body.scope_id, key=key)
