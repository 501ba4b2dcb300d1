"""The scope tree and the assets in it (inventories), limited to what the caller may see."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.schemas import InventoryOut, ScopeNodeOut

router = APIRouter(tags=["scope"])


@router.get("/scope", operation_id="list_scope_nodes", response_model=list[ScopeNodeOut])
def list_scope_nodes(platform: PlatformDep, grant: ViewerGrant) -> list[ScopeNodeOut]:
    """Every node of the tree the caller may see, parents before children, with the map
    position of parks and enterprises."""
    located = platform.plants.locations(grant)
    return [ScopeNodeOut.of(n, located.get(n.id)) for n in platform.plants.nodes(grant)]


@router.get("/scope/{node_id}", operation_id="get_scope_node", response_model=ScopeNodeOut)
def get_scope_node(node_id: int, platform: PlatformDep, grant: ViewerGrant) -> ScopeNodeOut:
    node = platform.plants.node(node_id)
    if node is None or not grant.allows(node.path):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no scope node {node_id}")
    return ScopeNodeOut.of(node, platform.plants.locations(grant).get(node.id))


@router.get("/inventories", operation_id="list_inventories", response_model=list[InventoryOut])
def list_inventories(platform: PlatformDep, grant: ViewerGrant) -> list[InventoryOut]:
    """Hazardous-chemical inventories of the installations the caller may see."""
    return [
        InventoryOut(
            id=s.id,
            installation_id=s.scope_id,
            installation_path=s.scope_path,
            chemical=s.inventory.chemical,
            cas=s.inventory.cas,
            quantity_t=s.inventory.quantity_t,
            tonnes=s.inventory.tonnes,
            volume_m3=s.inventory.volume_m3,
            density_t_per_m3=s.inventory.density_t_per_m3,
            category=s.inventory.category,
        )
        for s in platform.plants.inventories(grant)
    ]
