"""The packaged chemical table against the reference standards §6.4 (60-min AEGL, ERPG, IDLH)."""

from __future__ import annotations

import pytest

from hazwatch.respond.chemicals import (
    THRESHOLD_NAMES,
    UnknownChemicalError,
    chemicals,
    find_chemical,
)

# §6.4, in ppm: AEGL-1/2/3 (60 min), ERPG-1/2/3, IDLH
EXPECTED = {
    "chlorine": (0.5, 2.0, 20, 1, 3, 20, 10),
    "ammonia": (30, 160, 1100, 25, 150, 750, 300),
    "hydrogen sulfide": (0.51, 27, 50, 0.1, 30, 100, 100),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_thresholds_are_those_of_the_standards(name: str) -> None:
    chemical = find_chemical(name)
    assert tuple(t.name for t in chemical.thresholds) == THRESHOLD_NAMES
    assert tuple(t.ppm for t in chemical.thresholds) == pytest.approx(EXPECTED[name])


def test_the_table_holds_exactly_the_standards_chemicals() -> None:
    assert sorted(c.name for c in chemicals()) == sorted(EXPECTED)


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Chlorine", "chlorine"),
        ("氯气", "chlorine"),
        ("7782-50-5", "chlorine"),
        ("nh3", "ammonia"),
        ("氨", "ammonia"),
        ("7664-41-7", "ammonia"),
        (" Hydrogen Sulfide ", "hydrogen sulfide"),
        ("硫化氢", "hydrogen sulfide"),
        ("7783-06-4", "hydrogen sulfide"),
    ],
)
def test_lookup_by_name_chinese_name_formula_or_cas(query: str, name: str) -> None:
    assert find_chemical(query).name == name


def test_molar_masses_match_the_formulas() -> None:
    # Cl 35.45, N 14.007, H 1.008, S 32.06 g/mol (IUPAC); §6.1 gives Cl₂ M = 70.9.
    assert find_chemical("chlorine").molar_mass_g_mol == pytest.approx(2 * 35.45, rel=1e-3)
    assert find_chemical("ammonia").molar_mass_g_mol == pytest.approx(14.007 + 3 * 1.008, rel=1e-3)
    assert find_chemical("H2S").molar_mass_g_mol == pytest.approx(32.06 + 2 * 1.008, rel=1e-3)


def test_an_unknown_chemical_names_the_known_ones() -> None:
    with pytest.raises(UnknownChemicalError) as caught:
        find_chemical("phosgene")
    message = str(caught.value)
    assert "phosgene" in message
    for name in EXPECTED:
        assert name in message


def test_threshold_lookup_by_name() -> None:
    chlorine = find_chemical("chlorine")
    found = chlorine.threshold("aegl-2")
    assert found is not None
    assert found.ppm == 2.0
    assert chlorine.threshold("TEEL-2") is None
