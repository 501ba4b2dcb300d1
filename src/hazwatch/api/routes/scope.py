"""The scope tree and the assets in it, limited to what the caller may see."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.schemas import ScopeNodeOut

router = APIRouter(tags=["scope"])


@router.get("/scope", operation_id="list_scope_nodes", response_model=list[ScopeNodeOut])
def list_scope_nodes(platform: PlatformDep, grant: ViewerGrant) -> list[ScopeNodeOut]:
    """Every node of the tree the caller may see, parents before children."""
    return [ScopeNodeOut.of(n) for n in platform.plants.nodes(grant)]


@router.get("/scope/{node_id}", operation_id="get_scope_node", response_model=ScopeNodeOut)
def get_scope_node(node_id: int, platform: PlatformDep, grant: ViewerGrant) -> ScopeNodeOut:
    node = platform.plants.node(node_id)
    if node is None or not grant.allows(node.path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scope node {node_id}")
    return ScopeNodeOut.of(node)
