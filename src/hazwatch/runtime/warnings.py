"""The early warnings in force, kept in memory, moved by the lifecycle and saved as they move.

``WarningBook`` holds the newest warning of every key (open or closed: a closed one still
recognises a replayed observation) and applies to it the functions of
``hazwatch.warn.lifecycle``: detectors' observations and subsidence, people's acknowledgement
and closing (消警), and the escalation rules of ``hazwatch.warn.escalation`` as time passes.
Every applied change is saved (the warning and its journal entry, in one transaction) before
the book's memory moves, and is then handed to the listeners (the live stream).

Contract:

* The book is not thread-safe: one thread owns it, the engine's worker; the API submits
  commands through ``Engine.call``, as it does for alarms.
* A new key is placed once, on the scope node the repository finds for it
  (``WarningRepository.place``); an observation for a key the plant does not hold raises
  ``UnplacedWarningError`` and changes nothing.
* Refused commands raise ``WarningTransitionError`` (``Refusal`` says why) and change
  nothing; ``UnknownWarningError`` when no warning has the id.
* Time is a parameter (``now``; observations and subsidence carry their own instants).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from hazwatch.domain.clock import Millis
from hazwatch.domain.warning import Feedback, Observation, WarningKey, WarningTransition
from hazwatch.storage.warning_repository import Placement, StoredWarning, WarningRepository
from hazwatch.warn import lifecycle
from hazwatch.warn.escalation import DEFAULT_POLICY, EscalationPolicy, evaluate
from hazwatch.warn.lifecycle import WarningChange, WarningError


class UnplacedWarningError(WarningError):
    """No scope node holds the installation (or subject tag) of ``key``."""

    def __init__(self, key: WarningKey) -> None:
        super().__init__(f"no installation {key.installation!r} for warning {key.text}")
        self.key = key


class UnknownWarningError(WarningError, LookupError):
    """No warning has the id ``warning_id``."""

    def __init__(self, warning_id: str) -> None:
        super().__init__(f"no warning {warning_id!r}")
        self.warning_id = warning_id


@dataclass(frozen=True, slots=True, kw_only=True)
class WarningEvent:
    """One saved change: the warning after it (with its scope) and its journal entry."""

    stored: StoredWarning
    transition: WarningTransition


WarningListener = Callable[[Sequence[WarningEvent]], None]


class WarningBook:
    """The newest warning of each key; see the module docstring."""

    def __init__(
        self, repository: WarningRepository, *, policy: EscalationPolicy = DEFAULT_POLICY
    ) -> None:
        self._repository = repository
        self._policy = policy
        self._latest: dict[WarningKey, StoredWarning] = {}
        self._keys: dict[str, WarningKey] = {}
        self.listeners: list[WarningListener] = []
        for stored in repository.latest():
            self._remember(stored)

    def open(self) -> list[StoredWarning]:
        """The open warnings, ordered by key."""
        found = (s for s in self._latest.values() if s.warning.is_open)
        return sorted(found, key=lambda s: s.warning.key.text)

    def latest(self, key: WarningKey) -> StoredWarning | None:
        """The newest warning of ``key``, open or closed."""
        return self._latest.get(key)

    def observe(self, observation: Observation, *, now: Millis) -> WarningEvent | None:
        """A detector's graded observation: raises a warning or is folded into the open one
        (``lifecycle.observe``); ``None`` when it is a replay or late."""
        key = observation.key
        latest = self._latest.get(key)
        change = lifecycle.observe(latest.warning if latest else None, observation, now=now)
        if change is None:
            return None
        return self._record([(change, self._placement(key, latest))])[0]

    def subside(
        self, key: WarningKey, *, at: Millis, now: Millis, cause: str = "condition no longer seen"
    ) -> WarningEvent | None:
        """The detector of ``key`` no longer sees the condition at ``at``; ``None`` when no
        open warning of ``key`` is active."""
        latest = self._latest.get(key)
        if latest is None or not latest.warning.is_open:
            return None
        change = lifecycle.subside(latest.warning, at=at, now=now, cause=cause)
        if change is None:
            return None
        return self._record([(change, latest.placement)])[0]

    def acknowledge(
        self, warning_id: str, *, actor: str, now: Millis, comment: str = ""
    ) -> StoredWarning:
        """``actor`` takes charge of the warning (``lifecycle.acknowledge``)."""
        stored = self._current(warning_id)
        change = lifecycle.acknowledge(stored.warning, actor=actor, now=now, comment=comment)
        return self._record([(change, stored.placement)])[0].stored

    def close(
        self,
        warning_id: str,
        *,
        actor: str,
        cause: str,
        feedback: Feedback,
        now: Millis,
        comment: str = "",
    ) -> StoredWarning:
        """Close (消警) the warning with a cause and feedback (``lifecycle.close``)."""
        stored = self._current(warning_id)
        change = lifecycle.close(
            stored.warning, actor=actor, cause=cause, feedback=feedback, now=now, comment=comment
        )
        return self._record([(change, stored.placement)])[0].stored

    def tick(self, now: Millis) -> list[WarningEvent]:
        """Apply the escalations of the policy due at ``now``."""
        open_ = self.open()
        placements = {s.warning.id: s.placement for s in open_}
        changes = evaluate(self._policy, (s.warning for s in open_), now=now)
        if not changes:
            return []
        return self._record([(c, placements[c.warning.id]) for c in changes])

    def _current(self, warning_id: str) -> StoredWarning:
        key = self._keys.get(warning_id)
        latest = self._latest.get(key) if key is not None else None
        if latest is not None and latest.warning.id == warning_id:
            return latest
        older = self._repository.find(warning_id)  # an earlier, closed warning of its key
        if older is None:
            raise UnknownWarningError(warning_id)
        return older

    def _placement(self, key: WarningKey, latest: StoredWarning | None) -> Placement:
        if latest is not None:
            return latest.placement
        placement = self._repository.place(key)
        if placement is None:
            raise UnplacedWarningError(key)
        return placement

    def _record(self, changes: Iterable[tuple[WarningChange, Placement]]) -> list[WarningEvent]:
        events = [
            WarningEvent(stored=StoredWarning.at(c.warning, p), transition=c.transition)
            for c, p in changes
        ]
        self._repository.save([e.stored for e in events], [e.transition for e in events])
        for event in events:
            self._remember(event.stored)
        for listener in self.listeners:
            listener(events)
        return events

    def _remember(self, stored: StoredWarning) -> None:
        key = stored.warning.key
        known = self._latest.get(key)
        if known is None or known.warning.raised_at <= stored.warning.raised_at:
            self._latest[key] = stored
            self._keys[stored.warning.id] = key
