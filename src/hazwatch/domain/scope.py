"""The scope tree: region → park → enterprise → site → installation → equipment.

Every asset hangs in one tree; a user's role is bound to one node and grants its subtree.
Nodes carry a materialised ``path`` of ids (``/1/4/9/``) so that "is inside the subtree of"
is a prefix test, in Python and in SQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ScopeKind(StrEnum):
    REGION = "region"
    PARK = "park"
    ENTERPRISE = "enterprise"
    SITE = "site"
    INSTALLATION = "installation"
    EQUIPMENT = "equipment"

    @property
    def depth(self) -> int:
        return list(ScopeKind).index(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class ScopeNode:
    id: int
    kind: ScopeKind
    key: str
    name: str
    parent_id: int | None
    path: str

    def contains(self, path: str) -> bool:
        """True when ``path`` is this node or lies below it."""
        return path.startswith(self.path)


def child_path(parent_path: str | None, node_id: int) -> str:
    """The materialised path of a node below ``parent_path`` (``None`` for a root)."""
    return f"{parent_path or '/'}{node_id}/"


@dataclass(frozen=True, slots=True)
class Grant:
    """The subtrees a caller may see: a set of path prefixes (empty = nothing)."""

    prefixes: tuple[str, ...]

    @classmethod
    def everything(cls) -> Grant:
        return cls(("/",))

    def allows(self, path: str) -> bool:
        return any(path.startswith(p) for p in self.prefixes)
