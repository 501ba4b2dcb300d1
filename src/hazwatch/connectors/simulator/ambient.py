"""Outdoor air temperature: a daily cycle by local solar time, plus weather.

The cycle peaks at 15:00 local solar time (``UTC + longitude / 15 h``) and is lowest at
03:00; the weather term is added by the physics as a slow random (AR(1)) anomaly.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hazwatch.domain.clock import DAY_MS, HOUR_MS, Millis

DAILY_MEAN_C = 18.0
DAILY_HALF_SWING_C = 5.0
WARMEST_HOUR = 15.0


def daily_cycle_c(now: Millis, longitude: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Mean outdoor temperature (°C) at ``now`` for sites at ``longitude`` (degrees east)."""
    utc_hours = (now % DAY_MS) / HOUR_MS
    solar_hours = utc_hours + longitude / 15.0
    phase = 2.0 * math.pi * (solar_hours - WARMEST_HOUR) / 24.0
    result: npt.NDArray[np.float64] = DAILY_MEAN_C + DAILY_HALF_SWING_C * np.cos(phase)
    return result
