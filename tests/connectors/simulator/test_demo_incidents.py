"""The demo script plays out in the first simulated hour, as docs/plant-file.md says."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from hazwatch.connectors.simulator import (
    DEMO_INCIDENTS,
    Incident,
    IncidentError,
    IncidentKind,
    ParkSimulator,
    select_incidents,
)
from hazwatch.connectors.simulator.demo import CHLORINE_LEAK_TAG, LEAK_TAG, OVERFILL_TAG
from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.tag import ConditionKind

if TYPE_CHECKING:
    from conftest import Run


def _incident(kind: IncidentKind) -> Incident:
    return next(i for i in DEMO_INCIDENTS if i.kind == kind)


def _keyed(key: str) -> Incident:
    return next(i for i in DEMO_INCIDENTS if i.key == key)


def _window(incident: Incident) -> tuple[float, float]:
    return incident.start_s / 60, incident.end_s / 60


def test_overfill_crosses_h_then_hh_and_is_pumped_back(demo_hour: Run) -> None:
    incident = _incident(IncidentKind.OVERFILL)
    limits = demo_hour.tag(incident.tag).limits
    minutes, level = demo_hour.series(incident.tag)
    start, end = _window(incident)
    h = minutes[np.argmax(level >= limits[ConditionKind.H].value)]
    hh = minutes[np.argmax(level >= limits[ConditionKind.HH].value)]
    assert level[minutes < start].max() < limits[ConditionKind.H].value
    assert start < h < hh < end < 60
    lo, hi = demo_hour.tag(incident.tag).range
    assert level.max() > hi - 0.1 * (hi - lo)  # near the top before it is stopped
    assert level[-1] < limits[ConditionKind.H].value - limits[ConditionKind.H].deadband


def test_leak_detector_rises_through_level_1_and_level_2(demo_hour: Run) -> None:
    incident = _incident(IncidentKind.LEAK)
    limits = demo_hour.tag(incident.tag).limits
    h, hh = limits[ConditionKind.H].value, limits[ConditionKind.HH].value
    minutes, ppm = demo_hour.series(incident.tag)
    start, end = _window(incident)
    assert ppm[minutes < start].max() < h
    crossed_h = minutes[np.argmax(ppm >= h)]
    crossed_hh = minutes[np.argmax(ppm >= hh)]
    assert ppm.max() >= hh
    assert start < crossed_h < crossed_hh <= end
    assert ppm[-1] < h - limits[ConditionKind.H].deadband  # decays once isolated


def test_leak_is_weaker_at_the_other_detectors_of_the_room(demo_hour: Run) -> None:
    incident = _incident(IncidentKind.LEAK)
    room = incident.equipment
    others = [k for k in demo_hour.spec.tag_keys() if k.startswith(room) and k != incident.tag]
    assert others
    _, near = demo_hour.series(incident.tag)
    for key in others:
        _, far = demo_hour.series(key)
        assert 0.1 * near.max() < far.max() < 0.5 * near.max()


def test_frozen_transmitter_repeats_its_last_value_exactly(demo_hour: Run) -> None:
    incident = _incident(IncidentKind.FROZEN)
    minutes, values = demo_hour.series(incident.tag)
    start, end = _window(incident)
    inside = (minutes >= start) & (minutes < end)
    before = values[minutes < start]
    frozen = values[inside]
    frozen_after_s = demo_hour.tag(incident.tag).frozen_after_s
    assert frozen_after_s is not None
    assert (end - start) * 60 > 2 * frozen_after_s
    assert np.all(frozen == before[-1])
    assert len(np.unique(before)) == len(before)
    after = values[minutes >= end]
    assert len(after) > 2 and np.all(after != frozen[0])


def test_offline_detector_sends_nothing_during_its_outage(demo_hour: Run) -> None:
    incident = _incident(IncidentKind.OFFLINE)
    minutes, _ = demo_hour.series(incident.tag)
    start, end = _window(incident)
    assert not np.any((minutes >= start) & (minutes < end))
    period_min = demo_hour.tag(incident.tag).period_s / 60
    assert np.any(minutes < start) and np.any(minutes >= end)
    assert minutes[minutes >= end].min() < end + period_min  # resumes at once
    gaps = np.diff(minutes)
    assert gaps.max() >= end - start - period_min


def test_tags_without_incident_report_all_hour(demo_hour: Run) -> None:
    troubled = {i.tag for i in DEMO_INCIDENTS if i.kind == IncidentKind.OFFLINE}
    for key in demo_hour.spec.tag_keys():
        if key in troubled:
            continue
        minutes, _ = demo_hour.series(key)
        period_min = demo_hour.tag(key).period_s / 60
        assert np.diff(minutes).max() <= period_min + 1e-9, key


def test_chlorine_leak_crosses_h_then_hh_within_minutes_and_decays(demo_hour: Run) -> None:
    incident = _keyed("chlorine-leak")
    assert incident.tag == CHLORINE_LEAK_TAG
    limits = demo_hour.tag(incident.tag).limits
    h, hh = limits[ConditionKind.H].value, limits[ConditionKind.HH].value
    minutes, ppm = demo_hour.series(incident.tag)
    start, end = _window(incident)
    assert ppm[minutes < start].max() < h
    crossed_h = minutes[np.argmax(ppm >= h)]
    crossed_hh = minutes[np.argmax(ppm >= hh)]
    assert start < crossed_h < crossed_hh <= end
    assert crossed_hh - start < 6  # level 2 within a few minutes
    peak = int(np.argmax(ppm))
    assert minutes[peak] == pytest.approx(end, abs=0.5)  # rises until it is isolated
    assert ppm[-1] < h - limits[ConditionKind.H].deadband  # back to normal within the hour


def test_chlorine_leak_reaches_the_other_detectors_of_the_store_below_level_1(
    demo_hour: Run,
) -> None:
    incident = _keyed("chlorine-leak")
    h = demo_hour.tag(incident.tag).limits[ConditionKind.H].value
    others = [
        k
        for k in demo_hour.spec.tag_keys()
        if k.startswith(incident.equipment) and k != incident.tag
    ]
    assert len(others) == 3
    _, near = demo_hour.series(incident.tag)
    for key in others:
        _, far = demo_hour.series(key)
        assert 0.1 * near.max() < far.max() < h, key


def test_chlorine_leak_plays_after_the_other_incidents_within_the_hour() -> None:
    chlorine = _keyed("chlorine-leak")
    assert all(i.end_s <= chlorine.start_s for i in DEMO_INCIDENTS if i is not chlorine)
    assert chlorine.end_s <= 60 * 60


def test_a_test_can_play_the_chlorine_leak_alone_and_early(
    spec: PlantSpec, ids: dict[str, int], start: int, demo_hour: Run
) -> None:
    (incident,) = select_incidents("chlorine-leak@60")
    chlorine = _keyed("chlorine-leak")
    assert (incident.start_s, incident.end_s) == (60, 60 + chlorine.end_s - chlorine.start_s)
    batch = ParkSimulator(spec, ids, start=start, incidents=[incident]).step(start + 15 * MINUTE_MS)

    def series(key: str) -> tuple[np.ndarray, np.ndarray]:
        mask = batch.tag == ids[key]
        return (batch.ts[mask] - start) / MINUTE_MS, batch.value[mask]

    minutes, ppm = series(CHLORINE_LEAK_TAG)
    hh = demo_hour.tag(CHLORINE_LEAK_TAG).limits[ConditionKind.HH].value
    crossed_hh = minutes[np.argmax(ppm >= hh)]
    assert ppm.max() >= hh and 1 < crossed_hh < 7
    # The rest of the script is off: no ammonia, no overfill.
    assert series(LEAK_TAG)[1].max() < 5
    assert series(OVERFILL_TAG)[1].max() < 60


def test_selecting_incidents() -> None:
    assert select_incidents("") == ()
    picked = select_incidents(" lpg-overfill, ammonia-leak@30 ")
    assert [i.key for i in picked] == ["lpg-overfill", "ammonia-leak"]
    assert picked[0] == _keyed("lpg-overfill")
    assert picked[1].start_s == 30
    assert len({i.key for i in DEMO_INCIDENTS}) == len(DEMO_INCIDENTS)
    with pytest.raises(IncidentError, match=r"'chlorine'.*chlorine-leak"):
        select_incidents("chlorine")
    for bad in ("chlorine-leak@-5", "chlorine-leak@soon", "chlorine-leak@nan"):
        with pytest.raises(IncidentError, match="seconds"):
            select_incidents(bad)
