"""Errors of plant files.

One exception, ``PlantFileError``, carries every problem found in one file, so that an
engineer fixes a file in one pass instead of one error per run::

    PlantFileError            a plant file could not be read (file, list of problems)
      └─ .problems: PlantProblem
           kind      ProblemKind: unreadable | syntax | duplicate_key | invalid
           path      where in the file, keyed where list items have keys:
                     ``parks[demo-park].enterprises[lpg].sites[main].installations[0]…``
           line      1-based line of the offending node (None if unknown)
           column    1-based column
           message   what is wrong
           code      the validator's error type (``missing``, ``float_parsing``…) or ``""``
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    UNREADABLE = "unreadable"
    SYNTAX = "syntax"
    DUPLICATE_KEY = "duplicate_key"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantProblem:
    """One thing wrong in a plant file. ``path`` is ``""`` for the document as a whole."""

    kind: ProblemKind
    path: str
    message: str
    line: int | None = None
    column: int | None = None
    code: str = ""

    def describe(self, source: str) -> str:
        """``source:line:col: path: message``, the form editors and CI logs link to."""
        where = source
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        what = f"{self.path}: {self.message}" if self.path else self.message
        return f"{where}: {what}"


class PlantFileError(Exception):
    """A plant file is unreadable, not YAML, or does not describe a valid plant."""

    source: str
    problems: tuple[PlantProblem, ...]

    def __init__(self, source: str, problems: Sequence[PlantProblem]) -> None:
        if not problems:
            raise ValueError("a PlantFileError needs at least one problem")
        self.source = source
        self.problems = tuple(problems)
        super().__init__(self._render())

    @property
    def path(self) -> str:
        """Path of the first problem (in file order)."""
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        return self.problems[0].line

    @property
    def column(self) -> int | None:
        return self.problems[0].column

    def _render(self) -> str:
        lines = [p.describe(self.source) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return "\n".join([f"{self.source}: {len(lines)} problems", *(f"  {x}" for x in lines)])
