"""How much a tank holds, for GB 18218 identification (tonnes).

GB 18218 counts the largest quantity that may be present in a unit; for tanks and vessels
that is the design maximum (设计最大量). Two ways to reach it from a tank:

- declared: volume × density × fill ratio. The fill ratio defaults to 1 — the whole
  volume, the largest quantity the tank can hold — unless the volume given is already the
  liquid volume at the filling limit or a design filling ratio is stated (practitioners
  write e.g. 0.9; reference standards §1.5 E8). Exact arithmetic on ``Fraction``.
- measured: the highest level reached over a period (``highest_level``) turned into a
  quantity by the tank's shape (``tonnes_at_level``): a level is a percentage of the
  internal height (vertical cylinder) or diameter (horizontal cylinder, sphere), and the
  volume held grows with it as the shape dictates. Heads are ignored: a dished end adds
  a few per cent the cylinder formulas do not count.

Densities are tonnes per cubic metre (t/m³), volumes cubic metres, levels per cent.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import Millis
from hazwatch.domain.plant import TankShape

# TankShape is the plant file's vocabulary (domain); it is offered here beside the formulas.
__all__ = [
    "TankShape",
    "highest_level",
    "tonnes_at_level",
    "tonnes_in_tank",
    "volume_fraction",
]


def tonnes_in_tank(
    *, volume_m3: Fraction, density_t_per_m3: Fraction, fill_ratio: Fraction
) -> Fraction:
    """Design quantity: volume × density × fill ratio (0 < fill ratio ≤ 1)."""
    if volume_m3 < 0 or density_t_per_m3 <= 0 or not 0 < fill_ratio <= 1:
        raise ValueError("need volume ≥ 0, density > 0 and 0 < fill ratio ≤ 1")
    return volume_m3 * density_t_per_m3 * fill_ratio


def volume_fraction(level_pct: float, shape: TankShape) -> float:
    """The fraction of the tank's volume held at ``level_pct`` (0–100) of its height."""
    if not 0 <= level_pct <= 100:
        raise ValueError(f"a level is 0 to 100 %, not {level_pct}")
    h = level_pct / 100
    if shape is TankShape.VERTICAL_CYLINDER:
        return h
    if shape is TankShape.SPHERE:
        # spherical cap of height 2Rh over the sphere's volume
        return h * h * (3 - 2 * h)
    # circular segment of a horizontal cylinder's cross-section
    theta = 2 * math.acos(1 - 2 * h)
    return (theta - math.sin(theta)) / (2 * math.pi)


def tonnes_at_level(
    *, level_pct: float, volume_m3: Fraction, density_t_per_m3: Fraction, shape: TankShape
) -> Fraction:
    """Quantity held at ``level_pct``: a vertical cylinder's is exact, the other shapes'
    carry a float's precision (a sine, a square)."""
    if volume_m3 < 0 or density_t_per_m3 <= 0:
        raise ValueError("need volume ≥ 0 and density > 0")
    if shape is TankShape.VERTICAL_CYLINDER:
        share = Fraction(repr(float(level_pct))) / 100
    else:
        share = Fraction(repr(volume_fraction(level_pct, shape)))
    return volume_m3 * density_t_per_m3 * share


def highest_level(
    ts: npt.ArrayLike, values: npt.ArrayLike, *, start: Millis, end: Millis
) -> float | None:
    """The highest level (per cent) among readings at ``start ≤ ts < end``; NaN readings
    are skipped; ``None`` when no reading falls in the window.

    Takes the arrays the reading store answers with: raw values, or the ``max`` column of
    1-minute rollups (the same answer, cheaper over long periods).
    """
    stamps = np.asarray(ts, dtype=np.int64)
    levels = np.asarray(values, dtype=np.float64)
    if stamps.shape != levels.shape:
        raise ValueError("timestamps and values must have the same length")
    inside = (stamps >= start) & (stamps < end) & ~np.isnan(levels)
    if not inside.any():
        return None
    return float(levels[inside].max())
