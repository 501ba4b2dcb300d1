"""System evaluation: GB 18218-2018 identification and grading of major hazard installations.

``POST /evaluate/gb18218`` evaluates a document of installations and inventories sent as
YAML (``application/yaml``, ``text/yaml``) or JSON — the same document and the same answer
as ``hazwatch evaluate gb18218 FILE --json`` (docs/evaluation.md). ``GET
/installations/{key}/gb18218`` evaluates an installation of the stored plant from its
declared inventories and neighbourhood, or (``quantities=live``) from the highest levels its
level tags read over a period. A document or plant that cannot be evaluated, or a level tag
without readings in the period, answers 422 with ``problems``, each naming the
installation, the item and the field; a bad period answers 422 naming the parameter.
"""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction
from typing import Annotated

import yaml
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.documents import YAML_OR_JSON, document_text
from hazwatch.api.period import period_of
from hazwatch.evaluate.gb18218 import Gb18218Error, report
from hazwatch.evaluate.gb18218_document import evaluate_document
from hazwatch.evaluate.gb18218_tables import exact
from hazwatch.plant.document import compose
from hazwatch.runtime.evaluation import grade_installation, measured_levels

router = APIRouter(tags=["evaluation"])

MAX_BYTES = 1024 * 1024

FillRatio = Annotated[
    float | None,
    Query(
        gt=0,
        le=1,
        description="fill ratio of tank items that state none, when the document gives no"
        " default (default 1: the design maximum)",
    ),
]


def _refusal(exc: Gb18218Error) -> JSONResponse:
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": "cannot evaluate by GB 18218", "problems": list(exc.problems)},
    )


def _ratio(fill_ratio: float | None) -> Fraction | None:
    return None if fill_ratio is None else exact(fill_ratio)


@router.post(
    "/evaluate/gb18218",
    operation_id="evaluate_gb18218",
    openapi_extra=YAML_OR_JSON,
)
async def evaluate_gb18218(
    request: Request, grant: ViewerGrant, fill_ratio: FillRatio = None
) -> JSONResponse:
    """S, R, α and the grade of each installation of the document, with per item q, Q, β
    and the rule that gave each (any signed-in user: nothing stored is read)."""
    text = await document_text(request, what="a document", max_bytes=MAX_BYTES)
    try:
        document = compose(text)
    except yaml.YAMLError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, detail=f"not JSON or YAML: {exc}") from exc
    try:
        if document.findings:
            raise Gb18218Error([f"line {f.position[0]}: {f.message}" for f in document.findings])
        found = evaluate_document(document.data, fill_ratio=_ratio(fill_ratio))
    except Gb18218Error as exc:
        return _refusal(exc)
    return JSONResponse(content=report(found))


class QuantitySource(StrEnum):
    """Where a stored installation's quantities come from."""

    DECLARED = "declared"
    """the plant file's tonnes, or tank volume × density × fill ratio"""
    LIVE = "live"
    """the highest level each inventory's level tag read over the period"""


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


@router.get("/installations/{key}/gb18218", operation_id="get_installation_gb18218")
def get_installation_gb18218(
    key: str,
    platform: PlatformDep,
    grant: ViewerGrant,
    fill_ratio: FillRatio = None,
    quantities: Annotated[
        QuantitySource,
        Query(
            description="declared: the plant file's quantities; live: for each inventory with"
            " a level_tag, the tonnes held at the highest level read over [start, end)"
        ),
    ] = QuantitySource.DECLARED,
    start: Annotated[
        str | None, Query(description="with quantities=live; default: end − 24 h")
    ] = None,
    end: Annotated[
        str | None, Query(description="with quantities=live; default: the current minute")
    ] = None,
) -> JSONResponse:
    """The installation ``enterprise.site.installation`` of the stored plant, identified and
    graded from its declared inventories — or, with ``quantities=live``, from the highest
    level each inventory's level tag read over ``[start, end)`` (inventories without a
    level tag stay declared); without a declared ``people_within_500m`` α is Table 5's
    highest (``alpha_basis: assumed``)."""
    if quantities is QuantitySource.DECLARED and (start is not None or end is not None):
        raise _unprocessable("start, end: only with quantities=live")
    found = platform.plants.installation(key, grant)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no installation {key!r}")
    try:
        levels = None
        if quantities is QuantitySource.LIVE:
            since, until = period_of(platform.clock.now(), start, end)
            levels = measured_levels(platform.plants, platform.readings, found, since, until)
        graded = grade_installation(found, fill_ratio=_ratio(fill_ratio), levels=levels)
    except Gb18218Error as exc:
        return _refusal(exc)
    return JSONResponse(content=report([graded]))
