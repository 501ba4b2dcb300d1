"""Vapour pressure of the liquefied gases: rises with temperature, matches the tables."""

from __future__ import annotations

import numpy as np
import pytest

from hazwatch.connectors.simulator.substance import (
    AMMONIA,
    ATMOSPHERE_MPA,
    CHLORINE,
    LPG,
    PROPANE_GAS,
    SUBSTANCES,
    Substance,
    substance_of,
)
from hazwatch.domain.plant import InventorySpec


@pytest.mark.parametrize("substance", SUBSTANCES, ids=lambda s: s.name)
def test_vapour_pressure_rises_with_temperature(substance: Substance) -> None:
    temps = np.linspace(-40.0, 60.0, 201)
    pressure = substance.vapour_pressure_mpa(temps)
    assert np.all(np.diff(pressure) > 0)


@pytest.mark.parametrize("substance", [CHLORINE, AMMONIA, PROPANE_GAS], ids=lambda s: s.name)
def test_boils_at_one_atmosphere_at_its_boiling_point(substance: Substance) -> None:
    bp = np.array([substance.components[0].boiling_point_c])
    assert substance.vapour_pressure_mpa(bp)[0] == pytest.approx(ATMOSPHERE_MPA)
    assert substance.saturation_gauge_mpa(bp)[0] == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("substance", "temp_c", "table_mpa"),
    [
        # Published saturation-pressure tables (absolute pressure).
        (CHLORINE, 20.0, 0.68),
        (CHLORINE, 40.0, 1.15),
        (AMMONIA, 20.0, 0.857),
        (AMMONIA, 40.0, 1.555),
        (PROPANE_GAS, 20.0, 0.836),
        (PROPANE_GAS, 40.0, 1.369),
    ],
)
def test_vapour_pressure_matches_tables(
    substance: Substance, temp_c: float, table_mpa: float
) -> None:
    got = substance.vapour_pressure_mpa(np.array([temp_c]))[0]
    assert got == pytest.approx(table_mpa, rel=0.05)


def test_lpg_lies_between_butane_and_propane() -> None:
    t = np.array([20.0])
    butane = 0.208
    assert butane < LPG.vapour_pressure_mpa(t)[0] < PROPANE_GAS.vapour_pressure_mpa(t)[0]


def test_substance_by_cas_then_by_name() -> None:
    assert substance_of(InventorySpec(chemical="whatever", cas="7664-41-7", tonnes=1)) is AMMONIA
    assert substance_of(InventorySpec(chemical="液氯", tonnes=1)) is CHLORINE
    assert substance_of(InventorySpec(chemical="benzene", cas="71-43-2", tonnes=1)) is None
