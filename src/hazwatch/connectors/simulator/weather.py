"""Wind and cloud over each park, for the weather mast, advanced one second at a time.

The wind is a slowly varying mean wind plus turbulence:

- the **mean wind** blows from the climate's prevailing direction with a slow meander
  (AR(1), standard deviation 1.5°, correlation time 30 min) at the climate's mean speed
  times ``exp(d)``, ``d`` an AR(1) of standard deviation 0.1 and correlation time 1 h;
- **turbulence** adds along-wind and crosswind components, each an AR(1) with a standard
  deviation of 0.2 times the mean speed (turbulence intensity 0.2, typical of light wind
  over an industrial site; it swings the 1-s direction by about 11°, Pasquill D's σθ of
  10°) and a correlation time of 5 s.

The mast reports what a meteorological station reports (WMO No. 8): the **10-minute mean**
wind speed (scalar mean of the 1-s speeds) and direction (of the vector mean, so that
350° and 10° average to 0°, not 180°), and the **gust**, the highest 1-s speed of the last
10 minutes (with a 5 s correlation time a 1-s sample is as smooth as the WMO 3-s mean).
The 10-minute mean is what a Gaussian plume wants (docs/plume.md).

**Cloud cover** (oktas, 0–8) is the climate's mean plus an AR(1) of 1.5 oktas and 3 h,
kept within 0–8; the mast reports whole oktas, as an observer or a ceilometer does.

Directions are meteorological: degrees clockwise from north that the wind blows FROM.
The processes start on the prevailing wind and are run for 10 minutes before the start,
so that the first 10-minute means and gusts are real ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]

TICK_S = 1.0
WINDOW_S = 600
MEANDER_SD_DEG = 1.5
MEANDER_TAU_S = 1800.0
SPEED_LOG_SD = 0.1
SPEED_TAU_S = 3600.0
TURBULENCE_INTENSITY = 0.2
TURBULENCE_TAU_S = 5.0
CLOUD_SD_OKTAS = 1.5
CLOUD_TAU_S = 3 * 3600.0

# Rows of the AR(1) state, one column per park.
_SPEED, _MEANDER, _ALONG, _ACROSS, _CLOUD = range(5)
_SD = np.array([SPEED_LOG_SD, MEANDER_SD_DEG, 1.0, 1.0, CLOUD_SD_OKTAS])
_TAU_S = np.array([SPEED_TAU_S, MEANDER_TAU_S, TURBULENCE_TAU_S, TURBULENCE_TAU_S, CLOUD_TAU_S])


@dataclass(frozen=True, slots=True, kw_only=True)
class Climate:
    """The weather the simulator plays around, the same over every park of a plant:
    ``wind_from_deg`` the prevailing wind direction (where it blows FROM, degrees clockwise
    from north, [0, 360)), ``wind_m_s`` its mean speed at 10 m (m/s, > 0) and
    ``cloud_oktas`` the mean cloud cover (eighths of the sky, 0–8)."""

    wind_from_deg: float = 300.0
    wind_m_s: float = 2.5
    cloud_oktas: float = 3.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.wind_from_deg < 360.0:
            raise ValueError(f"wind_from_deg must be in [0, 360), not {self.wind_from_deg}")
        if not (math.isfinite(self.wind_m_s) and self.wind_m_s > 0):
            raise ValueError(f"wind_m_s must be > 0, not {self.wind_m_s}")
        if not 0.0 <= self.cloud_oktas <= 8.0:
            raise ValueError(f"cloud_oktas must be in [0, 8], not {self.cloud_oktas}")


class Weather:
    """Wind and cloud of ``parks`` parks, advanced with ``advance()`` (1 s)."""

    def __init__(self, parks: int, climate: Climate, rng: np.random.Generator) -> None:
        self._climate = climate
        self._rng = rng
        keep = np.exp(-TICK_S / _TAU_S)
        self._keep = keep[:, None]
        self._kick = (_SD * np.sqrt(1.0 - keep**2))[:, None]
        self._state = np.zeros((len(_SD), parks))
        speed, east, north = self._instant()
        # Speed, east and north components of the last WINDOW_S seconds, and their sums.
        self._window = np.repeat(np.stack([speed, east, north])[:, :, None], WINDOW_S, axis=2)
        self._sums = self._window.sum(axis=2)
        self._slot = 0
        for _ in range(WINDOW_S):
            self.advance()

    def advance(self) -> None:
        state = self._state
        state *= self._keep
        state += self._kick * self._rng.standard_normal(state.shape)
        new = np.stack(self._instant())
        self._sums += new - self._window[:, :, self._slot]
        self._window[:, :, self._slot] = new
        self._slot = (self._slot + 1) % WINDOW_S

    def mean_speed_m_s(self) -> Floats:
        """10-minute scalar mean wind speed of every park, m/s."""
        result: Floats = np.maximum(self._sums[0] / WINDOW_S, 0.0)
        return result

    def mean_from_deg(self) -> Floats:
        """10-minute vector-mean wind direction of every park, degrees FROM in [0, 360)."""
        result: Floats = np.degrees(np.arctan2(self._sums[1], self._sums[2])) % 360.0
        return result

    def gust_m_s(self) -> Floats:
        """Highest 1-s wind speed of the last 10 minutes of every park, m/s."""
        result: Floats = self._window[0].max(axis=1)
        return result

    def cloud_oktas(self) -> Floats:
        """Cloud cover of every park now, oktas (0–8, not rounded)."""
        result: Floats = np.clip(self._climate.cloud_oktas + self._state[_CLOUD], 0.0, 8.0)
        return result

    def _instant(self) -> tuple[Floats, Floats, Floats]:
        """1-s wind of every park: speed (m/s) and the east and north components (m/s) of
        the direction it blows FROM."""
        s = self._state
        mean = self._climate.wind_m_s * np.exp(s[_SPEED])
        theta = np.radians(self._climate.wind_from_deg + s[_MEANDER])
        along = mean * (1.0 + TURBULENCE_INTENSITY * s[_ALONG])
        across = mean * TURBULENCE_INTENSITY * s[_ACROSS]
        sin, cos = np.sin(theta), np.cos(theta)
        east = along * sin + across * cos
        north = along * cos - across * sin
        return np.hypot(east, north), east, north
