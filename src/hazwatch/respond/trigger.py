"""Which playbooks an alarm or a warning starts. Pure.

An ``Occurrence`` is what a playbook is asked about: an alarm becoming active (its tag key,
condition, priority) or a warning raised or escalated (its installation, subject tag,
colour, detector). ``matches`` applies a playbook's ``Trigger``: every criterion it gives
must hold; a criterion it leaves out holds for anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import Colour
from hazwatch.respond.playbook import Playbook, Trigger

_PRIORITY_RANK = {Priority.LOW: 1, Priority.MEDIUM: 2, Priority.HIGH: 3, Priority.CRITICAL: 4}


@dataclass(frozen=True, slots=True, kw_only=True)
class Occurrence:
    """An alarm or a warning, as a trigger sees it.

    ``key``: the tag key of an alarm, or of a warning's subject; for a warning on a whole
    installation, the installation key. ``installation``: the installation key; ``park``:
    the key of the park it lies in.
    """

    kind: Literal["alarm", "warning"]
    key: str
    installation: str
    park: str = ""
    condition: ConditionKind | None = None
    priority: Priority | None = None
    colour: Colour | None = None
    detector: str | None = None


def matches(trigger: Trigger, occurrence: Occurrence) -> bool:
    """Whether ``occurrence`` meets every criterion of ``trigger``."""
    if trigger.event != occurrence.kind:
        return False
    if trigger.park is not None and occurrence.park != trigger.park:
        return False
    if trigger.scope is not None and not (
        occurrence.installation == trigger.scope
        or occurrence.installation.startswith(f"{trigger.scope}.")
    ):
        return False
    if trigger.tags and not any(fnmatchcase(occurrence.key, glob) for glob in trigger.tags):
        return False
    if occurrence.kind == "alarm":
        if trigger.conditions and occurrence.condition not in trigger.conditions:
            return False
        return trigger.min_priority is None or (
            occurrence.priority is not None
            and _PRIORITY_RANK[occurrence.priority] >= _PRIORITY_RANK[trigger.min_priority]
        )
    if trigger.detectors and occurrence.detector not in trigger.detectors:
        return False
    return trigger.min_colour is None or (
        occurrence.colour is not None and occurrence.colour.rank >= trigger.min_colour.rank
    )


def started_by(playbooks: Iterable[Playbook], occurrence: Occurrence) -> list[Playbook]:
    """The playbooks ``occurrence`` starts, in the order given."""
    return [p for p in playbooks if matches(p.trigger, occurrence)]
