"""Liveness, readiness and Prometheus metrics (no sign-in: scraped by infrastructure)."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from sqlalchemy import text

from hazwatch.api.deps import PlatformDep

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", operation_id="readyz")
def readyz(platform: PlatformDep, response: Response) -> dict[str, object]:
    """Ready when the database answers and the pipeline runs."""
    checks: dict[str, bool] = {"engine": platform.engine.running}
    try:
        with platform.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = True
    except Exception:  # any failure means "not ready"; the reason is in the logs
        checks["database"] = False
    ready = all(checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return {"status": "ready" if ready else "not ready", "checks": checks}


@router.get("/metrics", operation_id="metrics", response_class=Response)
def metrics(platform: PlatformDep) -> Response:
    return Response(
        platform.metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
