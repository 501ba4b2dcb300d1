"""Errors of the alarm lifecycle.

AlarmError
└── AlarmCommandError   a command is refused (see ``AlarmCommandCode``)
"""

from __future__ import annotations

from enum import StrEnum

from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.tag import ConditionKind


class AlarmCommandCode(StrEnum):
    """Why a command was refused (a stable key for the API and for translations)."""

    NOT_ALLOWED = "not_allowed"
    """The lifecycle table has no transition for this input in this state."""
    NOT_A_COMMAND = "not_a_command"
    """The input is a process or system input (activate, clear, shelf expired)."""
    ACTOR_MISSING = "actor_missing"
    """Every command must name who gave it."""
    SHELVE_UNTIL_MISSING = "shelve_until_missing"
    """Shelving is time-limited: give ``shelve_until``."""
    SHELVE_UNTIL_PAST = "shelve_until_past"
    """``shelve_until`` is not after ``now``."""
    SHELVE_TOO_LONG = "shelve_too_long"
    """``shelve_until`` lies beyond the book's maximum shelf duration."""
    SHELVE_UNTIL_UNEXPECTED = "shelve_until_unexpected"
    """``shelve_until`` was given with a command other than shelve."""


class AlarmError(Exception):
    """Base of the alarm errors."""


class AlarmCommandError(AlarmError):
    """A command on the alarm ``(tag_id, condition)`` in ``state`` was refused."""

    def __init__(
        self,
        *,
        tag_id: int,
        condition: ConditionKind,
        state: AlarmState,
        input: AlarmInput,
        code: AlarmCommandCode,
        detail: str = "",
    ) -> None:
        self.tag_id = tag_id
        self.condition = condition
        self.state = state
        self.input = input
        self.code = code
        self.detail = detail
        text = f"{input} refused for alarm {condition} of tag {tag_id} in state {state}: {code}"
        super().__init__(f"{text} ({detail})" if detail else text)
