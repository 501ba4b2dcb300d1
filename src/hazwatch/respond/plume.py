"""Gaussian plume of a continuous toxic release, for park linkage ("which neighbours are hit").

Model (reference standards §6.1): a continuous point source of ``Q`` g/s at height ``H`` m in a
wind of ``u`` m/s, with a reflecting ground::

    C(x,y,z) = Q / (2π u σy σz) · exp(−y²/2σy²) · [exp(−(z−H)²/2σz²) + exp(−(z+H)²/2σz²)]

``x`` is the downwind distance, ``y`` the crosswind offset (positive to the left of the plume's
travel direction), ``z`` the receptor height, all in metres. The dispersion coefficients σy(x),
σz(x) are Briggs' fits to the Pasquill–Gifford curves (§6.3, open country by default, urban on
request), with ``x`` in metres. Every function is vectorised over its distances or points.

Validity (§6.1): 100 m ≤ x ≤ 10 km; a roughly 10-minute averaging time; a passive (neutrally
buoyant) gas. Dense gases — chlorine (M = 70.9 g/mol), a liquefied-ammonia aerosol — hug the
ground near the source and need a heavy-gas model (ALOHA, DEGADIS, SLAB) there; an instantaneous
release needs a puff model. The results are screening figures for linkage, not a
consequence-analysis substitute.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import brentq

FloatArray = NDArray[np.float64]

# Molar volume of an ideal gas at 25 °C and 1 atm (L/mol): ppm = mg/m³ × 24.45 / M (§6.1).
MOLAR_VOLUME_L = 24.45
MIN_DISTANCE_M = 100.0
MAX_DISTANCE_M = 10_000.0
# Log-spaced probe points for the threshold search: neighbours differ by < 0.5 %, fine enough
# that the rise-and-fall of an elevated plume cannot hide between two of them.
_SEARCH_POINTS = 1024


class Stability(StrEnum):
    """Pasquill stability class: A very unstable … D neutral … F moderately stable (§6.2)."""

    A = "A"
    B = "B"
    C = "C"
    D = "D"
    E = "E"
    F = "F"


class Terrain(StrEnum):
    """Which set of Briggs coefficients applies (§6.3)."""

    RURAL = "rural"
    URBAN = "urban"


@dataclass(frozen=True, kw_only=True)
class _Briggs:
    """σ = a·x·(1 + b·x)^p for one class; σy and σz each have their own (a, b, p)."""

    ay: float
    by: float
    py: float
    az: float
    bz: float
    pz: float


# Fundamentals of Air Pollution 3e, Tables 19-6/19-7 (from Gifford), as transcribed in §6.3.
_RURAL: dict[Stability, _Briggs] = {
    Stability.A: _Briggs(ay=0.22, by=0.0001, py=-0.5, az=0.20, bz=0.0, pz=1.0),
    Stability.B: _Briggs(ay=0.16, by=0.0001, py=-0.5, az=0.12, bz=0.0, pz=1.0),
    Stability.C: _Briggs(ay=0.11, by=0.0001, py=-0.5, az=0.08, bz=0.0002, pz=-0.5),
    Stability.D: _Briggs(ay=0.08, by=0.0001, py=-0.5, az=0.06, bz=0.0015, pz=-0.5),
    Stability.E: _Briggs(ay=0.06, by=0.0001, py=-0.5, az=0.03, bz=0.0003, pz=-1.0),
    Stability.F: _Briggs(ay=0.04, by=0.0001, py=-0.5, az=0.016, bz=0.0003, pz=-1.0),
}
_URBAN_AB = _Briggs(ay=0.32, by=0.0004, py=-0.5, az=0.24, bz=0.001, pz=0.5)
_URBAN_EF = _Briggs(ay=0.11, by=0.0004, py=-0.5, az=0.08, bz=0.0015, pz=-0.5)
_URBAN: dict[Stability, _Briggs] = {
    Stability.A: _URBAN_AB,
    Stability.B: _URBAN_AB,
    Stability.C: _Briggs(ay=0.22, by=0.0004, py=-0.5, az=0.20, bz=0.0, pz=1.0),
    Stability.D: _Briggs(ay=0.16, by=0.0004, py=-0.5, az=0.14, bz=0.0003, pz=-0.5),
    Stability.E: _URBAN_EF,
    Stability.F: _URBAN_EF,
}


@dataclass(frozen=True, kw_only=True)
class Release:
    """A continuous release: ``rate_g_s`` ≥ 0 g/s, ``wind_m_s`` > 0 m/s at release height,
    ``height_m`` ≥ 0 m effective release height, its stability class and terrain."""

    rate_g_s: float
    wind_m_s: float
    stability: Stability
    height_m: float = 0.0
    terrain: Terrain = Terrain.RURAL

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_g_s) and self.rate_g_s >= 0):
            raise ValueError(f"release rate must be ≥ 0 g/s, not {self.rate_g_s}")
        if not (math.isfinite(self.wind_m_s) and self.wind_m_s > 0):
            raise ValueError(f"wind speed must be > 0 m/s, not {self.wind_m_s}")
        if not (math.isfinite(self.height_m) and self.height_m >= 0):
            raise ValueError(f"release height must be ≥ 0 m, not {self.height_m}")


def _coefficients(stability: Stability, terrain: Terrain) -> _Briggs:
    return (_RURAL if terrain is Terrain.RURAL else _URBAN)[Stability(stability)]


def sigma_y(x_m: ArrayLike, stability: Stability, terrain: Terrain = Terrain.RURAL) -> FloatArray:
    """Horizontal dispersion σy (m) at downwind distance ``x_m`` (m, > 0; fitted 100 m–10 km)."""
    x = np.asarray(x_m, dtype=np.float64)
    k = _coefficients(stability, terrain)
    return np.asarray(k.ay * x * (1.0 + k.by * x) ** k.py, dtype=np.float64)


def sigma_z(x_m: ArrayLike, stability: Stability, terrain: Terrain = Terrain.RURAL) -> FloatArray:
    """Vertical dispersion σz (m) at downwind distance ``x_m`` (m, > 0; fitted 100 m–10 km)."""
    x = np.asarray(x_m, dtype=np.float64)
    k = _coefficients(stability, terrain)
    return np.asarray(k.az * x * (1.0 + k.bz * x) ** k.pz, dtype=np.float64)


def concentration_mg_m3(
    release: Release, x_m: ArrayLike, y_m: ArrayLike = 0.0, z_m: ArrayLike = 0.0
) -> FloatArray:
    """Concentration (mg/m³, 10-min mean) at plume-frame points (m), arrays broadcast together.

    ``x_m`` downwind (≤ 0, i.e. upwind or at the source, gives 0), ``y_m`` crosswind,
    ``z_m`` ≥ 0 receptor height above ground. Reflecting ground (§6.1).
    """
    x, y, z = np.broadcast_arrays(
        np.asarray(x_m, dtype=np.float64),
        np.asarray(y_m, dtype=np.float64),
        np.asarray(z_m, dtype=np.float64),
    )
    downwind = x > 0
    # Upwind points get a dummy distance so the sigmas stay finite; they are zeroed below.
    xs = np.where(downwind, x, 1.0)
    sy = sigma_y(xs, release.stability, release.terrain)
    sz = sigma_z(xs, release.stability, release.terrain)
    h = release.height_m
    vertical = np.exp(-((z - h) ** 2) / (2 * sz**2)) + np.exp(-((z + h) ** 2) / (2 * sz**2))
    c_g_m3 = (
        release.rate_g_s
        / (2 * np.pi * release.wind_m_s * sy * sz)
        * np.exp(-(y**2) / (2 * sy**2))
        * vertical
    )
    return np.asarray(np.where(downwind, c_g_m3 * 1000.0, 0.0), dtype=np.float64)


def centerline_mg_m3(release: Release, x_m: ArrayLike) -> FloatArray:
    """Ground-level centreline concentration (mg/m³) at downwind distances ``x_m`` (m).

    For a ground source this is Q/(π u σy σz) (§6.1); for an elevated source it first rises
    from nearly zero to a peak, then falls.
    """
    return concentration_mg_m3(release, x_m, 0.0, 0.0)


def mg_m3_to_ppm(mg_m3: ArrayLike, molar_mass_g_mol: float) -> FloatArray:
    """Volume fraction (ppm) of a gas of molar mass ``molar_mass_g_mol`` at 25 °C, 1 atm."""
    return np.asarray(np.asarray(mg_m3, dtype=np.float64) * MOLAR_VOLUME_L / molar_mass_g_mol)


def ppm_to_mg_m3(ppm: ArrayLike, molar_mass_g_mol: float) -> FloatArray:
    """Mass concentration (mg/m³) of ``ppm`` of a gas of molar mass ``molar_mass_g_mol``."""
    return np.asarray(np.asarray(ppm, dtype=np.float64) * molar_mass_g_mol / MOLAR_VOLUME_L)


def plume_frame(
    east_m: ArrayLike,
    north_m: ArrayLike,
    *,
    wind_from_deg: float,
    source_east_m: float = 0.0,
    source_north_m: float = 0.0,
) -> tuple[FloatArray, FloatArray]:
    """Park coordinates (m east, m north) → plume frame (x downwind, y crosswind), metres.

    ``wind_from_deg`` is the meteorological wind direction, clockwise from north, where the
    wind comes FROM; the plume travels toward ``wind_from_deg + 180°`` (§6.1). A north wind
    (0°) carries the plume south. ``y`` is positive to the left of the travel direction.
    """
    toward = math.radians(wind_from_deg + 180.0)
    ux, uy = math.sin(toward), math.cos(toward)
    de = np.asarray(east_m, dtype=np.float64) - source_east_m
    dn = np.asarray(north_m, dtype=np.float64) - source_north_m
    return np.asarray(de * ux + dn * uy), np.asarray(dn * ux - de * uy)


def threshold_distance_m(
    release: Release,
    threshold_mg_m3: float,
    *,
    min_m: float = MIN_DISTANCE_M,
    max_m: float = MAX_DISTANCE_M,
) -> float | None:
    """Farthest downwind distance (m) in [``min_m``, ``max_m``] where the ground-level
    centreline concentration is ≥ ``threshold_mg_m3`` (> 0 mg/m³).

    ``None`` when the threshold is not reached anywhere in the range; ``max_m`` when it is
    still reached there (the true reach is at least that far — beyond the model's validity).
    An elevated plume rises to a peak before it falls, so the search scans the whole range
    and refines the last crossing by Brent's method (§6.3 park use-case).
    """
    if not threshold_mg_m3 > 0:
        raise ValueError(f"threshold must be > 0 mg/m³, not {threshold_mg_m3}")
    if not 0 < min_m < max_m:
        raise ValueError(f"distance range must satisfy 0 < min < max, not [{min_m}, {max_m}]")
    grid = np.geomspace(min_m, max_m, _SEARCH_POINTS)
    above = np.flatnonzero(centerline_mg_m3(release, grid) >= threshold_mg_m3)
    if above.size == 0:
        return None
    last = int(above[-1])
    if last == grid.size - 1:
        return max_m

    def excess(x: float) -> float:
        return float(centerline_mg_m3(release, x)) - threshold_mg_m3

    return float(brentq(excess, float(grid[last]), float(grid[last + 1]), xtol=1e-6, rtol=1e-10))


def half_width_m(release: Release, x_m: ArrayLike, threshold_mg_m3: float) -> FloatArray:
    """Crosswind half-width (m) of the ground-level zone where C ≥ ``threshold_mg_m3`` at
    downwind distance ``x_m``: y = σy·√(2 ln(C(x,0,0)/Cthr)) (§6.3); 0 where the centreline
    itself is below the threshold or upwind."""
    if not threshold_mg_m3 > 0:
        raise ValueError(f"threshold must be > 0 mg/m³, not {threshold_mg_m3}")
    x = np.asarray(x_m, dtype=np.float64)
    c0 = centerline_mg_m3(release, x)
    ratio = np.maximum(c0 / threshold_mg_m3, 1.0)
    sy = sigma_y(np.where(x > 0, x, 1.0), release.stability, release.terrain)
    return np.asarray(np.where(x > 0, sy * np.sqrt(2.0 * np.log(ratio)), 0.0))


def arrival_time_s(distance_m: ArrayLike, wind_m_s: float) -> FloatArray:
    """Time (s) for the plume front to travel ``distance_m`` (m) downwind at ``wind_m_s`` m/s
    (advection only; no along-wind spread of the front)."""
    if not wind_m_s > 0:
        raise ValueError(f"wind speed must be > 0 m/s, not {wind_m_s}")
    return np.asarray(np.asarray(distance_m, dtype=np.float64) / wind_m_s)


def estimate_rate_g_s(
    mg_m3: float, *, distance_m: float, wind_m_s: float, stability: Stability
) -> float:
    """The ground-level release rate (g/s) that gives ``mg_m3`` on the centreline at
    ``distance_m`` downwind: Q = C π u σy σz (§6.1 inverted).

    A detector reading near the source gives a lower bound (it rarely sits on the
    centreline), so playbooks use it when no better rate is known.
    """
    if not (math.isfinite(mg_m3) and mg_m3 >= 0) or distance_m <= 0 or wind_m_s <= 0:
        raise ValueError("need mg_m3 ≥ 0, distance_m > 0 and wind_m_s > 0")
    sy = float(sigma_y(distance_m, stability))
    sz = float(sigma_z(distance_m, stability))
    return mg_m3 / 1000.0 * math.pi * wind_m_s * sy * sz
