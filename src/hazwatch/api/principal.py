"""Who is calling, and which subtrees each of their roles reaches.

Roles rank viewer < operator < admin (``Role.covers``). A user may hold roles on several
nodes; the grant for an action is the union of the subtrees where the user holds at least
the needed role. Repositories receive that grant and filter every query with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazwatch.domain.role import Role
from hazwatch.domain.scope import Grant


@dataclass(frozen=True, slots=True, kw_only=True)
class Binding:
    role: Role
    scope_id: int
    scope_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    name: str
    bindings: tuple[Binding, ...]
    is_device: bool = False

    def grant(self, at_least: Role = Role.VIEWER) -> Grant:
        return Grant(tuple(b.scope_path for b in self.bindings if b.role.covers(at_least)))
