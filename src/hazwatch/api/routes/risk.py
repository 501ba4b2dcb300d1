"""The dynamic risk colour of installations, enterprises and parks, with its explanation and
its history (docs/evaluation.md, "Dynamic risk colour").

A node is named by its key: an installation by ``enterprise.site.installation``, an
enterprise or a park by its own key; ``kind`` tells apart a park and an enterprise that
share a key (409 until it is given). Callers see the nodes inside their roles' subtrees; a
node outside them answers 404, as an unknown one. The colours are read from the running
risk stage, never recomputed by a request.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.domain.clock import DAY_MS, iso, parse_millis
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.warning import Colour
from hazwatch.evaluate.risk import Contribution, Factor
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.risk_stage import KINDS, NodeRisk
from hazwatch.storage.risk_repository import RiskChange

router = APIRouter(tags=["risk"])

KindQuery = Annotated[
    ScopeKind | None,
    Query(
        description="installation, enterprise or park: needed when a park and an "
        "enterprise share the key"
    ),
]


class ContributionOut(BaseModel):
    """What one factor did to the colour, and why."""

    factor: Factor
    level: str = Field(
        description="the priority or colour within the factor, or a park's enterprise"
    )
    value: float | str | None = Field(description="what the factor looked at; null: not tracked")
    tracked: bool
    sets: Colour | None = Field(description="the baseline colour this factor gives")
    steps: int = Field(description="colours up this factor asks for")
    floor: Colour | None = Field(description="the colour this factor holds the node at, at least")
    subjects: list[str] = Field(description="what was counted (the first few)")
    text: str

    @classmethod
    def of(cls, c: Contribution) -> ContributionOut:
        return cls(
            factor=c.factor,
            level=c.level,
            value=c.value,
            tracked=c.tracked,
            sets=c.sets,
            steps=c.steps,
            floor=c.floor,
            subjects=list(c.subjects),
            text=c.text,
        )


class NodeRiskOut(BaseModel):
    """The colour of one node now and how it came about."""

    key: str = Field(description="enterprise.site.installation, or an enterprise's or park's key")
    kind: ScopeKind
    name: str
    scope_id: int
    path: str
    colour: Colour = Field(description="red (level 1, major) … blue (level 4, low)")
    level: int = Field(ge=1, le=4, description="the colour's official level: 1 red … 4 blue")
    baseline: Colour = Field(description="the colour before live adjustments")
    steps: int = Field(description="colours up applied (the factors' steps, capped)")
    requested_steps: int = Field(description="the factors' steps added up, before the cap")
    since: str = Field(description="when the node turned this colour")
    previous: Colour | None = Field(description="the colour before; null: none recorded")
    contributions: list[ContributionOut]

    @classmethod
    def of(cls, risk: NodeRisk) -> NodeRiskOut:
        a = risk.assessment
        return cls(
            key=risk.key,
            kind=risk.node.kind,
            name=risk.node.name,
            scope_id=risk.node.id,
            path=risk.node.path,
            colour=a.colour,
            level=a.colour.level,
            baseline=a.baseline,
            steps=a.steps,
            requested_steps=a.requested_steps,
            since=iso(risk.since),
            previous=risk.previous,
            contributions=[ContributionOut.of(c) for c in a.contributions],
        )


class RiskChangeOut(BaseModel):
    """One change of a node's colour, with the assessment that explained it then."""

    at: str
    colour: Colour
    previous: Colour | None
    explanation: dict[str, Any] = Field(
        description="colour, baseline, steps, requested_steps and contributions, as then"
    )

    @classmethod
    def of(cls, change: RiskChange) -> RiskChangeOut:
        return cls(
            at=iso(change.at),
            colour=change.colour,
            previous=change.previous,
            explanation=change.explanation,
        )


_ORDER = {kind: i for i, kind in enumerate(reversed(KINDS))}


@router.get("/risk", operation_id="list_risk", response_model=list[NodeRiskOut])
def list_risk(
    platform: PlatformDep, grant: ViewerGrant, kind: KindQuery = None
) -> list[NodeRiskOut]:
    """The colour of every installation, enterprise and park the caller may see: parks
    first, then enterprises, then installations, each by key."""
    found = [
        r
        for r in platform.risk.snapshot().values()
        if grant.allows(r.node.path) and kind in (None, r.node.kind)
    ]
    found.sort(key=lambda r: (_ORDER[r.node.kind], r.key))
    return [NodeRiskOut.of(r) for r in found]


@router.get("/risk/{scope_key}", operation_id="get_risk", response_model=NodeRiskOut)
def get_risk(
    scope_key: str, platform: PlatformDep, grant: ViewerGrant, kind: KindQuery = None
) -> NodeRiskOut:
    """One node's colour with every factor's contribution: the explanation."""
    return NodeRiskOut.of(_node(platform, grant, scope_key, kind))


@router.get(
    "/risk/{scope_key}/history",
    operation_id="get_risk_history",
    response_model=list[RiskChangeOut],
)
def get_risk_history(
    scope_key: str,
    platform: PlatformDep,
    grant: ViewerGrant,
    kind: KindQuery = None,
    start: Annotated[
        str | None, Query(description="ISO 8601 with a zone, or epoch ms; default: 24 h ago")
    ] = None,
    end: Annotated[
        str | None, Query(description="ISO 8601 with a zone, or epoch ms; default: none")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> list[RiskChangeOut]:
    """The node's colour changes with ``start ≤ at < end``, oldest first."""
    risk = _node(platform, grant, scope_key, kind)
    until = None if end is None else _instant("end", end)
    since = platform.clock.now() - DAY_MS if start is None else _instant("start", start)
    if until is not None and until <= since:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"end ({iso(until)}) must lie after start ({iso(since)})",
        )
    changes = platform.risk.history(grant, risk.node.id, start=since, end=until, limit=limit)
    return [RiskChangeOut.of(c) for c in changes]


def _instant(name: str, value: str) -> int:
    found = parse_millis(value)
    if found is None:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"{name}: expected ISO 8601 with a zone, or epoch milliseconds, not {value!r}",
        )
    return found


def _node(platform: Platform, grant: Grant, key: str, kind: ScopeKind | None) -> NodeRisk:
    if kind is not None and kind not in KINDS:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=f"kind: {kind.value} has no risk colour (give installation, enterprise or park)",
        )
    found = [
        r
        for r in platform.risk.snapshot().values()
        if r.key == key and kind in (None, r.node.kind) and grant.allows(r.node.path)
    ]
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no risk colour for {key!r}")
    if len(found) > 1:
        kinds = ", ".join(sorted({r.node.kind.value for r in found}))
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            detail=f"several nodes have the key {key!r} ({kinds}): give kind",
        )
    return found[0]
