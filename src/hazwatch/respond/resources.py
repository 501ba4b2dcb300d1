"""Emergency resources of a park and the nearest suitable ones for an incident. Pure.

A resource is a fire brigade, a medical team, a store of materials (absorbent, neutraliser,
breathing apparatus) or any kind a park keeps, with where it is and what it can do
(``capacity``, in the kind's own unit: people, vehicles, tonnes). ``nearest`` ranks the
available resources of the asked kinds by great-circle distance from the incident.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True, slots=True, kw_only=True)
class Resource:
    key: str
    name: str
    kind: str
    lat: float
    lon: float
    capacity: float = 1.0
    available: bool = True
    contact: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Suggestion:
    resource: Resource
    distance_m: float


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine), metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def nearest(
    resources: Sequence[Resource],
    *,
    kinds: Sequence[str],
    lat: float,
    lon: float,
    count: int = 3,
) -> list[Suggestion]:
    """Up to ``count`` available resources of each of ``kinds``, nearest first (kinds in the
    order asked)."""
    out: list[Suggestion] = []
    for kind in kinds:
        ranked = sorted(
            (
                Suggestion(resource=r, distance_m=distance_m(lat, lon, r.lat, r.lon))
                for r in resources
                if r.kind == kind and r.available
            ),
            key=lambda s: s.distance_m,
        )
        out += ranked[:count]
    return out
