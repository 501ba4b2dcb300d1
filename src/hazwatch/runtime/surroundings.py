"""What lies around an occurrence, for the park-linkage and resource steps of a run.

Where the release is (the nearest node above the tag with a map position: installation,
site or enterprise), which park it is in, that park's places and emergency resources (read
when asked, so edits through the API apply at once), and the latest reading of a weather
tag.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hazwatch.domain.clock import Millis
from hazwatch.domain.plant import Location
from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.respond.linkage import Place
from hazwatch.respond.resources import Resource
from hazwatch.storage.park_repository import ParkRepository

FRESH_MS = 15 * 60_000
"""A weather reading older than this is not used: the wind may have turned."""

ValueOf = Callable[[str], tuple[Millis, float] | None]
"""The latest reading (instant, value) of a tag by its key, or None."""


class Surroundings:
    def __init__(
        self,
        *,
        parks: ParkRepository,
        nodes: Sequence[ScopeNode],
        locations: Mapping[int, Location],
    ) -> None:
        self._parks = parks
        self._nodes = {n.id: n for n in nodes}
        self._locations = dict(locations)
        self.value_of: ValueOf = lambda key: None
        """Set by the pipeline that holds the latest values."""

    def source(self, scope_path: str) -> Location | None:
        """The map position of the nearest node at or above ``scope_path`` that has one."""
        for part in reversed(scope_path.strip("/").split("/")):
            if part.isdigit() and int(part) in self._locations:
                return self._locations[int(part)]
        return None

    def park(self, scope_path: str) -> ScopeNode | None:
        """The park ``scope_path`` lies in."""
        for part in scope_path.strip("/").split("/"):
            node = self._nodes.get(int(part)) if part.isdigit() else None
            if node is not None and node.kind is ScopeKind.PARK:
                return node
        return None

    def places(self, park: ScopeNode) -> list[Place]:
        return self._parks.places(park.id)

    def resources(self, park: ScopeNode) -> list[Resource]:
        return self._parks.resources(park.id)

    def units(self, park: ScopeNode) -> dict[str, str]:
        """The unit of each resource's capacity, by resource key."""
        return self._parks.units(park.id)

    def reading(self, tag_key: str, now: Millis) -> float | None:
        """The latest value of ``tag_key`` if fresh (``FRESH_MS``), else None."""
        found = self.value_of(tag_key)
        if found is None or now - found[0] > FRESH_MS:
            return None
        return found[1]
