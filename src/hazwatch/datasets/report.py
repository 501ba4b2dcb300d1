"""What every benchmark evaluation returns: JSON for machines, text for people."""

from __future__ import annotations

from typing import Protocol


class Report(Protocol):
    """The result of ``hazwatch warn evaluate <benchmark>``."""

    def as_json(self) -> dict[str, object]:
        """The figures, rates as fractions (0–1), keys as documented per benchmark."""
        ...

    def text(self) -> str:
        """A short table for a terminal."""
        ...
