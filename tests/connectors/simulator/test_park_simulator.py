"""The simulator's contract: periods, determinism, skipped tags, plausible physics."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from hazwatch.connectors.simulator import Incident, IncidentError, IncidentKind, ParkSimulator
from hazwatch.connectors.simulator.model import Role, compile_plant
from hazwatch.connectors.simulator.physics import level_rate_pct_s
from hazwatch.connectors.simulator.substance import CHLORINE, LPG
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.tag import ConditionKind

if TYPE_CHECKING:
    from conftest import Run

TANK = "lpg.main.sphere-farm.tk-202"
CL2_TANK = "chlor.main.cl2-storage.v-102"


def _sorted(batch: Batch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.lexsort((batch.tag, batch.ts))
    return batch.tag[order], batch.ts[order], batch.value[order]


def test_readings_sit_on_each_tags_period_grid(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    sim = ParkSimulator(spec, ids, start=start, incidents=[])
    now = start + 37_250
    batch = sim.step(now)
    assert batch.received == now
    assert batch.tag.dtype == np.int32 and batch.ts.dtype == np.int64
    assert np.all(np.diff(batch.ts) >= 0)
    for key, period_s in (
        (f"{TANK}.level", 5),
        (f"{TANK}.pressure", 2),
        (f"{TANK}.temperature", 10),
    ):
        period = period_s * 1000
        ts = batch.ts[batch.tag == ids[key]]
        expected = np.arange(-(-start // period) * period, now + 1, period)
        np.testing.assert_array_equal(ts, expected)


def test_a_long_jump_returns_every_reading_and_the_next_step_continues(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    sim = ParkSimulator(spec, ids, start=start, incidents=[])
    first = sim.step(start + 60_000)
    key = ids[f"{TANK}.pressure"]
    assert (first.tag == key).sum() == len(range(-(-start // 2000) * 2000, start + 60_001, 2000))
    second = sim.step(start + 70_000)
    assert second.ts.min() > start + 60_000
    assert (second.tag == key).sum() == 5
    assert len(sim.step(start + 70_000)) == 0  # nothing is due twice
    assert len(sim.step(start + 30_000)) == 0  # time does not run backwards


def test_deterministic_for_a_seed_whatever_the_step_size(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    end = start + 20 * MINUTE_MS
    one = ParkSimulator(spec, ids, start=start, seed=3).step(end)
    sim = ParkSimulator(spec, ids, start=start, seed=3)
    many = Batch.concat([sim.step(t) for t in range(start + 733, end, 733)] + [sim.step(end)])
    for a, b in zip(_sorted(one), _sorted(many), strict=True):
        np.testing.assert_array_equal(a, b)
    other = ParkSimulator(spec, ids, start=start, seed=4).step(end)
    assert not np.array_equal(_sorted(one)[2], _sorted(other)[2])


def test_tags_without_an_id_are_skipped(spec: PlantSpec, start: int) -> None:
    keys = spec.tag_keys()[::3]
    ids = {key: 7 + i for i, key in enumerate(keys)}
    batch = ParkSimulator(spec, ids, start=start).step(start + 30_000)
    assert set(np.unique(batch.tag).tolist()) == set(ids.values())


def test_values_stay_inside_the_instrument_range(demo_hour: Run) -> None:
    for key in demo_hour.spec.tag_keys():
        lo, hi = demo_hour.tag(key).range
        _, values = demo_hour.series(key)
        assert len(values) > 0, key
        assert np.all((values >= lo) & (values <= hi)), key


def test_tags_without_a_model_stay_inside_their_normal_band(demo_hour: Run) -> None:
    model = compile_plant(demo_hour.spec)
    generic = [k for k in model.keys if model.role_of(k) == Role.GENERIC]
    assert generic
    for key in generic:
        limits = demo_hour.tag(key).limits
        _, values = demo_hour.series(key)
        assert np.std(values) > 0, key
        for kind, limit in limits.items():
            if kind.is_high:
                assert values.max() < limit.value, (key, kind)
            else:
                assert values.min() > limit.value, (key, kind)


def test_level_rises_when_inflow_exceeds_outflow() -> None:
    assert level_rate_pct_s(0.01, 50.0) > 0 > level_rate_pct_s(-0.01, 50.0)
    assert level_rate_pct_s(0.01, 50.0) == pytest.approx(2 * level_rate_pct_s(0.01, 100.0))


def test_level_integrates_the_extra_inflow(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    """Against the same run without it, an extra inflow R (m³/h) over t adds R·t/V."""
    rate_m3_h, minutes = 120.0, 20
    extra = Incident(
        kind=IncidentKind.OVERFILL, tag=f"{TANK}.level", start_s=0, end_s=3600, rate=rate_m3_h
    )
    end = start + minutes * MINUTE_MS
    with_inflow = ParkSimulator(spec, ids, start=start, incidents=[extra]).step(end)
    without = ParkSimulator(spec, ids, start=start, incidents=[]).step(end)
    key = ids[f"{TANK}.level"]
    rise = with_inflow.value[with_inflow.tag == key] - without.value[without.tag == key]
    elapsed_h = (with_inflow.ts[with_inflow.tag == key] - start) / 3_600_000
    volume = compile_plant(spec).vessel_of(f"{TANK}.level").volume_m3
    expected = 100.0 * rate_m3_h * elapsed_h / volume
    assert expected[-1] > 5.0
    # Measurement noise is 0.05 % of span on each series; sampled 1 s ticks add < 1 s of flow.
    np.testing.assert_allclose(rise, expected, atol=0.4 + 100 * rate_m3_h / 3600 / volume)


def test_vessel_pressure_is_the_saturation_pressure_at_its_temperature(demo_hour: Run) -> None:
    for tank, substance in ((CL2_TANK, CHLORINE), (TANK, LPG)):
        t_min, temperature = demo_hour.series(f"{tank}.temperature")
        p_min, pressure = demo_hour.series(f"{tank}.pressure")
        at_temperature = np.interp(t_min, p_min, pressure)
        expected = substance.saturation_gauge_mpa(temperature)
        np.testing.assert_allclose(at_temperature, expected, atol=0.015)


def test_refrigeration_discharge_is_hotter_and_higher_than_suction(demo_hour: Run) -> None:
    base = "coldchain.main.refrigeration.c-301"
    _, suction = demo_hour.series(f"{base}.suction-pressure")
    _, discharge = demo_hour.series(f"{base}.discharge-pressure")
    _, receiver = demo_hour.series("coldchain.main.refrigeration.v-301.pressure")
    _, discharge_t = demo_hour.series(f"{base}.discharge-temperature")
    assert discharge.min() > 4 * suction.max()
    assert discharge.mean() > receiver.mean()
    h = demo_hour.tag(f"{base}.discharge-temperature").limits[ConditionKind.H].value
    _, receiver_t = demo_hour.series("coldchain.main.refrigeration.v-301.temperature")
    assert receiver_t.max() < discharge_t.min() and discharge_t.max() < h


def test_explicit_incidents_must_fit_the_plant(
    spec: PlantSpec, ids: dict[str, int], start: int
) -> None:
    unknown = Incident(kind=IncidentKind.FROZEN, tag="x.y.z.q.t", start_s=0, end_s=1)
    with pytest.raises(IncidentError, match=r"x\.y\.z\.q\.t"):
        ParkSimulator(spec, ids, start=start, incidents=[unknown])
    not_level = Incident(kind=IncidentKind.OVERFILL, tag=f"{TANK}.pressure", start_s=0, end_s=1)
    with pytest.raises(IncidentError, match="level"):
        ParkSimulator(spec, ids, start=start, incidents=[not_level])
    not_gas = Incident(kind=IncidentKind.LEAK, tag=f"{TANK}.level", start_s=0, end_s=1)
    with pytest.raises(IncidentError, match="gas detector"):
        ParkSimulator(spec, ids, start=start, incidents=[not_gas])
    with pytest.raises(IncidentError):
        Incident(kind=IncidentKind.OFFLINE, tag=f"{TANK}.level", start_s=5, end_s=5)
