"""Reported link health → link condition events, with an on-delay against chatter.

A link (a connector, or a device behind one) is known by the id of its status tag. Its
connector reports health changes; ``LinkWatch`` turns them into ``DEVICE_OFFLINE`` and
``DEGRADED`` conditions:

* ``offline`` or ``connecting`` held for ``delay_ms`` raises DEVICE_OFFLINE (a broker
  restart of a second or two raises nothing); ``degraded`` held as long raises DEGRADED.
  Events of completed delays are stamped with their deadline, like the detector's.
* At most one of the two is active: a link that goes from degraded to offline clears
  DEGRADED when DEVICE_OFFLINE rises, and the reverse.
* ``online`` clears both at once (no off-delay: a restored link is news right away).

Pure: ``now`` is a parameter; no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.clock import Millis
from hazwatch.domain.link import Health
from hazwatch.domain.tag import ConditionKind

_RAISES = {
    Health.OFFLINE: ConditionKind.DEVICE_OFFLINE,
    Health.CONNECTING: ConditionKind.DEVICE_OFFLINE,
    Health.DEGRADED: ConditionKind.DEGRADED,
}


@dataclass(slots=True)
class _Link:
    health: Health
    since: Millis
    detail: str
    active: ConditionKind | None = None


class LinkWatch:
    def __init__(self, delay_ms: Millis) -> None:
        self.delay_ms = delay_ms
        self._links: dict[int, _Link] = {}

    def restore(self, active: Iterable[tuple[int, ConditionKind]]) -> None:
        """Take over conditions active before a restart; they hold until the next report."""
        for tag_id, kind in active:
            health = Health.OFFLINE if kind is ConditionKind.DEVICE_OFFLINE else Health.DEGRADED
            self._links[tag_id] = _Link(health, 0, "", kind)

    def health(self, tag_id: int) -> Health | None:
        link = self._links.get(tag_id)
        return None if link is None else link.health

    def report(self, tag_id: int, health: Health, detail: str, now: Millis) -> list[ConditionEvent]:
        link = self._links.get(tag_id)
        if link is None:
            link = self._links[tag_id] = _Link(health, now, detail)
        elif _RAISES.get(link.health) is not _RAISES.get(health):
            link.health, link.since, link.detail = health, now, detail
        else:  # same condition wanted (e.g. connecting → offline): keep its timer running
            link.health, link.detail = health, detail
        events: list[ConditionEvent] = []
        if health is Health.ONLINE and link.active is not None:
            events.append(
                _event(tag_id, link.active, active=False, at=now, health=health, detail=detail)
            )
            link.active = None
        return events + self._settle(tag_id, link, now)

    def tick(self, now: Millis) -> list[ConditionEvent]:
        events: list[ConditionEvent] = []
        for tag_id, link in self._links.items():
            events += self._settle(tag_id, link, now)
        return events

    def _settle(self, tag_id: int, link: _Link, now: Millis) -> list[ConditionEvent]:
        wanted = _RAISES.get(link.health)
        if wanted is None or wanted is link.active or now < link.since + self.delay_ms:
            return []
        at = max(link.since + self.delay_ms, 0)
        events = []
        if link.active is not None:
            events.append(
                _event(
                    tag_id, link.active, active=False, at=at, health=link.health, detail=link.detail
                )
            )
        events.append(
            _event(tag_id, wanted, active=True, at=at, health=link.health, detail=link.detail)
        )
        link.active = wanted
        return events


def _event(
    tag_id: int, kind: ConditionKind, *, active: bool, at: Millis, health: Health, detail: str
) -> ConditionEvent:
    return ConditionEvent(
        tag_id=tag_id,
        condition=kind,
        active=active,
        at=at,
        value=float(health.code),
        detail=detail or health.value,
    )
