"""Park linkage: the places inside a chlorine plume, in the order to warn them."""

from __future__ import annotations

import math

import pytest

from hazwatch.respond.chemicals import find_chemical
from hazwatch.respond.linkage import (
    METRES_PER_DEGREE_LAT,
    Place,
    evacuation_zone,
    exposures,
    local_metres,
)
from hazwatch.respond.plume import Release, Stability, centerline_mg_m3, mg_m3_to_ppm

LAT0, LON0 = 38.90, 117.60  # a park on the Bohai coast
CHLORINE = find_chemical("chlorine")
RELEASE = Release(rate_g_s=1000, wind_m_s=5, stability=Stability.D)


def _south(metres: float, east: float = 0.0) -> tuple[float, float]:
    lat = LAT0 - metres / METRES_PER_DEGREE_LAT
    lon = LON0 + east / (111_320.0 * math.cos(math.radians(LAT0)))
    return lat, lon


def _place(key: str, south_m: float, east_m: float = 0.0, **fields: object) -> Place:
    lat, lon = _south(south_m, east_m)
    kind = str(fields.get("kind", "enterprise"))
    return Place(
        key=key, name=key, kind=kind, lat=lat, lon=lon, sensitive=bool(fields.get("sensitive"))
    )


def test_local_metres_measure_distances_on_the_ground() -> None:
    lat, lon = _south(1000, east=500)
    east, north = local_metres([lat], [lon], lat0=LAT0, lon0=LON0)
    assert east[0] == pytest.approx(500, rel=1e-6) and north[0] == pytest.approx(-1000, rel=1e-6)


def test_downwind_places_are_warned_sensitive_first_with_arrival_and_concentration() -> None:
    places = [
        _place("neighbour-1", 1000),
        _place("school", 2000, kind="school", sensitive=True),
        _place("upwind", -1000),
        _place("far-aside", 1000, east_m=3000),
    ]
    # A north wind carries the plume south.
    found = exposures(
        RELEASE, CHLORINE, source_lat=LAT0, source_lon=LON0, wind_from_deg=0, places=places
    )
    assert [e.place.key for e in found] == ["school", "neighbour-1"]
    school, neighbour = found
    assert neighbour.downwind_m == pytest.approx(1000, rel=1e-3)
    assert neighbour.arrival_s == pytest.approx(200, rel=1e-3)
    centre = float(mg_m3_to_ppm(centerline_mg_m3(RELEASE, 1000.0), CHLORINE.molar_mass_g_mol))
    assert neighbour.ppm == pytest.approx(centre, rel=1e-3)
    reached = CHLORINE.threshold(neighbour.threshold)
    assert reached is not None and neighbour.ppm >= reached.ppm
    assert school.arrival_s > neighbour.arrival_s


def test_the_evacuation_zone_is_the_threshold_footprint_downwind() -> None:
    zone = evacuation_zone(RELEASE, CHLORINE, wind_from_deg=270)
    assert zone is not None and zone.toward_deg == 90.0
    aegl2 = CHLORINE.threshold("AEGL-2")
    assert aegl2 is not None
    edge = float(
        mg_m3_to_ppm(centerline_mg_m3(RELEASE, zone.downwind_m), CHLORINE.molar_mass_g_mol)
    )
    assert edge == pytest.approx(aegl2.ppm, rel=1e-3)
    assert 0 < zone.half_width_m < zone.downwind_m
    tiny = Release(rate_g_s=0.001, wind_m_s=5, stability=Stability.D)
    assert evacuation_zone(tiny, CHLORINE, wind_from_deg=0) is None
    with pytest.raises(ValueError, match="no TEEL-9"):
        evacuation_zone(RELEASE, CHLORINE, wind_from_deg=0, threshold="TEEL-9")
