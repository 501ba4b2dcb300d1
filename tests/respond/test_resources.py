"""The nearest suitable emergency resources."""

from __future__ import annotations

import pytest

from hazwatch.respond.resources import Resource, distance_m, nearest

LAT0, LON0 = 38.90, 117.60


def test_one_degree_of_latitude_is_about_111_km() -> None:
    assert distance_m(LAT0, LON0, LAT0 + 1, LON0) == pytest.approx(111_195, rel=1e-3)


def test_available_resources_of_each_kind_nearest_first() -> None:
    resources = [
        Resource(key="fb-far", name="brigade 2", kind="fire-brigade", lat=38.95, lon=117.60),
        Resource(key="fb-near", name="brigade 1", kind="fire-brigade", lat=38.91, lon=117.60),
        Resource(
            key="fb-busy",
            name="brigade 3",
            kind="fire-brigade",
            lat=38.90,
            lon=117.60,
            available=False,
        ),
        Resource(key="med", name="clinic", kind="medical-team", lat=38.92, lon=117.61),
        Resource(key="foam", name="foam store", kind="materials", lat=38.90, lon=117.60),
    ]
    got = nearest(resources, kinds=["fire-brigade", "medical-team"], lat=LAT0, lon=LON0, count=2)
    assert [s.resource.key for s in got] == ["fb-near", "fb-far", "med"]
    assert got[0].distance_m == pytest.approx(1112, rel=1e-2)
    assert nearest(resources, kinds=["helicopter"], lat=LAT0, lon=LON0) == []
