"""What the simulator makes of a plant file: which tag is what, as index arrays.

Roles are recognised from the file by convention (docs/plant-file.md, "Simulator"):

- a **vessel** is an equipment with a tag ``level`` in ``%``; its ``temperature`` (°C) and
  ``pressure`` (MPa, kPa or bar, gauge) tags are modelled with it. The liquefied gas it
  holds is the installation's first inventory the simulator knows (chlorine, ammonia, LPG,
  propane, butane); its volume is that of the inventory whose ``level_tag`` it is, else
  the first inventory's volume shared among the installation's vessels (tonnes are turned
  into m³ with the liquid density);
- a **compressor** is an equipment with a tag ``discharge-pressure``; its
  ``suction-pressure``, ``discharge-pressure`` and ``discharge-temperature`` tags follow the
  refrigeration cycle of the installation's substance. An installation with a compressor is
  a refrigeration loop: its vessels are receivers at condensing temperature;
- a **gas detector** is any tag in ``%LEL``, ``ppm`` or ``mg/m3``; it reads the
  installation's substance;
- a **weather mast** is an equipment with a tag ``wind-speed`` in ``m/s``; its
  ``wind-direction`` (``°``), ``wind-gust`` (``m/s``), ``air-temperature`` (°C),
  ``solar-radiation`` (``W/m2``) and ``cloud-cover`` (``okta``) tags read the weather of the
  park the mast stands in;
- every other tag is **generic**: a slow noisy signal around the middle of its normal band
  (between its low and high limits, else its range).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt

from hazwatch.connectors.simulator.substance import Substance, substance_of
from hazwatch.domain.plant import EquipmentSpec, InstallationSpec, PlantSpec, TagSpec
from hazwatch.domain.tag import ConditionKind

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

DEFAULT_VESSEL_M3 = 100.0
# A park without a location is taken to lie in eastern China.
DEFAULT_LATITUDE = 32.0
DEFAULT_LONGITUDE = 120.0

TEMPERATURE_UNITS = frozenset({"°C", "℃", "degC", "C"})
# Scale from MPa to the tag's unit.
PRESSURE_UNITS: dict[str, float] = {
    "MPa": 1.0,
    "MPag": 1.0,
    "MPa(g)": 1.0,
    "kPa": 1000.0,
    "kPag": 1000.0,
    "bar": 10.0,
    "barg": 10.0,
}
LEL_UNIT = "%LEL"
PPM_UNIT = "ppm"
MG_UNITS = frozenset({"mg/m3", "mg/m³"})
WIND_SPEED_UNIT = "m/s"
DIRECTION_UNITS = frozenset({"°", "deg", "degree", "degrees"})
IRRADIANCE_UNITS = frozenset({"W/m2", "W/m²"})
OKTA_UNITS = frozenset({"okta", "oktas"})


class Role(IntEnum):
    """What a tag measures, as far as the physics is concerned."""

    GENERIC = 0
    LEVEL = 1
    TEMPERATURE = 2
    PRESSURE = 3
    SUCTION_PRESSURE = 4
    DISCHARGE_PRESSURE = 5
    DISCHARGE_TEMPERATURE = 6
    GAS = 7
    WIND_SPEED = 8
    WIND_DIRECTION = 9
    WIND_GUST = 10
    AIR_TEMPERATURE = 11
    SOLAR_RADIATION = 12
    CLOUD_COVER = 13


# The tags of a weather mast: key → (units it may have, role).
MAST_TAGS: dict[str, tuple[frozenset[str], Role]] = {
    "wind-speed": (frozenset({WIND_SPEED_UNIT}), Role.WIND_SPEED),
    "wind-direction": (DIRECTION_UNITS, Role.WIND_DIRECTION),
    "wind-gust": (frozenset({WIND_SPEED_UNIT}), Role.WIND_GUST),
    "air-temperature": (TEMPERATURE_UNITS, Role.AIR_TEMPERATURE),
    "solar-radiation": (IRRADIANCE_UNITS, Role.SOLAR_RADIATION),
    "cloud-cover": (OKTA_UNITS, Role.CLOUD_COVER),
}
MAST_ROLES = np.array([int(role) for _, role in MAST_TAGS.values()], dtype=np.int8)

# Measurement noise, standard deviation as a fraction of the instrument span.
NOISE_FRACTION: dict[Role, float] = {
    Role.GENERIC: 0.002,
    Role.LEVEL: 0.0005,
    Role.TEMPERATURE: 0.0004,
    Role.PRESSURE: 0.001,
    Role.SUCTION_PRESSURE: 0.001,
    Role.DISCHARGE_PRESSURE: 0.001,
    Role.DISCHARGE_TEMPERATURE: 0.001,
    Role.GAS: 0.002,
    Role.WIND_SPEED: 0.001,
    Role.WIND_DIRECTION: 0.001,
    Role.WIND_GUST: 0.001,
    Role.AIR_TEMPERATURE: 0.0004,
    # A pyranometer reads 0 at night and cloud cover is reported in whole oktas: no noise
    # on either (the radiation moves with the sun and the cloud anyway).
    Role.SOLAR_RADIATION: 0.0,
    Role.CLOUD_COVER: 0.0,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallationModel:
    park: int
    substance: Substance | None
    refrigeration: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class VesselModel:
    installation: int
    volume_m3: float
    initial_level_pct: float


@dataclass(frozen=True, slots=True, kw_only=True)
class DetectorModel:
    installation: int
    # Reading per mg/m³ of the gas in air (1 for mg/m3; ppm per mg/m³; %LEL per mg/m³).
    per_mg_m3: float
    background: float


@dataclass(frozen=True, slots=True, kw_only=True)
class GenericModel:
    centre: float
    swing: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ParkModel:
    """The compiled plant: per tag (file order) its role, the index of the modelled unit in
    that role's table (for a weather mast's tags, the park), unit scale, range, period and
    measurement noise; per park its latitude and longitude (degrees)."""

    keys: tuple[str, ...]
    role: npt.NDArray[np.int8]
    unit: Ints
    scale: Floats
    lo: Floats
    hi: Floats
    period_ms: Ints
    noise_sd: Floats
    latitudes: Floats
    longitudes: Floats
    installations: tuple[InstallationModel, ...]
    vessels: tuple[VesselModel, ...]
    compressors: tuple[int, ...]
    detectors: tuple[DetectorModel, ...]
    generics: tuple[GenericModel, ...]

    def index(self, key: str) -> int:
        """Position of the tag with full key ``key``; raises ``KeyError``."""
        try:
            return self.keys.index(key)
        except ValueError:
            raise KeyError(key) from None

    @property
    def has_weather(self) -> bool:
        """Whether the plant has a weather mast."""
        return bool(np.isin(self.role, MAST_ROLES).any())

    def role_of(self, key: str) -> Role:
        return Role(int(self.role[self.index(key)]))

    def vessel_of(self, key: str) -> VesselModel:
        """The vessel a ``level``/``temperature``/``pressure`` tag belongs to."""
        i = self.index(key)
        if Role(int(self.role[i])) not in (Role.LEVEL, Role.TEMPERATURE, Role.PRESSURE):
            raise KeyError(f"{key} is not a vessel tag")
        return self.vessels[int(self.unit[i])]

    def columns(self, role: Role) -> tuple[Ints, Ints]:
        """Tag positions of ``role`` and the index of each in the role's table."""
        cols = np.flatnonzero(self.role == role).astype(np.int64)
        return cols, self.unit[cols]


@dataclass(slots=True)
class _Builder:
    keys: list[str]
    role: list[Role]
    unit: list[int]
    scale: list[float]
    tags: list[TagSpec]
    installations: list[InstallationModel]
    vessels: list[VesselModel]
    compressors: list[int]
    detectors: list[DetectorModel]
    generics: list[GenericModel]

    def add(self, key: str, tag: TagSpec, role: Role, unit: int, scale: float = 1.0) -> None:
        self.keys.append(key)
        self.tags.append(tag)
        self.role.append(role)
        self.unit.append(unit)
        self.scale.append(scale)

    def add_generic(self, key: str, tag: TagSpec) -> None:
        lo, hi = _normal_band(tag)
        self.generics.append(GenericModel(centre=(lo + hi) / 2, swing=0.02 * (hi - lo)))
        self.add(key, tag, Role.GENERIC, len(self.generics) - 1)


def compile_plant(spec: PlantSpec) -> ParkModel:
    """Recognise the roles of every tag of ``spec`` (see the module docstring)."""
    b = _Builder([], [], [], [], [], [], [], [], [], [])
    latitudes: list[float] = []
    longitudes: list[float] = []
    for park in spec.parks:
        latitudes.append(park.location.lat if park.location else DEFAULT_LATITUDE)
        longitudes.append(park.location.lon if park.location else DEFAULT_LONGITUDE)
        for enterprise in park.enterprises:
            for site in enterprise.sites:
                for inst in site.installations:
                    prefix = f"{enterprise.key}.{site.key}.{inst.key}"
                    _add_installation(b, inst, prefix, len(longitudes) - 1)
    tags = b.tags
    lo = np.array([t.range[0] for t in tags], dtype=np.float64)
    hi = np.array([t.range[1] for t in tags], dtype=np.float64)
    noise = np.array([NOISE_FRACTION[r] for r in b.role], dtype=np.float64) * (hi - lo)
    return ParkModel(
        keys=tuple(b.keys),
        role=np.array([int(r) for r in b.role], dtype=np.int8),
        unit=np.array(b.unit, dtype=np.int64),
        scale=np.array(b.scale, dtype=np.float64),
        lo=lo,
        hi=hi,
        period_ms=np.array([max(1, round(t.period_s * 1000)) for t in tags], dtype=np.int64),
        noise_sd=noise,
        latitudes=np.array(latitudes, dtype=np.float64),
        longitudes=np.array(longitudes, dtype=np.float64),
        installations=tuple(b.installations),
        vessels=tuple(b.vessels),
        compressors=tuple(b.compressors),
        detectors=tuple(b.detectors),
        generics=tuple(b.generics),
    )


def _add_installation(b: _Builder, inst: InstallationSpec, prefix: str, park: int) -> None:
    known = [(inv, s) for inv in inst.inventories if (s := substance_of(inv)) is not None]
    substance = known[0][1] if known else None
    refrigeration = substance is not None and any(_is_compressor(q) for q in inst.equipment)
    index = len(b.installations)
    b.installations.append(
        InstallationModel(park=park, substance=substance, refrigeration=refrigeration)
    )
    vessels = [q for q in inst.equipment if _is_vessel(q)]
    volume = DEFAULT_VESSEL_M3
    if known and vessels:
        inventory, s = known[0]
        if inventory.volume_m3 is not None:
            volume = inventory.volume_m3 / len(vessels)
        else:
            volume = inventory.quantity_t / s.liquid_density_t_m3 / len(vessels)
    volume = max(volume, 1.0)
    measured = {
        inv.level_tag: max(inv.volume_m3, 1.0)
        for inv in inst.inventories
        if inv.level_tag is not None and inv.volume_m3 is not None
    }
    for q in inst.equipment:
        base = f"{prefix}.{q.key}"
        if _is_vessel(q):
            own = measured.get(f"{q.key}.level", volume)
            _add_vessel(b, q=q, base=base, inst=index, substance=substance, volume=own)
        elif substance is not None and _is_compressor(q):
            _add_compressor(b, q, base, index)
        elif _is_mast(q):
            _add_mast(b, q, base, index, park)
        else:
            for tag in q.tags:
                _add_plain(b, tag, f"{base}.{tag.key}", index, substance)


def _add_vessel(
    b: _Builder,
    *,
    q: EquipmentSpec,
    base: str,
    inst: int,
    substance: Substance | None,
    volume: float,
) -> None:
    level = next(t for t in q.tags if t.key == "level")
    lo, hi = _normal_band(level)
    b.vessels.append(
        VesselModel(installation=inst, volume_m3=volume, initial_level_pct=(lo + hi) / 2)
    )
    v = len(b.vessels) - 1
    for tag in q.tags:
        key = f"{base}.{tag.key}"
        if tag.key == "level":
            b.add(key, tag, Role.LEVEL, v)
        elif tag.key == "temperature" and tag.unit in TEMPERATURE_UNITS:
            b.add(key, tag, Role.TEMPERATURE, v)
        elif tag.key == "pressure" and tag.unit in PRESSURE_UNITS and substance is not None:
            b.add(key, tag, Role.PRESSURE, v, PRESSURE_UNITS[tag.unit])
        else:
            _add_plain(b, tag, key, inst, substance)


def _add_compressor(b: _Builder, q: EquipmentSpec, base: str, inst: int) -> None:
    b.compressors.append(inst)
    c = len(b.compressors) - 1
    for tag in q.tags:
        key = f"{base}.{tag.key}"
        if tag.key == "suction-pressure" and tag.unit in PRESSURE_UNITS:
            b.add(key, tag, Role.SUCTION_PRESSURE, c, PRESSURE_UNITS[tag.unit])
        elif tag.key == "discharge-pressure" and tag.unit in PRESSURE_UNITS:
            b.add(key, tag, Role.DISCHARGE_PRESSURE, c, PRESSURE_UNITS[tag.unit])
        elif tag.key == "discharge-temperature" and tag.unit in TEMPERATURE_UNITS:
            b.add(key, tag, Role.DISCHARGE_TEMPERATURE, c)
        else:
            _add_plain(b, tag, key, inst, None)


def _add_mast(b: _Builder, q: EquipmentSpec, base: str, inst: int, park: int) -> None:
    for tag in q.tags:
        key = f"{base}.{tag.key}"
        units, role = MAST_TAGS.get(tag.key, (frozenset(), Role.GENERIC))
        if tag.unit in units:
            b.add(key, tag, role, park)
        else:
            _add_plain(b, tag, key, inst, None)


def _add_plain(b: _Builder, tag: TagSpec, key: str, inst: int, substance: Substance | None) -> None:
    per_mg_m3 = _detector_scale(tag.unit, substance)
    if per_mg_m3 is None:
        b.add_generic(key, tag)
        return
    span = tag.range[1] - tag.range[0]
    background = tag.range[0] + 2 * NOISE_FRACTION[Role.GAS] * span
    b.detectors.append(DetectorModel(installation=inst, per_mg_m3=per_mg_m3, background=background))
    b.add(key, tag, Role.GAS, len(b.detectors) - 1)


def _detector_scale(unit: str, substance: Substance | None) -> float | None:
    if unit in MG_UNITS:
        return 1.0
    if unit == PPM_UNIT:
        return substance.ppm_per_mg_m3() if substance else 24.45 / 29.0
    if unit == LEL_UNIT:
        if substance is None or substance.lel_vol_pct is None:
            # Unknown gas: a generic hydrocarbon (M 44 g/mol, LEL 2 %vol).
            return 24.45 / 44.0 / (2.0 * 100.0)
        # %LEL = ppm / (LEL %vol × 10 000 ppm per %vol) × 100
        return substance.ppm_per_mg_m3() / (substance.lel_vol_pct * 100.0)
    return None


def _is_vessel(q: EquipmentSpec) -> bool:
    return any(t.key == "level" and t.unit == "%" for t in q.tags)


def _is_mast(q: EquipmentSpec) -> bool:
    return any(t.key == "wind-speed" and t.unit == WIND_SPEED_UNIT for t in q.tags)


def _is_compressor(q: EquipmentSpec) -> bool:
    return any(t.key == "discharge-pressure" for t in q.tags)


def _normal_band(tag: TagSpec) -> tuple[float, float]:
    """Between the highest low limit and the lowest high limit, else the range."""
    lo, hi = tag.range
    lows = [tag.limits[k].value for k in (ConditionKind.L, ConditionKind.LL) if k in tag.limits]
    highs = [tag.limits[k].value for k in (ConditionKind.H, ConditionKind.HH) if k in tag.limits]
    return (max([lo, *lows]), min([hi, *highs]))
