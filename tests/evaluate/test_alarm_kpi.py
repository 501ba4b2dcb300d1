"""Alarm-system KPIs over a hand-built journal (alarm_log.yaml), against the figures worked
out by hand beside it (alarm_log_expected.yaml), and at the boundaries of each definition."""

from __future__ import annotations

from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from hazwatch.alarms.lifecycle import next_state
from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS, Millis, to_millis
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.evaluate.alarm_kpi import AlarmGrouping, AlarmKpi, alarm_kpis
from hazwatch.evaluate.alarm_log import AlarmEvent, AlarmLog, AlarmSubject
from hazwatch.evaluate.alarm_targets import AlarmTargets, RateVerdict

HERE = Path(__file__).parent


def _ms(value: object) -> Millis:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return to_millis(moment)


def _fixture() -> tuple[AlarmLog, Millis, Millis]:
    data = yaml.safe_load((HERE / "alarm_log.yaml").read_text(encoding="utf-8"))
    subjects = tuple(
        AlarmSubject(
            alarm=name,
            tag_key=a["tag"],
            condition=ConditionKind(a["condition"]),
            priority=Priority(a["priority"]),
            enterprise=a["enterprise"],
            position=a["position"],
        )
        for name, a in data["alarms"].items()
    )
    events = []
    for line in data["events"]:
        at, alarm, given, state = line.split()
        events.append(
            AlarmEvent(alarm=alarm, at=_ms(at), input=AlarmInput(given), to_state=AlarmState(state))
        )
    period = data["period"]
    return (
        AlarmLog(subjects=subjects, events=tuple(events)),
        _ms(period["start"]),
        _ms(period["end"]),
    )


LOG, START, END = _fixture()
EXPECTED = yaml.safe_load((HERE / "alarm_log_expected.yaml").read_text(encoding="utf-8"))


def _number(value: object) -> float:
    return float(Fraction(str(value)))


def test_the_fixture_follows_the_alarm_lifecycle() -> None:
    """Every event is a transition the alarm book could have journaled."""
    state = dict.fromkeys((s.alarm for s in LOG.subjects), AlarmState.NORMAL)
    active = dict.fromkeys(state, False)
    for event in LOG.events:
        if event.input is AlarmInput.ACTIVATE:
            active[event.alarm] = True
        elif event.input is AlarmInput.CLEAR:
            active[event.alarm] = False
        expected = next_state(state[event.alarm], event.input, active[event.alarm])
        assert expected is event.to_state, f"{event}: the lifecycle leads to {expected}"
        state[event.alarm] = event.to_state


def _check(kpi: AlarmKpi, want: dict[str, Any]) -> None:
    assert kpi.alarms == want["alarms"]
    assert kpi.annunciations == want["annunciations"]
    assert kpi.activations == want["activations"]
    for name in ("per_10min", "per_hour", "per_day"):
        rate = getattr(kpi, name)
        value, verdict = want[name]
        assert rate.value == pytest.approx(_number(value)), name
        assert rate.verdict is RateVerdict(verdict), name
    at, count = want["peak_10min"]
    assert (kpi.peak_10min.start, kpi.peak_10min.annunciations) == (_ms(at), count)
    assert [(w.start, w.annunciations) for w in kpi.flood_windows] == [
        (_ms(at), count) for at, count in want["flood_windows"]
    ]
    assert kpi.flood_share == pytest.approx(_number(want["flood_share"]))
    assert len(kpi.busy_hours) == want["busy_hours"]
    names = {s.tag_key + "/" + s.condition: s.alarm for s in LOG.subjects}
    assert [(names[f"{b.tag_key}/{b.condition}"], b.annunciations) for b in kpi.bad_actors] == [
        tuple(b) for b in want["bad_actors"]
    ]
    total = want["annunciations"]
    assert [b.share for b in kpi.bad_actors] == pytest.approx(
        [n / total for _, n in want["bad_actors"]]
    )
    assert kpi.top10_share == pytest.approx(_number(want["top10_share"]))
    assert [(c.alarm, c.activations, c.most_in_window) for c in kpi.chattering] == [
        tuple(c) for c in want["chattering"]
    ]
    assert [(s.alarm, s.at_end) for s in kpi.stale] == [tuple(s) for s in want["stale"]]
    assert kpi.stale_at_end == want["stale_at_end"]
    assert kpi.most_stale_in_a_day == want["most_stale_in_a_day"]
    assert {p.priority.value: p.annunciations for p in kpi.priorities} == want["priorities"]
    for p in kpi.priorities:
        assert p.share == pytest.approx(want["priorities"][p.priority.value] / total)
    for name in ("shelved", "out_of_service", "suppressed"):
        count = getattr(kpi, name)
        assert [count.actions, count.alarms, count.at_end] == want[name], name


def test_kpis_per_position_match_the_hand_worked_figures() -> None:
    report = alarm_kpis(LOG, START, END, grouping=AlarmGrouping.POSITION)
    want = EXPECTED["by_position"]
    _check(report.overall, want["overall"])
    assert [(g.enterprise, g.position) for g in report.groups] == [
        ("acid", "acid.main.reactor"),
        ("acid", "acid.main.storage"),
        ("salt", "salt.main.brine"),
    ]
    for group in report.groups:
        assert group.enterprise == want[group.position]["enterprise"]
        _check(group, want[group.position])


def test_kpis_per_enterprise_match_the_hand_worked_figures() -> None:
    report = alarm_kpis(LOG, START, END, grouping=AlarmGrouping.ENTERPRISE)
    assert [(g.enterprise, g.position) for g in report.groups] == [("acid", ""), ("salt", "")]
    for group in report.groups:
        _check(group, EXPECTED["by_enterprise"][group.enterprise])


def test_the_flood_the_chattering_and_the_stale_alarm_are_recognised() -> None:
    report = alarm_kpis(LOG, START, END)
    groups = {g.position: g for g in report.groups}
    storage, reactor = groups["acid.main.storage"], groups["acid.main.reactor"]
    assert storage.flood_windows and storage.flood_windows[0].start == _ms("2030-01-01T08:00Z")
    assert [c.tag_key for c in reactor.chattering] == ["acid.main.reactor.r1.temp"]
    stale_at_end = [s for s in reactor.stale if s.at_end]
    assert [(s.tag_key, s.standing_since) for s in stale_at_end] == [
        ("acid.main.reactor.r1.pressure", _ms("2029-12-30T06:00Z"))
    ]
    r4 = next(s for s in reactor.stale if not s.at_end)
    assert r4.standing_until == _ms("2030-01-01T03:00Z")


# --- boundaries ---------------------------------------------------------------------------

T0 = _ms("2030-06-01T00:00Z")
SUBJECT = AlarmSubject(
    alarm="1.H",
    tag_key="e.s.i.q.t",
    condition=ConditionKind.H,
    priority=Priority.LOW,
    enterprise="e",
    position="e.s.i",
)


def _pulses(starts: list[Millis], *, subject: AlarmSubject = SUBJECT) -> list[AlarmEvent]:
    """Activate at each instant, clear 1 ms later (the alarm then awaits acknowledgement)."""
    events = []
    for at in starts:
        events.append(
            AlarmEvent(
                alarm=subject.alarm, at=at, input=AlarmInput.ACTIVATE, to_state=AlarmState.UNACKED
            )
        )
        events.append(
            AlarmEvent(
                alarm=subject.alarm,
                at=at + 1,
                input=AlarmInput.CLEAR,
                to_state=AlarmState.RTN_UNACKED,
            )
        )
    return events


def _one(events: list[AlarmEvent], start: Millis, end: Millis) -> AlarmKpi:
    return alarm_kpis(AlarmLog(subjects=(SUBJECT,), events=tuple(events)), start, end).overall


def test_ten_alarms_in_ten_minutes_is_no_flood_but_eleven_is() -> None:
    ten = _one(_pulses([T0 + i * 50_000 for i in range(10)]), T0, T0 + HOUR_MS)
    assert ten.peak_10min.annunciations == 10
    assert ten.flood_windows == ()
    eleven = _one(_pulses([T0 + i * 50_000 for i in range(11)]), T0, T0 + HOUR_MS)
    assert [(w.start, w.annunciations) for w in eleven.flood_windows] == [(T0, 11)]
    assert eleven.flood_share == pytest.approx(1 / 6)


def test_three_activations_chatter_only_within_less_than_a_minute() -> None:
    apart = _one(_pulses([T0, T0 + 30_000, T0 + MINUTE_MS]), T0, T0 + HOUR_MS)
    assert apart.chattering == ()
    within = _one(_pulses([T0, T0 + 30_000, T0 + MINUTE_MS - 1]), T0, T0 + HOUR_MS)
    assert [(c.activations, c.most_in_window) for c in within.chattering] == [(3, 3)]


def test_stale_means_standing_for_more_than_a_day() -> None:
    end = T0 + 2 * DAY_MS
    exactly = _one(_pulses([end - DAY_MS])[:1], T0, end)
    assert exactly.stale == ()
    longer = _one(_pulses([end - DAY_MS - 1])[:1], T0, end)
    assert [(s.at_end, s.standing_since) for s in longer.stale] == [(True, end - DAY_MS - 1)]
    assert longer.stale_at_end == 1


def test_shelving_ends_standing_and_its_expiry_starts_it_again() -> None:
    events = [
        *_pulses([T0 - 2 * DAY_MS])[:1],
        AlarmEvent(
            alarm="1.H", at=T0 - DAY_MS, input=AlarmInput.SHELVE, to_state=AlarmState.SHELVED
        ),
        AlarmEvent(
            alarm="1.H",
            at=T0 - 1,
            input=AlarmInput.SHELF_EXPIRED,
            to_state=AlarmState.UNACKED,
        ),
    ]
    kpi = _one(events, T0, T0 + HOUR_MS)
    assert kpi.stale == ()  # stood a day before the shelf, then again from T0 - 1 only
    assert kpi.annunciations == 0  # the re-annunciation came before the period


def test_average_rates_are_judged_against_the_targets() -> None:
    cases = [(6, RateVerdict.ACCEPTABLE), (7, RateVerdict.MANAGEABLE), (13, RateVerdict.OVERLOADED)]
    for count, verdict in cases:
        kpi = _one(_pulses([T0 + i * 200_000 for i in range(count)]), T0, T0 + HOUR_MS)
        assert kpi.per_hour.value == count
        assert kpi.per_hour.verdict is verdict
        assert (kpi.per_hour.acceptable, kpi.per_hour.manageable) == (6, 12)
        assert kpi.per_10min.value == pytest.approx(count / 6)


def test_targets_can_be_a_sites_own() -> None:
    strict = AlarmTargets(flood_above=2, chatter_activations=2)
    report = alarm_kpis(
        AlarmLog(subjects=(SUBJECT,), events=tuple(_pulses([T0, T0 + 10_000, T0 + 20_000]))),
        T0,
        T0 + HOUR_MS,
        targets=strict,
    )
    assert len(report.overall.flood_windows) == 1
    assert report.overall.chattering[0].most_in_window == 3
    assert report.targets is strict


def test_a_quiet_period_has_no_shares() -> None:
    kpi = _one([], T0, T0 + HOUR_MS)
    assert kpi.annunciations == 0
    assert kpi.alarms == 0
    assert kpi.top10_share is None
    assert all(p.share is None for p in kpi.priorities)
    assert kpi.peak_10min == type(kpi.peak_10min)(start=T0, annunciations=0)


def test_bad_input_is_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="end"):
        _one([], T0, T0)
    stray = AlarmEvent(alarm="9.HH", at=T0, input=AlarmInput.ACTIVATE, to_state=AlarmState.UNACKED)
    with pytest.raises(ValueError, match=r"unknown alarm '9\.HH'"):
        _one([stray], T0, T0 + HOUR_MS)
    with pytest.raises(ValueError, match="listed twice"):
        alarm_kpis(AlarmLog(subjects=(SUBJECT, SUBJECT), events=()), T0, T0 + HOUR_MS)
