"""Roles a user holds on one node of the scope tree (and so on its whole subtree).

Roles are ordered: an ``admin`` may do everything an ``operator`` may, and an ``operator``
everything a ``viewer`` may. ``viewer`` reads; ``operator`` also acts on alarms (acknowledge,
shelve) and incidents; ``admin`` also changes the plant, users and keys.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        """0 for viewer, 1 for operator, 2 for admin."""
        return _RANKS[self]

    def covers(self, required: Role) -> bool:
        """True when this role may do what ``required`` may."""
        return self.rank >= required.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
