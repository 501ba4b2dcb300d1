"""Pasquill stability class from mast readings: every cell of the table, and its edges."""

from __future__ import annotations

import math

import pytest

from hazwatch.respond.plume import Stability
from hazwatch.respond.weather import Sky, sky, stability_class

# One reading inside each column: W/m² and oktas.
STRONG = {"solar_w_m2": 800.0, "cloud_oktas": 1.0}
MODERATE = {"solar_w_m2": 450.0, "cloud_oktas": 3.0}
SLIGHT = {"solar_w_m2": 200.0, "cloud_oktas": 5.0}
CLOUDY_NIGHT = {"solar_w_m2": 0.0, "cloud_oktas": 6.0}
CLEAR_NIGHT = {"solar_w_m2": 0.0, "cloud_oktas": 1.0}

# The NOAA READY table (standards §6.2), a row per wind band, read by hand; in-between
# classes (A–B, B–C, C–D) are written as their more stable letter.
ROWS = [
    # wind m/s, strong, moderate, slight, night >= 4/8, night <= 3/8
    (1.0, "A", "B", "B", "E", "F"),  # A, A–B, B, E, F
    (2.5, "B", "B", "C", "E", "F"),  # A–B, B, C, E, F
    (4.0, "B", "C", "C", "D", "E"),  # B, B–C, C, D, E
    (5.5, "C", "D", "D", "D", "D"),  # C, C–D, D, D, D
    (8.0, "C", "D", "D", "D", "D"),  # C, D, D, D, D
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r[0]} m/s")
def test_every_cell_of_the_table(row: tuple[float, str, str, str, str, str]) -> None:
    wind, *expected = row
    columns = (STRONG, MODERATE, SLIGHT, CLOUDY_NIGHT, CLEAR_NIGHT)
    got = [stability_class(wind_m_s=wind, **column).value for column in columns]
    assert got == expected


@pytest.mark.parametrize(
    ("wind", "expected"),
    [(1.99, "A"), (2.0, "B"), (2.99, "B"), (3.0, "B"), (4.99, "B"), (5.0, "C"), (6.0, "C")],
)
def test_wind_bands_include_their_lower_bound(wind: float, expected: str) -> None:
    assert stability_class(wind_m_s=wind, **STRONG) == Stability(expected)


@pytest.mark.parametrize(
    ("solar", "expected"),
    [
        (1000.0, Sky.STRONG),
        (600.1, Sky.STRONG),
        (600.0, Sky.MODERATE),
        (300.0, Sky.MODERATE),
        (299.9, Sky.SLIGHT),
        (150.0, Sky.SLIGHT),
        (149.9, Sky.CLEAR_NIGHT),
        (0.0, Sky.CLEAR_NIGHT),
        (-3.0, Sky.CLEAR_NIGHT),  # a pyranometer's thermal offset at night
    ],
)
def test_insolation_from_global_radiation(solar: float, expected: Sky) -> None:
    assert sky(solar_w_m2=solar, cloud_oktas=2) == expected


def test_overcast_is_neutral_day_and_night_whatever_the_wind() -> None:
    for solar in (0.0, 200.0, 900.0):
        for wind in (0.5, 2.5, 4.0, 10.0):
            assert stability_class(wind_m_s=wind, solar_w_m2=solar, cloud_oktas=8) == Stability.D
    # 7.6 oktas is read as 8/8, 7.4 as 7/8: a strong sun through 7/8 is still strong.
    assert sky(solar_w_m2=0, cloud_oktas=7.6) == Sky.OVERCAST
    assert sky(solar_w_m2=700, cloud_oktas=7.4) == Sky.STRONG


def test_night_cloud_boundary_is_between_three_and_four_oktas() -> None:
    assert sky(solar_w_m2=0, cloud_oktas=4) == Sky.CLOUDY_NIGHT
    assert sky(solar_w_m2=0, cloud_oktas=3.5) == Sky.CLOUDY_NIGHT  # rounds to 4/8
    assert sky(solar_w_m2=0, cloud_oktas=3.4) == Sky.CLEAR_NIGHT
    assert sky(solar_w_m2=0, cloud_oktas=3) == Sky.CLEAR_NIGHT
    assert stability_class(wind_m_s=1.0, solar_w_m2=0, cloud_oktas=4) == Stability.E
    assert stability_class(wind_m_s=1.0, solar_w_m2=0, cloud_oktas=3) == Stability.F


def test_a_night_without_cloud_reading_is_taken_as_clear() -> None:
    assert stability_class(wind_m_s=2.5, solar_w_m2=0.0) == Stability.F
    assert stability_class(wind_m_s=2.5, solar_w_m2=450.0) == Stability.B


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"wind_m_s": -0.1, "solar_w_m2": 0.0}, "wind_m_s"),
        ({"wind_m_s": math.nan, "solar_w_m2": 0.0}, "wind_m_s"),
        ({"wind_m_s": 2.0, "solar_w_m2": math.inf}, "solar_w_m2"),
        ({"wind_m_s": 2.0, "solar_w_m2": 0.0, "cloud_oktas": 9.0}, "cloud_oktas"),
        ({"wind_m_s": 2.0, "solar_w_m2": 0.0, "cloud_oktas": -1.0}, "cloud_oktas"),
    ],
)
def test_bad_readings_are_refused_naming_the_field(kwargs: dict[str, float], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        stability_class(**kwargs)
