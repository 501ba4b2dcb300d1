"""The weather mast of the demo park: believable wind, sun and sky, deterministic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import pytest

from hazwatch.connectors.simulator import DEMO_CLIMATE, ParkSimulator
from hazwatch.connectors.simulator.ambient import daily_cycle_c
from hazwatch.connectors.simulator.demo import MAST
from hazwatch.connectors.simulator.model import Role, compile_plant
from hazwatch.connectors.simulator.physics import Physics
from hazwatch.connectors.simulator.sun import clear_sky_w_m2, cloud_transmission, elevation_deg
from hazwatch.connectors.simulator.weather import Climate
from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.plant import PlantSpec

if TYPE_CHECKING:
    from conftest import Run

BEIJING = timedelta(hours=8)


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


def _off_by_deg(a: np.ndarray, b: float) -> np.ndarray:
    """Smallest angle (degrees) between directions ``a`` and ``b``."""
    return np.abs((a - b + 180.0) % 360.0 - 180.0)


def test_the_mast_tags_are_recognised(spec: PlantSpec) -> None:
    model = compile_plant(spec)
    roles = {
        key.rsplit(".", 1)[1]: model.role_of(key) for key in model.keys if key.startswith(MAST)
    }
    assert roles == {
        "wind-speed": Role.WIND_SPEED,
        "wind-direction": Role.WIND_DIRECTION,
        "wind-gust": Role.WIND_GUST,
        "air-temperature": Role.AIR_TEMPERATURE,
        "solar-radiation": Role.SOLAR_RADIATION,
        "cloud-cover": Role.CLOUD_COVER,
    }
    assert model.has_weather


def test_wind_blows_around_the_prevailing_wind_with_gusts(demo_hour: Run) -> None:
    speed_min, speed = demo_hour.series(f"{MAST}.wind-speed")
    gust_min, gust = demo_hour.series(f"{MAST}.wind-gust")
    _, direction = demo_hour.series(f"{MAST}.wind-direction")
    # A light wind: the 10-minute mean within 40 % of the climate's, and it does vary.
    assert np.all(np.abs(speed / DEMO_CLIMATE.wind_m_s - 1.0) < 0.4)
    assert speed.max() - speed.min() > 0.1
    # The highest 1-s wind of 10 minutes exceeds their mean, by less than a factor 3.
    np.testing.assert_array_equal(speed_min, gust_min)
    assert np.all(gust > speed) and np.all(gust < 3 * speed)
    assert np.all((direction >= 0) & (direction < 360))
    assert np.all(_off_by_deg(direction, DEMO_CLIMATE.wind_from_deg) < 15)
    assert np.ptp(direction) > 1.0


def test_air_temperature_follows_the_daily_cycle(demo_hour: Run, spec: PlantSpec) -> None:
    minutes, air = demo_hour.series(f"{MAST}.air-temperature")
    park = spec.parks[0].location
    assert park is not None
    ts = (demo_hour.start + minutes * MINUTE_MS).astype(np.int64)
    cycle = np.array([daily_cycle_c(int(t), np.array([park.lon]))[0] for t in ts])
    # The weather anomaly has a standard deviation of 0.8 K: 4 K is five of them.
    assert np.all(np.abs(air - cycle) < 4.0)


def test_solar_radiation_is_zero_until_sunrise(demo_hour: Run) -> None:
    """The demo hour starts at 06:13 Beijing time on 15 November 2023; the almanac's
    sunrise over the park (32.08 N, 120.01 E) that day is at about 06:33."""
    minutes, radiation = demo_hour.series(f"{MAST}.solar-radiation")
    local = [
        datetime.fromtimestamp((demo_hour.start + m * MINUTE_MS) / 1000, UTC) + BEIJING
        for m in minutes
    ]
    hours = np.array([t.hour + t.minute / 60 for t in local])
    assert local[0].date().isoformat() == "2023-11-15"
    assert np.all(radiation[hours < 6 + 25 / 60] == 0.0)
    assert np.all(radiation[hours > 6 + 45 / 60] > 0.0)
    # An hour after sunrise the sun is under 10° high: under 150 W/m² even with no cloud.
    assert 0 < radiation.max() < 250
    assert np.all(np.diff(radiation[hours > 6 + 45 / 60]) > -20)  # rising with the sun


def test_cloud_cover_is_whole_oktas(demo_hour: Run) -> None:
    _, cloud = demo_hour.series(f"{MAST}.cloud-cover")
    np.testing.assert_array_equal(cloud, np.round(cloud))
    assert np.all((cloud >= 0) & (cloud <= 8))


@pytest.mark.parametrize(
    ("iso", "expected_deg"),
    [
        # Equinox 20 March 2024 (03:06 UT): at local noon the sun stands 90° − latitude.
        ("2024-03-20T04:07:00+00:00", 90.0 - 32.08),
        # June solstice: 90° − latitude + 23.44°.
        ("2024-06-21T04:02:00+00:00", 90.0 - 32.08 + 23.44),
        # December solstice: 90° − latitude − 23.44°.
        ("2024-12-21T03:58:00+00:00", 90.0 - 32.08 - 23.44),
    ],
)
def test_the_sun_at_noon(iso: str, expected_deg: float) -> None:
    elevation = elevation_deg(_ms(iso), np.array([32.08]), np.array([120.01]))
    assert elevation[0] == pytest.approx(expected_deg, abs=0.3)


def test_the_sun_is_down_at_midnight_and_radiation_with_it() -> None:
    midnight = _ms("2024-06-21T16:00:00+00:00")  # 00:00 Beijing time
    elevation = elevation_deg(midnight, np.array([32.08]), np.array([120.01]))
    assert elevation[0] < -30
    assert clear_sky_w_m2(elevation)[0] == 0.0


def test_clear_sky_radiation_and_cloud() -> None:
    # Haurwitz with the sun overhead: 1098 · exp(−0.057) = 1037.2 W/m².
    assert clear_sky_w_m2(np.array([90.0]))[0] == pytest.approx(1037.2, abs=0.1)
    # Kasten–Czeplak: 1 − 0.75 · (N/8)^3.4; 4/8 → 1 − 0.75 · 0.0947 = 0.929.
    np.testing.assert_allclose(
        cloud_transmission(np.array([0.0, 4.0, 8.0])), [1.0, 0.929, 0.25], atol=1e-3
    )


def test_wind_direction_wraps_around_north(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    north = Climate(wind_from_deg=359.0, wind_m_s=2.5)
    batch = ParkSimulator(spec, ids, start=start, incidents=[], climate=north).step(
        start + 60 * MINUTE_MS
    )
    direction = batch.value[batch.tag == ids[f"{MAST}.wind-direction"]]
    assert np.all((direction >= 0) & (direction < 360))
    assert np.any(direction < 10) and np.any(direction > 350)
    assert np.all(_off_by_deg(direction, 359.0) < 15)


def test_the_mast_is_deterministic_for_a_seed(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    keys = [k for k in ids if k.startswith(MAST)]
    end = start + 15 * MINUTE_MS
    runs = [
        ParkSimulator(spec, ids, start=start, seed=seed, incidents=[]).step(end)
        for seed in (5, 5, 6)
    ]
    for key in keys:
        a, b, c = (r.value[r.tag == ids[key]] for r in runs)
        np.testing.assert_array_equal(a, b)
        if "radiation" not in key and "cloud" not in key:
            assert not np.array_equal(a, c), key


def test_the_sky_depends_only_on_the_seed_and_the_climate(spec: PlantSpec, start: int) -> None:
    """The weather draws from a random stream of its own: a plant with nothing but the mast
    has the same wind and sky as the whole demo park."""
    park = spec.parks[0]
    chlor = park.enterprises[0]
    site = chlor.sites[0]
    mast_only = site.model_copy(
        update={"installations": [i for i in site.installations if i.key == "weather"]}
    )
    alone = spec.model_copy(
        update={
            "parks": [
                park.model_copy(
                    update={"enterprises": [chlor.model_copy(update={"sites": [mast_only]})]}
                )
            ]
        }
    )
    whole, small = compile_plant(spec), compile_plant(alone)
    a = Physics(whole, start=start, seed=2)
    b = Physics(small, start=start, seed=2)
    for _ in range(300):
        a.advance()
        b.advance()
    keys = [k for k in small.keys if not k.endswith("air-temperature")]
    assert len(keys) == 5
    np.testing.assert_array_equal(
        a.values()[[whole.index(k) for k in keys]], b.values()[[small.index(k) for k in keys]]
    )
