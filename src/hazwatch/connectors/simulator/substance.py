"""Liquefied gases the simulator knows: vapour pressure, molar mass, flammability.

Vapour pressure follows the Clausius–Clapeyron equation anchored at the normal boiling
point, ``p = p_atm · exp(B · (1/T_b − 1/T))`` with ``B = ΔH_vap / R`` (K) fitted through the
boiling point and the saturation pressure at 20 °C. Over −40…60 °C this stays within a few
per cent of tabulated data (chlorine 6.8 bar abs at 20 °C and 11.6 at 40 °C; ammonia 8.6 and
15.8; propane 8.4 and 13.8). A mixture (LPG) follows Raoult's law over its components.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hazwatch.domain.plant import InventorySpec

ATMOSPHERE_MPA = 0.101325
KELVIN = 273.15
# Molar volume of an ideal gas at 25 °C and 101.325 kPa, L/mol: ppm = mg/m³ × 24.45 / M.
MOLAR_VOLUME_L = 24.45

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    """One pure component of a liquefied gas, in mole fraction ``fraction`` of the liquid."""

    fraction: float
    boiling_point_c: float
    slope_k: float


@dataclass(frozen=True, slots=True, kw_only=True)
class Substance:
    """A liquefied gas: identity, properties for the physics, and how to recognise it."""

    name: str
    names: frozenset[str]
    cas: frozenset[str]
    molar_mass_g_mol: float
    liquid_density_t_m3: float
    heat_capacity_ratio: float
    components: tuple[Component, ...]
    lel_vol_pct: float | None = None

    def vapour_pressure_mpa(self, temperature_c: Floats) -> Floats:
        """Absolute saturation pressure (MPa) of the liquid at ``temperature_c`` (°C)."""
        t = np.asarray(temperature_c, dtype=np.float64) + KELVIN
        total = np.zeros_like(t)
        for c in self.components:
            total += c.fraction * np.exp(c.slope_k * (1.0 / (c.boiling_point_c + KELVIN) - 1.0 / t))
        return ATMOSPHERE_MPA * total

    def saturation_gauge_mpa(self, temperature_c: Floats) -> Floats:
        """Gauge pressure (MPa g) of a vessel holding the boiling liquid at ``temperature_c``."""
        return self.vapour_pressure_mpa(temperature_c) - ATMOSPHERE_MPA

    def ppm_per_mg_m3(self) -> float:
        return MOLAR_VOLUME_L / self.molar_mass_g_mol


CHLORINE = Substance(
    name="chlorine",
    names=frozenset({"chlorine", "liquid chlorine", "氯", "液氯", "氯气"}),
    cas=frozenset({"7782-50-5"}),
    molar_mass_g_mol=70.90,
    liquid_density_t_m3=1.41,
    heat_capacity_ratio=1.33,
    components=(Component(fraction=1.0, boiling_point_c=-34.04, slope_k=2469.0),),
)
AMMONIA = Substance(
    name="ammonia",
    names=frozenset({"ammonia", "anhydrous ammonia", "氨", "液氨", "氨气"}),
    cas=frozenset({"7664-41-7"}),
    molar_mass_g_mol=17.03,
    liquid_density_t_m3=0.61,
    heat_capacity_ratio=1.31,
    components=(Component(fraction=1.0, boiling_point_c=-33.34, slope_k=2814.0),),
    lel_vol_pct=15.0,
)
PROPANE = Component(fraction=1.0, boiling_point_c=-42.1, slope_k=2301.0)
BUTANE = Component(fraction=1.0, boiling_point_c=-0.5, slope_k=2805.0)
LPG = Substance(
    name="LPG",
    names=frozenset({"lpg", "liquefied petroleum gas", "液化石油气", "液化气"}),
    cas=frozenset({"68476-85-7"}),
    molar_mass_g_mol=48.6,
    liquid_density_t_m3=0.53,
    heat_capacity_ratio=1.13,
    # A commercial propane-butane mix, 70/30 by moles.
    components=(
        Component(fraction=0.7, boiling_point_c=PROPANE.boiling_point_c, slope_k=PROPANE.slope_k),
        Component(fraction=0.3, boiling_point_c=BUTANE.boiling_point_c, slope_k=BUTANE.slope_k),
    ),
    lel_vol_pct=2.0,
)
PROPANE_GAS = Substance(
    name="propane",
    names=frozenset({"propane", "丙烷"}),
    cas=frozenset({"74-98-6"}),
    molar_mass_g_mol=44.10,
    liquid_density_t_m3=0.50,
    heat_capacity_ratio=1.13,
    components=(PROPANE,),
    lel_vol_pct=2.1,
)
BUTANE_GAS = Substance(
    name="butane",
    names=frozenset({"butane", "n-butane", "正丁烷", "丁烷"}),
    cas=frozenset({"106-97-8"}),
    molar_mass_g_mol=58.12,
    liquid_density_t_m3=0.58,
    heat_capacity_ratio=1.10,
    components=(BUTANE,),
    lel_vol_pct=1.8,
)

SUBSTANCES: tuple[Substance, ...] = (CHLORINE, AMMONIA, LPG, PROPANE_GAS, BUTANE_GAS)


def substance_of(inventory: InventorySpec) -> Substance | None:
    """The known substance an inventory holds, by CAS number, else by name (or None)."""
    for substance in SUBSTANCES:
        if inventory.cas is not None and inventory.cas in substance.cas:
            return substance
    name = inventory.chemical.strip().lower()
    return next((s for s in SUBSTANCES if name in s.names), None)
