"""Where the sun stands and how much of its light reaches the ground (the weather mast's
pyranometer).

- **Sun position**: the low-precision formulas of the Astronomical Almanac (good to about
  0.01° in declination for 1950–2050). With ``n`` days since J2000.0 (2000-01-01 12:00 UT):
  mean longitude ``L = 280.460° + 0.9856474° n``, mean anomaly ``g = 357.528° + 0.9856003° n``,
  ecliptic longitude ``λ = L + 1.915° sin g + 0.020° sin 2g``, obliquity
  ``ε = 23.439° − 0.0000004° n``; declination ``δ = asin(sin ε sin λ)``, right ascension
  ``α = atan2(cos ε sin λ, cos λ)``; Greenwich mean sidereal time
  ``GMST = 18.697374558 h + 24.06570982441908 h · n``; local hour angle
  ``H = 15° · GMST + longitude − α``; elevation ``sin e = sin φ sin δ + cos φ cos δ cos H``.
- **Clear-sky global horizontal irradiance**, Haurwitz (1945):
  ``G = 1098 · sin e · exp(−0.057 / sin e)`` W/m², 0 with the sun at or below the horizon.
- **Cloud**, Kasten & Czeplak (1980): ``G = G_clear · (1 − 0.75 · (N / 8)^3.4)`` with ``N``
  the cloud cover in oktas (eighths of the sky).

Refraction and the sun's disc are ignored: radiation starts a few minutes after the
almanac's sunrise, which is immaterial for a pyranometer reading a few W/m² then.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import DAY_MS, Millis

Floats = npt.NDArray[np.float64]

# 2000-01-01 12:00 UT in epoch milliseconds.
J2000_MS = 946_728_000_000
HAURWITZ_W_M2 = 1098.0
HAURWITZ_EXTINCTION = 0.057


def elevation_deg(now: Millis, lat_deg: Floats, lon_deg: Floats) -> Floats:
    """Elevation of the sun's centre above the horizon (degrees, negative at night) at
    ``now`` for sites at latitude ``lat_deg`` (north positive) and longitude ``lon_deg``
    (east positive)."""
    n = (now - J2000_MS) / DAY_MS
    mean_lon = np.radians(280.460 + 0.9856474 * n)
    anomaly = np.radians(357.528 + 0.9856003 * n)
    ecliptic = mean_lon + np.radians(1.915 * np.sin(anomaly) + 0.020 * np.sin(2 * anomaly))
    obliquity = np.radians(23.439 - 0.0000004 * n)
    declination = np.arcsin(np.sin(obliquity) * np.sin(ecliptic))
    right_ascension = np.arctan2(np.cos(obliquity) * np.sin(ecliptic), np.cos(ecliptic))
    sidereal_h = 18.697374558 + 24.06570982441908 * n
    hour_angle = np.radians(15.0 * sidereal_h + lon_deg) - right_ascension
    lat = np.radians(lat_deg)
    sine = np.sin(lat) * np.sin(declination) + np.cos(lat) * np.cos(declination) * np.cos(
        hour_angle
    )
    result: Floats = np.degrees(np.arcsin(np.clip(sine, -1.0, 1.0)))
    return result


def clear_sky_w_m2(elevation: Floats) -> Floats:
    """Global horizontal irradiance (W/m²) under a clear sky, Haurwitz; 0 below the horizon."""
    sine = np.sin(np.radians(np.asarray(elevation, dtype=np.float64)))
    up = sine > 0
    safe = np.where(up, sine, 1.0)
    result: Floats = np.where(up, HAURWITZ_W_M2 * safe * np.exp(-HAURWITZ_EXTINCTION / safe), 0.0)
    return result


def cloud_transmission(oktas: Floats) -> Floats:
    """Share of the clear-sky irradiance that reaches the ground under ``oktas`` of cloud
    (0…8), Kasten & Czeplak: 1 under a clear sky, 0.25 under overcast."""
    cover = np.clip(np.asarray(oktas, dtype=np.float64), 0.0, 8.0) / 8.0
    result: Floats = 1.0 - 0.75 * cover**3.4
    return result
