"""Alarm behaviour as data: every ``*.yaml`` file here is one scenario.

A scenario names one tag (as in a plant file: range, period, limits with deadband and
on/off delays, offline and frozen settings) and the steps that happen to it, at seconds
from the start: a reading (``value``, optionally ``quality``), a ``tick`` (time passes with
no reading), or an operator ``command`` on one ``alarm`` (``for_s`` for shelve). After a
step, ``expect`` gives the alarm state (and optionally the ``active`` flag) of the named
conditions, ``conditions`` the detector's condition state (clear, pending, active, holding),
and ``refused`` the error code a refused command must raise. The runner drives
``ConditionDetector`` and ``AlarmBook`` together as the runtime does, and checks after
every step that the journal is continuous and every alarm is consistent.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Literal, Self

import pytest
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from hazwatch.alarms.book import AlarmBook, AlarmChange
from hazwatch.alarms.cause import describe
from hazwatch.alarms.errors import AlarmCommandCode, AlarmCommandError
from hazwatch.alarms.lifecycle import PROCESS_INPUTS, TRANSITIONS
from hazwatch.detect.detector import ConditionDetector
from hazwatch.detect.state import ConditionState
from hazwatch.domain.alarm import AlarmInput, AlarmState, ConditionEvent
from hazwatch.domain.batch import Batch, Quality
from hazwatch.domain.plant import TagSpec
from hazwatch.domain.tag import ConditionKind, Limit, Tag
from hazwatch.domain.tagtable import TagTable

HERE = Path(__file__).parent
LIFECYCLE_EXPECTED = HERE.parent / "alarms" / "lifecycle_expected.yaml"
START = 1_700_000_000_000
TAG_ID = 1
Cell = tuple[AlarmState, AlarmInput]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Expect(_Strict):
    state: AlarmState
    active: bool | None = None


class Step(_Strict):
    at: float = Field(ge=0)
    value: float | None = None
    quality: Literal["good", "uncertain", "bad"] = "good"
    tick: bool = False
    command: AlarmInput | None = None
    alarm: ConditionKind | None = None
    for_s: float | None = None
    refused: AlarmCommandCode | None = None
    expect: dict[ConditionKind, AlarmState | Expect] = Field(default_factory=dict)
    conditions: dict[ConditionKind, ConditionState] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        actions = [self.value is not None, self.tick, self.command is not None]
        if sum(actions) != 1:
            raise ValueError("a step is exactly one of: value, tick, command")
        if (self.command is None) != (self.alarm is None):
            raise ValueError("a command names its alarm, and only a command does")
        if self.command is None and (self.for_s is not None or self.refused is not None):
            raise ValueError("for_s and refused go with a command")
        return self


class Scenario(_Strict):
    title: str
    description: str = ""
    tag: dict[str, object]
    steps: list[Step] = Field(min_length=1)

    @model_validator(mode="after")
    def _in_time_order(self) -> Self:
        times = [step.at for step in self.steps]
        if times != sorted(times):
            raise ValueError("steps must be in time order")
        return self


def load(path: Path) -> Scenario:
    return Scenario.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def build_tag(fields: dict[str, object]) -> Tag:
    spec = TagSpec.model_validate({"key": "scenario", **fields})
    return Tag(
        id=TAG_ID,
        key=spec.key,
        name=spec.name,
        scope_id=1,
        scope_path="/1/",
        unit=spec.unit,
        range_lo=spec.range[0],
        range_hi=spec.range[1],
        period_s=spec.period_s,
        limits=tuple(
            Limit(
                kind=kind,
                value=lim.value,
                priority=lim.priority,
                deadband=lim.deadband,
                on_delay_s=lim.on_delay_s,
                off_delay_s=lim.off_delay_s,
            )
            for kind, lim in spec.limits.items()
        ),
        offline_after_s=spec.offline_after_s,
        frozen_after_s=spec.frozen_after_s,
    )


class Journal:
    """Checks that each alarm's transitions follow on from one another."""

    def __init__(self) -> None:
        self.last: dict[ConditionKind, tuple[int, AlarmState]] = {}
        self.cells: set[Cell] = set()

    def record(self, changes: list[AlarmChange], where: str) -> None:
        for change in changes:
            t = change.transition
            seq, state = self.last.get(t.condition, (0, AlarmState.NORMAL))
            assert (t.seq, t.from_state) == (seq + 1, state), f"{where}: journal gap at {t}"
            assert change.alarm.seq == t.seq and change.alarm.state is t.to_state, where
            self.last[t.condition] = (t.seq, t.to_state)
            self.cells.add((t.from_state, t.input))


def check_consistent(book: AlarmBook, where: str) -> None:
    for alarm in book.all():
        if alarm.state in (AlarmState.UNACKED, AlarmState.ACKED):
            assert alarm.active, f"{where}: {alarm.condition} is {alarm.state} but not active"
        if alarm.state in (AlarmState.NORMAL, AlarmState.RTN_UNACKED):
            assert not alarm.active, f"{where}: {alarm.condition} is {alarm.state} but active"
        shelved = alarm.state is AlarmState.SHELVED
        assert (alarm.shelved_until is not None) == shelved, where


def run(path: Path) -> set[Cell]:
    """Play one scenario, asserting its expectations; the lifecycle cells it went through."""
    scenario = load(path)
    table = TagTable.build([build_tag(scenario.tag)])
    detector = ConditionDetector(table, now=START)

    def cause(event: ConditionEvent) -> str:
        return describe(event, table)

    book = AlarmBook([], table.priority, describe=cause)
    journal = Journal()
    for number, step in enumerate(scenario.steps, start=1):
        where = f"{path.name} step {number} (at {step.at:g} s)"
        now = START + round(step.at * 1000)
        if step.value is not None:
            batch = Batch.of(
                tag=[TAG_ID],
                ts=[now],
                value=[step.value],
                quality=[Quality[step.quality.upper()]],
                received=now,
            )
            journal.record(book.apply(detector.evaluate(batch), now), where)
        elif step.tick:
            changes = book.apply(detector.tick(now), now)
            journal.record(changes + book.tick(now), where)
        else:
            assert step.command is not None and step.alarm is not None
            shelve_until = None if step.for_s is None else now + round(step.for_s * 1000)
            try:
                change = book.command(
                    TAG_ID,
                    step.alarm,
                    step.command,
                    actor="operator",
                    now=now,
                    shelve_until=shelve_until,
                )
            except AlarmCommandError as error:
                assert step.refused is not None, f"{where}: refused unexpectedly: {error}"
                assert error.code is step.refused, f"{where}: {error}"
                journal.cells.add((error.state, error.input))
            else:
                assert step.refused is None, f"{where}: expected refusal {step.refused}"
                journal.record([change], where)
        check_consistent(book, where)
        for condition, expected in step.expect.items():
            want = expected if isinstance(expected, Expect) else Expect(state=expected)
            alarm = book.get(TAG_ID, condition)
            state = AlarmState.NORMAL if alarm is None else alarm.state
            active = False if alarm is None else alarm.active
            assert state is want.state, f"{where}: {condition} is {state}, expected {want.state}"
            if want.active is not None:
                assert active is want.active, f"{where}: {condition} active is {active}"
        for condition, expected_state in step.conditions.items():
            got = detector.state(TAG_ID, condition)
            assert got is expected_state, f"{where}: condition {condition} is {got}"
    return journal.cells


SCENARIOS = sorted(HERE.glob("*.yaml"))


@cache
def exercised(path: Path) -> frozenset[Cell]:
    return frozenset(run(path))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path) -> None:
    assert exercised(path)


def repeated_process_cells() -> Iterator[Cell]:
    """Cells only a repeated process event could reach: the book drops such events (they
    change nothing) before consulting the table, so no scenario can show them."""
    for (state, given), target in TRANSITIONS.items():
        if given in PROCESS_INPUTS and target is state and state in _ANNUNCIATED:
            yield (state, given)


_ANNUNCIATED = (AlarmState.NORMAL, AlarmState.UNACKED, AlarmState.ACKED, AlarmState.RTN_UNACKED)


def test_every_transition_of_the_table_is_exercised() -> None:
    """Every allowed cell is played by a scenario (except repeated process events); together
    with the cell-by-cell unit test of ``lifecycle_expected.yaml``, every cell of the table is
    exercised."""
    played = frozenset().union(*(exercised(p) for p in SCENARIOS))
    needed = set(TRANSITIONS) - set(repeated_process_cells())
    missing = sorted(needed - played)
    assert not missing, f"no scenario exercises: {missing}"
    unit_tested = yaml.safe_load(LIFECYCLE_EXPECTED.read_text(encoding="utf-8"))
    unit_cells = {
        (AlarmState(state), AlarmInput(given))
        for state, row in unit_tested.items()
        for given in row
    }
    every_cell = {(state, given) for state in AlarmState for given in AlarmInput}
    assert every_cell <= played | unit_cells
    refused_played = played - set(TRANSITIONS)
    assert len(refused_played) >= 10, "scenarios should also show refused commands"
