"""Every cell of the lifecycle table against the hand-written expectation file."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import pytest
import yaml

from hazwatch.alarms.lifecycle import (
    COMMANDS,
    PROCESS_INPUTS,
    REEVALUATE,
    SYSTEM_INPUTS,
    TRANSITIONS,
    next_state,
)
from hazwatch.domain.alarm import AlarmInput, AlarmState

EXPECTED_FILE = Path(__file__).with_name("lifecycle_expected.yaml")
CELLS = list(product(AlarmState, AlarmInput))


def expected_cells() -> dict[tuple[AlarmState, AlarmInput], str]:
    """``(state, input) → outcome`` ("refused", "re-evaluate" or a state value)."""
    raw = yaml.safe_load(EXPECTED_FILE.read_text(encoding="utf-8"))
    return {
        (AlarmState(state), AlarmInput(given)): outcome
        for state, row in raw.items()
        for given, outcome in row.items()
    }


def test_expectation_file_names_every_cell_once() -> None:
    assert sorted(expected_cells()) == sorted(CELLS)


@pytest.mark.parametrize(("state", "given"), CELLS, ids=str)
def test_cell(state: AlarmState, given: AlarmInput) -> None:
    outcome = expected_cells()[(state, given)]
    for active in (True, False):
        got = next_state(state, given, active)
        if outcome == "refused":
            assert got is None
        elif outcome == "re-evaluate":
            assert TRANSITIONS[(state, given)] is REEVALUATE
            assert got is (AlarmState.UNACKED if active else AlarmState.NORMAL)
        else:
            assert got is AlarmState(outcome)


def test_process_inputs_are_never_refused() -> None:
    for state, given in product(AlarmState, PROCESS_INPUTS):
        assert next_state(state, given, given is AlarmInput.ACTIVATE) is not None


def test_input_families_partition_the_inputs() -> None:
    assert set(AlarmInput) == PROCESS_INPUTS | SYSTEM_INPUTS | COMMANDS
    assert not (PROCESS_INPUTS & COMMANDS) and not (SYSTEM_INPUTS & COMMANDS)


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        TRANSITIONS[(AlarmState.NORMAL, AlarmInput.ACKNOWLEDGE)] = AlarmState.NORMAL  # type: ignore[index]
