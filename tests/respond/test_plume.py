"""The Gaussian plume against the reference vectors of the reference standards §6.3.

The sigma and concentration vectors are transcribed from the standards' tables "Sigma test
vectors" and "Concentration test vectors" (rural Briggs, reflecting ground); their ppm columns
use chlorine and ammonia as the released gas.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hazwatch.respond.chemicals import find_chemical
from hazwatch.respond.plume import (
    Release,
    Stability,
    Terrain,
    arrival_time_s,
    centerline_mg_m3,
    concentration_mg_m3,
    half_width_m,
    mg_m3_to_ppm,
    plume_frame,
    ppm_to_mg_m3,
    sigma_y,
    sigma_z,
    threshold_distance_m,
)

# class: {x: (σy, σz)} in metres
SIGMAS: dict[str, dict[float, tuple[float, float]]] = {
    "A": {100: (21.891, 20.000), 500: (107.349, 100.000), 1000: (209.762, 200.000),
          5000: (898.146, 1000.000)},
    "B": {100: (15.921, 12.000), 500: (78.072, 60.000), 1000: (152.554, 120.000),
          5000: (653.197, 600.000)},
    "C": {100: (10.945, 7.921), 500: (53.675, 38.139), 1000: (104.881, 73.030),
          5000: (449.073, 282.843)},
    "D": {100: (7.960, 5.595), 500: (39.036, 22.678), 1000: (76.277, 37.947),
          5000: (326.599, 102.899)},
    "E": {100: (5.970, 2.913), 500: (29.277, 13.043), 1000: (57.208, 23.077),
          5000: (244.949, 60.000)},
    "F": {100: (3.980, 1.553), 500: (19.518, 6.957), 1000: (38.139, 12.308),
          5000: (163.299, 32.000)},
}  # fmt: skip

# Q g/s, u m/s, class, x, y, z, H (m), C mg/m³, as Cl₂ ppm, as NH₃ ppm
CONCENTRATIONS = [
    (1000, 5, "D", 1000, 0, 0, 0, 21.994, 7.585, 31.58),
    (1000, 5, "D", 1000, 100, 0, 0, 9.313, 3.212, 13.37),
    (1000, 2, "F", 1000, 0, 0, 0, 339.06, 116.9, 486.8),
    (1000, 2, "F", 2000, 0, 0, 0, 108.97, 37.58, 156.4),
    (100, 3, "C", 500, 0, 0, 20, 4.517, 1.558, 6.485),
]

REL = 0.01


@pytest.mark.parametrize("cls", list(SIGMAS))
def test_sigmas_match_reference_vectors(cls: str) -> None:
    x = np.array(list(SIGMAS[cls]))
    expected = np.array(list(SIGMAS[cls].values()))
    assert sigma_y(x, Stability(cls)) == pytest.approx(expected[:, 0], rel=REL)
    assert sigma_z(x, Stability(cls)) == pytest.approx(expected[:, 1], rel=REL)


@pytest.mark.parametrize(("q", "u", "cls", "x", "y", "z", "h", "mg", "cl2", "nh3"), CONCENTRATIONS)
def test_concentrations_match_reference_vectors(
    q: float, u: float, cls: str, x: float, y: float, z: float, h: float,
    mg: float, cl2: float, nh3: float,
) -> None:  # fmt: skip
    release = Release(rate_g_s=q, wind_m_s=u, stability=Stability(cls), height_m=h)
    c = float(concentration_mg_m3(release, x, y, z))
    assert c == pytest.approx(mg, rel=REL)
    assert float(mg_m3_to_ppm(c, find_chemical("chlorine").molar_mass_g_mol)) == pytest.approx(
        cl2, rel=REL
    )
    assert float(mg_m3_to_ppm(c, find_chemical("ammonia").molar_mass_g_mol)) == pytest.approx(
        nh3, rel=REL
    )


def test_concentration_is_vectorised_over_points() -> None:
    release = Release(rate_g_s=1000, wind_m_s=5, stability=Stability.D)
    c = concentration_mg_m3(release, np.array([1000.0, 1000.0]), np.array([0.0, 100.0]))
    assert c == pytest.approx([21.994, 9.313], rel=REL)


@pytest.mark.parametrize("terrain", list(Terrain))
@pytest.mark.parametrize("cls", list(Stability))
def test_sigmas_grow_with_distance(cls: Stability, terrain: Terrain) -> None:
    x = np.geomspace(100, 10_000, 200)
    assert np.all(np.diff(sigma_y(x, cls, terrain)) > 0)
    assert np.all(np.diff(sigma_z(x, cls, terrain)) > 0)


def test_sigmas_narrow_from_unstable_to_stable() -> None:
    x = np.array([100.0, 1000.0, 5000.0])
    ys = np.array([sigma_y(x, cls) for cls in Stability])
    zs = np.array([sigma_z(x, cls) for cls in Stability])
    assert np.all(np.diff(ys, axis=0) < 0)
    assert np.all(np.diff(zs, axis=0) < 0)


def test_urban_spreads_more_than_rural_and_defaults_to_rural() -> None:
    x = np.array([200.0, 2000.0])
    assert np.all(sigma_y(x, Stability.D, Terrain.URBAN) > sigma_y(x, Stability.D))
    # Urban D σz = 0.14x(1+0.0003x)^-½ (§6.3)
    assert float(sigma_z(1000.0, Stability.D, Terrain.URBAN)) == pytest.approx(
        0.14 * 1000 / math.sqrt(1.3)
    )
    assert Release(rate_g_s=1, wind_m_s=1, stability=Stability.D).terrain is Terrain.RURAL


def test_ground_reflection_doubles_a_ground_source() -> None:
    release = Release(rate_g_s=500, wind_m_s=4, stability=Stability.C)
    x = np.array([150.0, 800.0, 3000.0])
    sy, sz = sigma_y(x, Stability.C), sigma_z(x, Stability.C)
    unreflected = 500 / (2 * np.pi * 4 * sy * sz) * 1000
    reflected = centerline_mg_m3(release, x)
    assert reflected == pytest.approx(2 * unreflected)
    assert reflected == pytest.approx(500 / (np.pi * 4 * sy * sz) * 1000)


def test_upwind_and_source_points_are_zero() -> None:
    release = Release(rate_g_s=1000, wind_m_s=2, stability=Stability.F)
    c = concentration_mg_m3(release, np.array([-500.0, -1.0, 0.0, 500.0]))
    assert list(c[:3]) == [0.0, 0.0, 0.0]
    assert c[3] > 0


def test_concentration_falls_off_the_axis_and_scales_with_rate_and_wind() -> None:
    slow = Release(rate_g_s=100, wind_m_s=2, stability=Stability.D)
    fast = Release(rate_g_s=200, wind_m_s=8, stability=Stability.D)
    c = concentration_mg_m3(slow, 1000.0, np.array([0.0, 50.0, 200.0]))
    assert c[0] > c[1] > c[2]
    assert float(centerline_mg_m3(fast, 1000.0)) == pytest.approx(
        float(centerline_mg_m3(slow, 1000.0)) / 2
    )


def test_a_point_downwind_of_a_north_wind_lies_south() -> None:
    x, y = plume_frame(np.array([0.0, 0.0, 300.0]), np.array([-1000.0, 1000.0, 0.0]),
                       wind_from_deg=0.0)  # fmt: skip
    assert x == pytest.approx([1000.0, -1000.0, 0.0], abs=1e-9)
    assert abs(y[2]) == pytest.approx(300.0)
    release = Release(rate_g_s=1000, wind_m_s=5, stability=Stability.D)
    south, north, _ = concentration_mg_m3(release, x, y)
    assert south > 0
    assert north == 0


def test_rotation_with_a_west_wind_and_an_offset_source() -> None:
    # Wind from 270° (west) carries the plume east; the source sits at (100 E, 200 N).
    x, y = plume_frame(np.array([1100.0, 100.0]), np.array([200.0, 700.0]),
                       wind_from_deg=270.0, source_east_m=100.0, source_north_m=200.0)  # fmt: skip
    assert x == pytest.approx([1000.0, 0.0], abs=1e-9)
    assert y == pytest.approx([0.0, 500.0], abs=1e-9)  # north is left of an eastward plume


@pytest.mark.parametrize("cls", list(Stability))
def test_threshold_distance_lies_on_the_centreline(cls: Stability) -> None:
    release = Release(rate_g_s=1000, wind_m_s=3, stability=cls)
    threshold = 20.0
    reach = threshold_distance_m(release, threshold)
    assert reach is not None
    assert 100 < reach < 10_000
    assert float(centerline_mg_m3(release, reach)) == pytest.approx(threshold, rel=1e-4)
    assert float(centerline_mg_m3(release, reach * 1.01)) < threshold


def test_threshold_never_reached_or_reached_beyond_the_range() -> None:
    release = Release(rate_g_s=1, wind_m_s=5, stability=Stability.A)
    assert threshold_distance_m(release, 1e6) is None
    assert threshold_distance_m(release, 1e-9) == 10_000


def test_elevated_source_rises_to_a_peak_then_falls() -> None:
    release = Release(rate_g_s=100, wind_m_s=3, stability=Stability.C, height_m=20)
    x = np.geomspace(100, 10_000, 2000)
    c = centerline_mg_m3(release, x)
    peak = int(np.argmax(c))
    assert 0 < peak < x.size - 1
    assert np.all(np.diff(c[: peak + 1]) > 0)
    assert np.all(np.diff(c[peak:]) < 0)
    # A threshold crossed on both flanks: the farther crossing is reported.
    threshold = (c[0] + c[peak]) / 2
    reach = threshold_distance_m(release, threshold)
    assert reach is not None
    assert reach > x[peak]
    assert float(centerline_mg_m3(release, reach)) == pytest.approx(threshold, rel=1e-4)
    assert threshold_distance_m(release, c[peak] * 1.01) is None


def test_half_width_bounds_the_threshold_zone() -> None:
    release = Release(rate_g_s=1000, wind_m_s=5, stability=Stability.D)
    threshold = 5.0
    x = np.array([500.0, 1000.0, 2000.0])
    w = half_width_m(release, x, threshold)
    assert np.all(w > 0)
    assert concentration_mg_m3(release, x, w) == pytest.approx(np.full(3, threshold))
    beyond = threshold_distance_m(release, threshold)
    assert beyond is not None
    assert half_width_m(release, np.array([beyond * 1.1, -100.0]), threshold) == pytest.approx(
        [0.0, 0.0]
    )


def test_unit_conversion_round_trips_with_the_epa_chlorine_figure() -> None:
    # §6.1: for chlorine 1 ppm ≈ 2.9 mg/m³.
    m = find_chemical("chlorine").molar_mass_g_mol
    assert float(ppm_to_mg_m3(1.0, m)) == pytest.approx(2.9, rel=REL)
    assert float(mg_m3_to_ppm(ppm_to_mg_m3(7.0, m), m)) == pytest.approx(7.0)


def test_arrival_time_is_distance_over_wind_speed() -> None:
    assert arrival_time_s(np.array([0.0, 600.0]), 2.0) == pytest.approx([0.0, 300.0])
    with pytest.raises(ValueError, match="wind"):
        arrival_time_s(100.0, 0.0)


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"rate_g_s": -1.0}, "rate"),
        ({"wind_m_s": 0.0}, "wind"),
        ({"height_m": -5.0}, "height"),
        ({"rate_g_s": math.nan}, "rate"),
    ],
)
def test_bad_releases_are_refused(kwargs: dict[str, float], word: str) -> None:
    args = {"rate_g_s": 1.0, "wind_m_s": 1.0, "height_m": 0.0} | kwargs
    with pytest.raises(ValueError, match=word):
        Release(
            rate_g_s=args["rate_g_s"],
            wind_m_s=args["wind_m_s"],
            height_m=args["height_m"],
            stability=Stability.D,
        )
