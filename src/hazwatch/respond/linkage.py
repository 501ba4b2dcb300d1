"""Park linkage: who lies inside a toxic plume, how soon it arrives, what to evacuate. Pure.

Given a release (``plume.Release``) at a source, the wind direction and the chemical's
thresholds (``chemicals``), ``exposures`` says for every place of the park — neighbouring
enterprises and sensitive places (schools, hospitals, residential areas) — whether the
ground-level concentration there reaches a threshold, the most severe one reached, the
downwind distance, the arrival time of the plume front and the expected concentration.
``evacuation_zone`` suggests the area to clear: the footprint of one threshold (AEGL-2 by
default: the level above which people may suffer irreversible or serious effects).

Places are given by latitude and longitude; distances within a park (≤ 10 km, the range of
the model) are computed on a local flat projection around the source, whose error there is
well under a metre per kilometre.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from hazwatch.respond.chemicals import Chemical
from hazwatch.respond.plume import (
    MAX_DISTANCE_M,
    MIN_DISTANCE_M,
    Release,
    arrival_time_s,
    concentration_mg_m3,
    half_width_m,
    mg_m3_to_ppm,
    plume_frame,
    ppm_to_mg_m3,
    threshold_distance_m,
)

METRES_PER_DEGREE_LAT = 110_540.0
METRES_PER_DEGREE_LON_AT_EQUATOR = 111_320.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Place:
    """Somewhere people are: ``kind`` is ``enterprise``, ``school``, ``hospital``,
    ``residential`` or another word the park uses; ``sensitive`` places are warned first."""

    key: str
    name: str
    kind: str
    lat: float
    lon: float
    sensitive: bool = False
    enterprise: str = ""
    """the key of the enterprise the place belongs to (whose posts are warned), if any"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exposure:
    """A place the plume reaches at one of the chemical's thresholds at least."""

    place: Place
    threshold: str
    """the most severe threshold reached (by ppm)"""
    downwind_m: float
    crosswind_m: float
    arrival_s: float
    mg_m3: float
    ppm: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Zone:
    """A footprint: from the source ``downwind_m`` along the wind, ``half_width_m`` at its
    widest on either side; ``toward_deg`` is the direction the plume travels."""

    threshold: str
    downwind_m: float
    half_width_m: float
    toward_deg: float


def local_metres(
    lat: Sequence[float] | np.ndarray,
    lon: Sequence[float] | np.ndarray,
    *,
    lat0: float,
    lon0: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Metres east and north of (``lat0``, ``lon0``) on a flat projection around it."""
    east = (np.asarray(lon, dtype=np.float64) - lon0) * (
        METRES_PER_DEGREE_LON_AT_EQUATOR * math.cos(math.radians(lat0))
    )
    north = (np.asarray(lat, dtype=np.float64) - lat0) * METRES_PER_DEGREE_LAT
    return east, north


def exposures(
    release: Release,
    chemical: Chemical,
    *,
    source_lat: float,
    source_lon: float,
    wind_from_deg: float,
    places: Sequence[Place],
) -> list[Exposure]:
    """The places where the concentration reaches a threshold, sensitive ones first, then
    by arrival time."""
    if not places or not chemical.thresholds:
        return []
    east, north = local_metres(
        [p.lat for p in places], [p.lon for p in places], lat0=source_lat, lon0=source_lon
    )
    x, y = plume_frame(east, north, wind_from_deg=wind_from_deg)
    mg = concentration_mg_m3(release, x, y, 0.0)
    ppm = mg_m3_to_ppm(mg, chemical.molar_mass_g_mol)
    levels = sorted(chemical.thresholds, key=lambda t: t.ppm, reverse=True)
    found: list[Exposure] = []
    for i, place in enumerate(places):
        reached = next((t for t in levels if ppm[i] >= t.ppm), None)
        if reached is None or x[i] <= 0:
            continue
        found.append(
            Exposure(
                place=place,
                threshold=reached.name,
                downwind_m=float(x[i]),
                crosswind_m=float(y[i]),
                arrival_s=float(arrival_time_s(x[i], release.wind_m_s)),
                mg_m3=float(mg[i]),
                ppm=float(ppm[i]),
            )
        )
    return sorted(found, key=lambda e: (not e.place.sensitive, e.arrival_s))


def evacuation_zone(
    release: Release, chemical: Chemical, *, wind_from_deg: float, threshold: str = "AEGL-2"
) -> Zone | None:
    """The footprint of ``threshold`` (None when the release never reaches it)."""
    level = chemical.threshold(threshold)
    if level is None:
        known = ", ".join(t.name for t in chemical.thresholds)
        raise ValueError(f"{chemical.name} has no {threshold} threshold; known: {known}")
    limit = float(ppm_to_mg_m3(level.ppm, chemical.molar_mass_g_mol))
    reach = threshold_distance_m(release, limit)
    if reach is None:
        return None
    xs = np.geomspace(MIN_DISTANCE_M, max(min(reach, MAX_DISTANCE_M), MIN_DISTANCE_M), 200)
    return Zone(
        threshold=threshold,
        downwind_m=reach,
        half_width_m=float(half_width_m(release, xs, limit).max()),
        toward_deg=(wind_from_deg + 180.0) % 360.0,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """One run of the plume over a park: what was assumed and who is inside."""

    chemical: Chemical
    release: Release
    wind_from_deg: float
    exposures: tuple[Exposure, ...]
    zone: Zone | None

    def summary(self) -> str:
        """One paragraph for the journal and the notice: the assumptions, then each place
        reached (most exposed first as ``exposures`` orders them), then the zone."""
        r = self.release
        head = (
            f"{self.chemical.name} {r.rate_g_s:g} g/s, wind {r.wind_m_s:.1f} m/s from "
            f"{self.wind_from_deg:.0f}°, stability {r.stability}"
        )
        reached = [
            f"{e.place.name or e.place.key} ({e.place.kind}) {e.threshold} "
            f"{e.ppm:.3g} ppm at {e.downwind_m:,.0f} m, in {e.arrival_s / 60:.0f} min"
            for e in self.exposures
        ]
        parts = [f"{head}: " + ("; ".join(reached) or "no place inside a footprint")]
        if self.zone is not None:
            z = self.zone
            parts.append(
                f"evacuate the {z.threshold} zone: {z.downwind_m:,.0f} m toward "
                f"{z.toward_deg:.0f}°, {2 * z.half_width_m:,.0f} m wide"
            )
        return "; ".join(parts)


def assess(
    release: Release,
    chemical: Chemical,
    *,
    source_lat: float,
    source_lon: float,
    wind_from_deg: float,
    places: Sequence[Place],
    zone_threshold: str = "AEGL-2",
) -> Assessment:
    """The places reached and the evacuation zone (of ``zone_threshold``, or of the most
    severe threshold the chemical has when it lacks that one)."""
    names = {t.name for t in chemical.thresholds}
    if zone_threshold not in names and chemical.thresholds:
        zone_threshold = max(chemical.thresholds, key=lambda t: t.ppm).name
    zone = (
        evacuation_zone(release, chemical, wind_from_deg=wind_from_deg, threshold=zone_threshold)
        if chemical.thresholds
        else None
    )
    found = exposures(
        release,
        chemical,
        source_lat=source_lat,
        source_lon=source_lon,
        wind_from_deg=wind_from_deg,
        places=places,
    )
    return Assessment(
        chemical=chemical,
        release=release,
        wind_from_deg=wind_from_deg,
        exposures=tuple(found),
        zone=zone,
    )
