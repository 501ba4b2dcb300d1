"""The alarm journal as the KPIs read it, and what each alarm did within a period.

Input (built by the journal reader, or written by hand):

* ``AlarmSubject``: one alarm (one condition of one tag) and what KPIs group and rank it by:
  its tag key, condition, priority, enterprise key and operator position.
* ``AlarmEvent``: one journaled transition: when (``at``, epoch ms UTC), the input, and the
  state it led to. The events of one alarm come in journal order (``seq``); events of
  different alarms may interleave in any order. Events before the period start are not
  counted but set the alarm's state at the start: the reader supplies, per alarm, the last
  transition before the start, the last process transition (activate or clear) before it
  and the last entry into a standing state before it, in journal order. The first event of
  an alarm at or after the period end, and every later one, is ignored.

What ``replay`` reads from them (ISA-18.2 vocabulary; see docs/kpi.md):

* an *annunciation* is a transition into ``unacknowledged`` from another state: a new
  activation, a return while unacknowledged, or a re-annunciation when a shelf, a
  suppression or out-of-service ends while the condition is still active — each puts an
  alarm in front of the operator. Activations while shelved, suppressed or out of service
  are not annunciated.
* an *activation* is a process ``activate`` input, whatever the state (chattering is a
  property of the alarm's configuration, so shelving does not hide it).
* an alarm is *standing* while it is ``unacknowledged`` or ``acknowledged``: active and
  shown to the operator. Shelving, suppression and out of service end a standing interval;
  the alarm stands again, from that instant, when it re-annunciates.
* an alarm is *active* from a process ``activate`` to the next ``clear`` (whatever the
  state), which is what a link's ``device_offline`` condition means as an outage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.clock import Millis, iso
from hazwatch.domain.tag import ConditionKind, Priority

STANDING: frozenset[AlarmState] = frozenset({AlarmState.UNACKED, AlarmState.ACKED})
"""States in which an alarm is active and shown to the operator."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmSubject:
    """One alarm. ``alarm`` is its id (the API's ``"42.HH"``, or any unique text);
    ``enterprise`` and ``position`` are keys ("" outside any)."""

    alarm: str
    tag_key: str
    condition: ConditionKind
    priority: Priority
    enterprise: str
    position: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmEvent:
    """One journaled transition of alarm ``alarm`` at ``at`` (epoch ms)."""

    alarm: str
    at: Millis
    input: AlarmInput
    to_state: AlarmState


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmLog:
    subjects: tuple[AlarmSubject, ...]
    events: tuple[AlarmEvent, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """``[since, until)`` in epoch ms; ``until`` is None while it lasts past the period."""

    since: Millis
    until: Millis | None

    def overlaps(self, start: Millis, end: Millis) -> bool:
        return self.since < end and (self.until is None or self.until > start)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmHistory:
    """What one alarm did within ``[start, end)``.

    ``transitions``: events in the period. ``annunciations``/``activations``: their
    instants in the period, ascending.
    ``standing``/``active``: the intervals that overlap the period, unclipped (a span may
    begin before the start). ``shelves``, ``removals``, ``suppressions``: shelve,
    remove-from-service and suppress inputs in the period. ``state_at_end``: the state
    after the last event before the end.
    """

    subject: AlarmSubject
    transitions: int
    annunciations: tuple[Millis, ...]
    activations: tuple[Millis, ...]
    standing: tuple[Span, ...]
    active: tuple[Span, ...]
    shelves: int
    removals: int
    suppressions: int
    state_at_end: AlarmState


def check_period(start: Millis, end: Millis) -> None:
    """Refuse an empty or reversed period, naming ``end``."""
    if end <= start:
        raise ValueError(f"end ({iso(end)}) must lie after start ({iso(start)})")


def replay(log: AlarmLog, start: Millis, end: Millis) -> tuple[AlarmHistory, ...]:
    """The history of every subject of ``log`` within ``[start, end)``, in subject order.

    Raises ``ValueError`` for a reversed period, a subject listed twice, or an event of an
    alarm that is not a subject.
    """
    check_period(start, end)
    events: dict[str, list[AlarmEvent]] = {}
    for subject in log.subjects:
        if subject.alarm in events:
            raise ValueError(f"alarm {subject.alarm!r} is listed twice")
        events[subject.alarm] = []
    for event in log.events:
        own = events.get(event.alarm)
        if own is None:
            raise ValueError(f"an event at {iso(event.at)} names unknown alarm {event.alarm!r}")
        own.append(event)
    return tuple(_replay(s, events[s.alarm], start, end) for s in log.subjects)


class _Fold:
    """The running state of one alarm while its events are replayed."""

    def __init__(self) -> None:
        self.state = AlarmState.NORMAL
        self.active = False
        self.standing_since: Millis | None = None
        self.active_since: Millis | None = None
        self.standing: list[Span] = []
        self.actives: list[Span] = []

    def step(self, event: AlarmEvent) -> None:
        was, now = self.state in STANDING, event.to_state in STANDING
        if now and not was:
            self.standing_since = event.at
        elif was and not now and self.standing_since is not None:
            self.standing.append(Span(since=self.standing_since, until=event.at))
            self.standing_since = None
        if event.input is AlarmInput.ACTIVATE and not self.active:
            self.active, self.active_since = True, event.at
        elif event.input is AlarmInput.CLEAR and self.active and self.active_since is not None:
            self.actives.append(Span(since=self.active_since, until=event.at))
            self.active, self.active_since = False, None
        self.state = event.to_state

    def spans(self, start: Millis, end: Millis) -> tuple[tuple[Span, ...], tuple[Span, ...]]:
        standing, actives = list(self.standing), list(self.actives)
        if self.standing_since is not None:
            standing.append(Span(since=self.standing_since, until=None))
        if self.active_since is not None:
            actives.append(Span(since=self.active_since, until=None))
        return (
            tuple(s for s in standing if s.overlaps(start, end)),
            tuple(s for s in actives if s.overlaps(start, end)),
        )


def _replay(
    subject: AlarmSubject, events: Sequence[AlarmEvent], start: Millis, end: Millis
) -> AlarmHistory:
    fold = _Fold()
    annunciations: list[Millis] = []
    activations: list[Millis] = []
    inputs: dict[AlarmInput, int] = {}
    for event in events:
        if event.at >= end:
            break
        if event.at >= start:
            if event.to_state is AlarmState.UNACKED and fold.state is not AlarmState.UNACKED:
                annunciations.append(event.at)
            if event.input is AlarmInput.ACTIVATE:
                activations.append(event.at)
            inputs[event.input] = inputs.get(event.input, 0) + 1
        fold.step(event)
    standing, active = fold.spans(start, end)
    return AlarmHistory(
        subject=subject,
        transitions=sum(inputs.values()),
        annunciations=tuple(sorted(annunciations)),
        activations=tuple(sorted(activations)),
        standing=standing,
        active=active,
        shelves=inputs.get(AlarmInput.SHELVE, 0),
        removals=inputs.get(AlarmInput.REMOVE_FROM_SERVICE, 0),
        suppressions=inputs.get(AlarmInput.SUPPRESS, 0),
        state_at_end=fold.state,
    )
