"""Emergency-plan templates (预案): list, read (any version), and upload a version (admins).

The plans shipped with hazwatch are listed (``builtin: true``) until a plan of the same name
is uploaded. An upload is the plan document as JSON (``application/json``) or YAML
(``application/yaml``); it is validated before it is stored, and a refusal answers 422 with
every problem naming the task and the field (``tasks[1] (isolate).assignee: …``). A version
is stored once: the same document again answers 200, another document under a stored
version 409, a new version 201.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hazwatch.api.deps import AdminGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.api.documents import YAML_OR_JSON, document_body
from hazwatch.api.incident_schemas import PlanDetailOut, PlanOut
from hazwatch.respond.plan import PlanError, parse_plan
from hazwatch.storage.plan_repository import PlanRepository, PlanVersionError

router = APIRouter(tags=["plans"])

MAX_BYTES = 256 * 1024


def plan_repository(platform: PlatformDep) -> PlanRepository:
    return PlanRepository(platform.db)


PlansDep = Annotated[PlanRepository, Depends(plan_repository)]


@router.get("/plans", operation_id="list_plans", response_model=list[PlanOut])
def list_plans(plans: PlansDep, grant: ViewerGrant) -> list[PlanOut]:
    """The plans in force by name: the newest upload, else the one shipped with hazwatch."""
    return [PlanOut.of(s) for s in plans.in_force()]


@router.get("/plans/{name}", operation_id="get_plan", response_model=PlanDetailOut)
def get_plan(
    name: str,
    plans: PlansDep,
    grant: ViewerGrant,
    version: Annotated[int | None, Query(ge=1, description="default: the one in force")] = None,
) -> PlanDetailOut:
    stored = plans.get(name, version)
    if stored is None:
        which = f"version {version} of " if version is not None else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {which}plan {name!r}")
    return PlanDetailOut(**PlanOut.of(stored).model_dump(), versions=plans.versions(name))


@router.post(
    "/plans",
    operation_id="upload_plan",
    status_code=status.HTTP_201_CREATED,
    response_model=PlanOut,
    openapi_extra=YAML_OR_JSON,
)
async def upload_plan(
    request: Request,
    platform: PlatformDep,
    plans: PlansDep,
    principal: PrincipalDep,
    grant: AdminGrant,
) -> JSONResponse:
    """Validate and store a plan version (admin role)."""
    document = await document_body(request, what="a plan", max_bytes=MAX_BYTES)
    try:
        plan = parse_plan(document, source="plan")
    except PlanError as exc:
        return JSONResponse(
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            content={"detail": "the plan is not valid", "problems": list(exc.problems)},
        )
    existed = plan.version in plans.versions(plan.name, builtin=False)
    try:
        stored = plans.save(plan, actor=principal.name, now=platform.clock.now())
    except PlanVersionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from exc
    return JSONResponse(
        status_code=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        content=PlanOut.of(stored).model_dump(mode="json"),
    )
