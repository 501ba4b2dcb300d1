"""The process behind the signals, advanced one second at a time, vectorised over units.

- **Weather**: outdoor temperature = daily cycle (``ambient``) + an AR(1) anomaly per park
  (standard deviation 0.8 K, correlation time 30 min).
- **Storage vessels**: the liquid temperature lags the outdoor air with a 6 h time
  constant (a full tank has a large heat capacity); the pressure is the liquid's saturation
  pressure at that temperature (``substance``), gauge. The level integrates the net inflow,
  ``dL/dt = 100 · (Q_in − Q_out) / V`` (% per s, m³/s, m³): in normal operation the
  filling and emptying of the day make it swing ±3 % over a 3 h cycle.
- **Refrigeration loops**: condensing temperature = outdoor + 10 K, evaporating −15 °C (each
  with a slow AR(1) drift); receivers sit at condensing temperature and pressure; the
  compressor discharge temperature follows an isentropic compression from suction (5 K
  superheat) to the discharge pressure, ``T₂ = T₁ · (p₂/p₁)^((κ−1)/κ)``.
- **Gas detectors** read a background plus the concentration of the gas in a ventilated
  room (1800 m³, 6 m³/s: a well-mixed first-order lag with τ = 300 s): the steady
  concentration of a leak of ``r`` g/s is ``coupling · 1000 r / 6`` mg/m³, where the detector
  nearest the leak has coupling 1 and the others of its installation 0.2.
- **Generic** tags drift around the middle of their normal band (AR(1), τ = 5 min).
- **Weather mast**: wind and cloud from ``weather`` (around the ``Climate``), drawn from a
  random stream of their own, so that they depend only on the seed and the climate, not on
  the rest of the plant; air temperature is the outdoor temperature above; solar radiation
  is the clear-sky radiation at the sun's elevation (``sun``) through the cloud.

Incidents that change the process (overfill, leak) are applied here; faults of the
instruments (frozen, offline) are applied to the readings by the simulator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.connectors.simulator.ambient import DAILY_MEAN_C, daily_cycle_c
from hazwatch.connectors.simulator.model import ParkModel, Role
from hazwatch.connectors.simulator.substance import KELVIN, Substance
from hazwatch.connectors.simulator.sun import clear_sky_w_m2, cloud_transmission, elevation_deg
from hazwatch.connectors.simulator.weather import Climate, Weather
from hazwatch.domain.clock import Millis

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

TICK_MS = 1000
TICK_S = TICK_MS / 1000

WEATHER_SD_K = 0.8
WEATHER_TAU_S = 1800.0
STORAGE_TAU_S = 6 * 3600.0
CONDENSING_APPROACH_K = 10.0
CONDENSING_SD_K = 0.5
CONDENSING_TAU_S = 600.0
EVAPORATING_C = -15.0
EVAPORATING_SD_K = 0.3
EVAPORATING_TAU_S = 300.0
SUCTION_SUPERHEAT_K = 5.0
DISCHARGE_LINE_LOSS_MPA = 0.03
LEVEL_SWING_PCT = 3.0
LEVEL_SWING_PERIOD_S = 3 * 3600.0
ROOM_VOLUME_M3 = 1800.0
VENTILATION_M3_S = 6.0
NEIGHBOUR_COUPLING = 0.2
GENERIC_TAU_S = 300.0
# Entropy mixed into the seed of the weather's own random stream.
WEATHER_STREAM = 0x57EA7


@dataclass(frozen=True, slots=True, kw_only=True)
class Overfill:
    """Excess inflow of ``rate_m3_h`` into ``vessel`` during [start, end); afterwards the
    excess is pumped out at the same rate until the level is back where it started."""

    vessel: int
    rate_m3_h: float
    start: Millis
    end: Millis


@dataclass(frozen=True, slots=True, kw_only=True)
class Leak:
    """A release growing linearly from 0 to ``rate_g_s`` over [start, end), then isolated;
    ``detector`` is the nearest detector, the others of its installation see less."""

    detector: int
    rate_g_s: float
    start: Millis
    end: Millis


class _Drift:
    """Independent AR(1) processes with a common standard deviation and correlation time."""

    def __init__(self, n: int, sd: float, tau_s: float) -> None:
        self.value = np.zeros(n)
        self.keep = math.exp(-TICK_S / tau_s)
        self.kick = sd * math.sqrt(1.0 - self.keep**2)

    def advance(self, normals: Floats) -> None:
        self.value *= self.keep
        self.value += self.kick * normals


class Physics:
    """The process state at ``now`` (a whole second), advanced with ``advance()``."""

    def __init__(
        self,
        model: ParkModel,
        *,
        start: Millis,
        seed: int,
        overfills: tuple[Overfill, ...] = (),
        leaks: tuple[Leak, ...] = (),
        climate: Climate | None = None,
    ) -> None:
        self._model = model
        self._rng = np.random.default_rng(seed)
        self.now: Millis = start - start % TICK_MS
        self._start = start
        self._overfills = overfills
        self._leaks = leaks
        inst = model.installations
        vessels = model.vessels
        self._vessel_inst = np.array([v.installation for v in vessels], dtype=np.int64)
        self._vessel_park = np.array([inst[v.installation].park for v in vessels], dtype=np.int64)
        self._vessel_cooled = np.array(
            [inst[v.installation].refrigeration for v in vessels], dtype=np.bool_
        )
        self._volume = np.array([v.volume_m3 for v in vessels], dtype=np.float64)
        self._phase = self._rng.uniform(0.0, 2.0 * math.pi, len(vessels))
        self._level = np.array([v.initial_level_pct for v in vessels], dtype=np.float64)
        self._inst_park = np.array([i.park for i in inst], dtype=np.int64)
        self._comp_inst = np.array(model.compressors, dtype=np.int64)
        self._det_inst = np.array([d.installation for d in model.detectors], dtype=np.int64)
        self._det_scale = np.array([d.per_mg_m3 for d in model.detectors], dtype=np.float64)
        self._det_base = np.array([d.background for d in model.detectors], dtype=np.float64)
        self._mg_m3 = np.zeros(len(model.detectors))
        self._coupling = np.zeros((len(leaks), len(model.detectors)))
        for i, leak in enumerate(leaks):
            same = self._det_inst == self._det_inst[leak.detector]
            self._coupling[i, same] = NEIGHBOUR_COUPLING
            self._coupling[i, leak.detector] = 1.0
        self._generic_centre = np.array([g.centre for g in model.generics], dtype=np.float64)
        self._generic_swing = np.array([g.swing for g in model.generics], dtype=np.float64)
        self._weather = _Drift(len(model.longitudes), WEATHER_SD_K, WEATHER_TAU_S)
        self._condensing = _Drift(len(inst), CONDENSING_SD_K, CONDENSING_TAU_S)
        self._evaporating = _Drift(len(inst), EVAPORATING_SD_K, EVAPORATING_TAU_S)
        self._generic = _Drift(len(model.generics), 1.0, GENERIC_TAU_S)
        self._cuts = np.cumsum([len(model.longitudes), len(inst), len(inst), len(model.generics)])
        outdoor = daily_cycle_c(self.now, model.longitudes)
        # A tank's liquid has averaged the last hours of weather: between mean and now.
        self._storage = (DAILY_MEAN_C + 0.5 * (outdoor - DAILY_MEAN_C))[self._vessel_park]
        self._overfill_from = np.full(len(overfills), np.nan)
        self._groups = {role: model.columns(role) for role in Role}
        self._by_substance = _group_by_substance(model)
        self._sky: Weather | None = None
        if model.has_weather:
            stream = np.random.default_rng([seed, WEATHER_STREAM])
            self._sky = Weather(len(model.longitudes), climate or Climate(), stream)

    @property
    def level_pct(self) -> Floats:
        """Current level of every vessel, % (a copy)."""
        return self._level.copy()

    def outdoor_c(self) -> Floats:
        """Outdoor temperature of every park now, °C."""
        return daily_cycle_c(self.now, self._model.longitudes) + self._weather.value

    def advance(self) -> None:
        """Move the process one tick (1 s) forward."""
        t = self.now + TICK_MS
        normals = self._rng.standard_normal(int(self._cuts[-1]))
        parts = np.split(normals, self._cuts[:-1])
        self._weather.advance(parts[0])
        self._condensing.advance(parts[1])
        self._evaporating.advance(parts[2])
        self._generic.advance(parts[3])
        outdoor = self.outdoor_c()
        self._storage += (outdoor[self._vessel_park] - self._storage) * (
            1.0 - math.exp(-TICK_S / STORAGE_TAU_S)
        )
        self._advance_levels(t)
        self._advance_gas(t)
        if self._sky is not None:
            self._sky.advance()
        self.now = t

    def values(self) -> Floats:
        """The true (noise-free) value of every tag of the model now, in its unit."""
        m = self._model
        out = np.empty(len(m.keys))
        outdoor = self.outdoor_c()
        condensing = outdoor[self._inst_park] + CONDENSING_APPROACH_K + self._condensing.value
        evaporating = EVAPORATING_C + self._evaporating.value
        vessel_t = np.where(self._vessel_cooled, condensing[self._vessel_inst], self._storage)
        cols, idx = self._groups[Role.LEVEL]
        out[cols] = self._level[idx]
        cols, idx = self._groups[Role.TEMPERATURE]
        out[cols] = vessel_t[idx]
        # Saturation temperature behind each pressure: the vessel's liquid, or the
        # compressor's evaporator (suction) and condenser (discharge).
        for substance, cols, idx in self._by_substance[Role.PRESSURE]:
            gauge = substance.saturation_gauge_mpa(vessel_t[idx])
            out[cols] = gauge * m.scale[cols]
        for substance, cols, idx in self._by_substance[Role.SUCTION_PRESSURE]:
            gauge = substance.saturation_gauge_mpa(evaporating[self._comp_inst[idx]])
            out[cols] = gauge * m.scale[cols]
        for substance, cols, idx in self._by_substance[Role.DISCHARGE_PRESSURE]:
            gauge = substance.saturation_gauge_mpa(condensing[self._comp_inst[idx]])
            out[cols] = (gauge + DISCHARGE_LINE_LOSS_MPA) * m.scale[cols]
        for substance, cols, idx in self._by_substance[Role.DISCHARGE_TEMPERATURE]:
            inst = self._comp_inst[idx]
            out[cols] = _discharge_temperature_c(substance, evaporating[inst], condensing[inst])
        cols, idx = self._groups[Role.GAS]
        out[cols] = self._det_base[idx] + self._mg_m3[idx] * self._det_scale[idx]
        cols, idx = self._groups[Role.GENERIC]
        out[cols] = self._generic_centre[idx] + self._generic_swing[idx] * self._generic.value[idx]
        if self._sky is not None:
            self._mast_values(out, self._sky, outdoor)
        return out

    def _mast_values(self, out: Floats, sky: Weather, outdoor: Floats) -> None:
        m = self._model
        cloud = sky.cloud_oktas()
        cols, park = self._groups[Role.WIND_SPEED]
        out[cols] = sky.mean_speed_m_s()[park]
        cols, park = self._groups[Role.WIND_DIRECTION]
        out[cols] = sky.mean_from_deg()[park]
        cols, park = self._groups[Role.WIND_GUST]
        out[cols] = sky.gust_m_s()[park]
        cols, park = self._groups[Role.AIR_TEMPERATURE]
        out[cols] = outdoor[park]
        cols, park = self._groups[Role.SOLAR_RADIATION]
        if len(cols):
            sun = elevation_deg(self.now, m.latitudes, m.longitudes)
            out[cols] = (clear_sky_w_m2(sun) * cloud_transmission(cloud))[park]
        cols, park = self._groups[Role.CLOUD_COVER]
        out[cols] = np.floor(cloud[park] + 0.5)

    def _advance_levels(self, t: Millis) -> None:
        omega = 2.0 * math.pi / LEVEL_SWING_PERIOD_S
        elapsed_s = (t - self._start) / 1000.0
        rate_pct_s = LEVEL_SWING_PCT * omega * np.cos(omega * elapsed_s + self._phase)
        for i, o in enumerate(self._overfills):
            excess = level_rate_pct_s(o.rate_m3_h / 3600.0, float(self._volume[o.vessel]))
            if o.start <= t < o.end:
                if math.isnan(self._overfill_from[i]):
                    self._overfill_from[i] = self._level[o.vessel]
                rate_pct_s[o.vessel] += excess
            elif t >= o.end and not math.isnan(self._overfill_from[i]):
                above = self._level[o.vessel] - self._overfill_from[i]
                if above <= 0.0:
                    # Pumped back down: from now on the tank is in normal operation.
                    self._overfill_from[i] = np.nan
                else:
                    rate_pct_s[o.vessel] -= min(excess, above / TICK_S)
        self._level = np.clip(self._level + rate_pct_s * TICK_S, 0.0, 100.0)

    def _advance_gas(self, t: Millis) -> None:
        if not len(self._mg_m3):
            return
        rates = np.zeros(len(self._leaks))
        for i, leak in enumerate(self._leaks):
            if leak.start <= t < leak.end:
                rates[i] = leak.rate_g_s * (t - leak.start) / (leak.end - leak.start)
        steady = (rates @ self._coupling) * 1000.0 / VENTILATION_M3_S
        tau_s = ROOM_VOLUME_M3 / VENTILATION_M3_S
        self._mg_m3 += (steady - self._mg_m3) * (1.0 - math.exp(-TICK_S / tau_s))


def level_rate_pct_s(net_inflow_m3_s: float, volume_m3: float) -> float:
    """Rate of change of a level (% of the vessel per s) for a net inflow (m³/s)."""
    return 100.0 * net_inflow_m3_s / volume_m3


def _discharge_temperature_c(
    substance: Substance, evaporating_c: Floats, condensing_c: Floats
) -> Floats:
    suction = substance.vapour_pressure_mpa(evaporating_c)
    discharge = substance.vapour_pressure_mpa(condensing_c) + DISCHARGE_LINE_LOSS_MPA
    k = substance.heat_capacity_ratio
    inlet_k = evaporating_c + SUCTION_SUPERHEAT_K + KELVIN
    result: Floats = inlet_k * (discharge / suction) ** ((k - 1.0) / k) - KELVIN
    return result


_Group = tuple[Substance, npt.NDArray[np.int64], npt.NDArray[np.int64]]


def _group_by_substance(model: ParkModel) -> dict[Role, list[_Group]]:
    """Tags whose value depends on a substance, grouped by it (one vectorised call each)."""
    groups: dict[Role, list[_Group]] = {}
    for role in (
        Role.PRESSURE,
        Role.SUCTION_PRESSURE,
        Role.DISCHARGE_PRESSURE,
        Role.DISCHARGE_TEMPERATURE,
    ):
        cols, idx = model.columns(role)
        if role == Role.PRESSURE:
            inst = np.array([model.vessels[i].installation for i in idx], dtype=np.int64)
        else:
            inst = np.array([model.compressors[i] for i in idx], dtype=np.int64)
        found: list[_Group] = []
        substances = [model.installations[i].substance for i in inst]
        for substance in dict.fromkeys(s for s in substances if s is not None):
            mask = np.array([s is substance for s in substances], dtype=np.bool_)
            found.append((substance, cols[mask], idx[mask]))
        groups[role] = found
    return groups
