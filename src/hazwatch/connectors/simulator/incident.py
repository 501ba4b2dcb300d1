"""Scripted incidents: what goes wrong, on which tag, and when.

An incident names the tag that shows it (its full key ``enterprise.site.installation.
equipment.tag``) and a window ``[start_s, end_s)`` in seconds after the simulator's start:

- ``overfill`` (a ``level`` tag of a vessel): extra inflow of ``rate`` m³/h during the
  window; afterwards the operator pumps the excess back out at the same rate;
- ``leak`` (a gas detector, the one nearest the leak): a release growing linearly from 0 to
  ``rate`` g/s over the window, then isolated; the concentration decays by ventilation;
- ``frozen`` (any tag): the transmitter repeats its last value exactly during the window;
- ``offline`` (any tag): the instrument sends nothing during the window.

``key`` names an incident of a script (``chlorine-leak``), so that a test or a setting can
pick it; ``at(start_s)`` moves it to another start, keeping its length.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum


class IncidentKind(StrEnum):
    OVERFILL = "overfill"
    LEAK = "leak"
    FROZEN = "frozen"
    OFFLINE = "offline"


class IncidentError(ValueError):
    """An incident does not fit the plant (unknown tag, or a tag of the wrong kind)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    kind: IncidentKind
    tag: str
    start_s: float
    end_s: float
    rate: float = 0.0
    note: str = ""
    key: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.start_s < self.end_s:
            raise IncidentError(f"{self.kind} on {self.tag}: need 0 <= start_s < end_s")
        if self.rate < 0:
            raise IncidentError(f"{self.kind} on {self.tag}: rate must not be negative")

    def at(self, start_s: float) -> Incident:
        """The same incident starting ``start_s`` seconds after the simulator's start."""
        return replace(self, start_s=start_s, end_s=start_s + (self.end_s - self.start_s))

    @property
    def equipment(self) -> str:
        """Full key of the equipment the tag belongs to."""
        return self.tag.rsplit(".", 1)[0]
