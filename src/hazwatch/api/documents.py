"""Documents sent as a request body — a playbook, a plan, a GB 18218 inventory — in YAML or
JSON (JSON is YAML), at most a given size: too large answers 413, unreadable 400."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import HTTPException, Request, status

YAML_OR_JSON: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "object"}},
            "application/yaml": {"schema": {"type": "string"}},
            "text/yaml": {"schema": {"type": "string"}},
        },
    }
}
"""``openapi_extra`` of a route that takes such a document."""


async def document_text(request: Request, *, what: str, max_bytes: int) -> str:
    """The body as text (UTF-8, a byte-order mark allowed)."""
    body = await request.body()
    if len(body) > max_bytes:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE, detail=f"{what} is at most {max_bytes} bytes"
        )
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"not JSON or YAML: {exc}") from exc


async def document_body(request: Request, *, what: str, max_bytes: int) -> object:
    """The body parsed (None when empty)."""
    text = await document_text(request, what=what, max_bytes=max_bytes)
    try:
        return yaml.safe_load(text) if text else None
    except yaml.YAMLError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"not JSON or YAML: {exc}") from exc
