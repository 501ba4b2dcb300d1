"""A playbook run as a journal: every change is an entry, the state is their fold. Pure.

``start`` begins a run for an occurrence; ``finish_step`` ends the current step with an
outcome and moves to the next (``Playbook.next_step``); ``acknowledge`` records that someone
took charge (a ``wait_ack`` step then ends at once, now or when the run reaches it); ``tick``
ends a ``wait_ack`` whose time is up. Each call returns the new ``Run``, the journal
``Entry`` objects to append, and the ``Order`` the runtime must carry out for the step now
current (send the notices, open the incident, …).

Durability: the runtime appends the entries *before* it carries out the order. After a
crash, ``replay(entries)`` rebuilds the run and ``pending(run)`` gives the order of the
current step again, with the same idempotency key: an executor that remembers the keys it
has carried out (the notification log) does nothing twice, and nothing is lost because
the order is re-issued until its step's end is journaled.

Time is a parameter; ids and keys are derived from their inputs, never random.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from hazwatch.domain.clock import Millis
from hazwatch.respond.playbook import Playbook, Step, StepOutcome, WaitAck


class RunStatus(StrEnum):
    RUNNING = "running"
    FINISHED = "finished"


class EntryKind(StrEnum):
    STARTED = "started"
    STEP_BEGUN = "step_begun"
    STEP_ENDED = "step_ended"
    ACKNOWLEDGED = "acknowledged"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One journal line of a run, keyed ``(run_id, seq)``."""

    run_id: str
    seq: int
    at: Millis
    kind: EntryKind
    step: str = ""
    outcome: StepOutcome | None = None
    actor: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """The state of one run (the fold of its journal)."""

    id: str
    playbook: str
    version: int
    occurrence: str
    status: RunStatus
    step: str
    step_since: Millis
    started_at: Millis
    seq: int
    acknowledged_at: Millis | None = None
    acknowledged_by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Order:
    """What the runtime must do for the current step. ``key`` is the idempotency key of
    the step's execution: the same for a re-issued order after a restart."""

    run_id: str
    step: Step
    key: str
    due_at: Millis | None = None
    """``wait_ack``: when the step times out"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    run: Run
    entries: tuple[Entry, ...]
    order: Order | None


def run_id(playbook: Playbook, occurrence: str) -> str:
    """The id of the run of ``playbook`` for ``occurrence`` (one run per pair)."""
    text = f"{playbook.name}\x00{playbook.version}\x00{occurrence}"
    return hashlib.blake2s(text.encode("utf-8"), digest_size=8).hexdigest()


def start(playbook: Playbook, occurrence: str, *, now: Millis) -> Change:
    """Begin a run at the first step. ``occurrence`` identifies what triggered it (an alarm
    or warning id and the instant it became active)."""
    rid = run_id(playbook, occurrence)
    first = playbook.steps[0].id
    run = Run(
        id=rid,
        playbook=playbook.name,
        version=playbook.version,
        occurrence=occurrence,
        status=RunStatus.RUNNING,
        step=first,
        step_since=now,
        started_at=now,
        seq=2,
    )
    entries = (
        Entry(run_id=rid, seq=1, at=now, kind=EntryKind.STARTED, detail=occurrence),
        Entry(run_id=rid, seq=2, at=now, kind=EntryKind.STEP_BEGUN, step=first),
    )
    return _settle(playbook, run, entries, now)


def finish_step(
    playbook: Playbook, run: Run, step: str, outcome: StepOutcome, *, now: Millis, detail: str = ""
) -> Change:
    """End ``step`` (the current one) with ``outcome`` and move on. A step that is not the
    current one (an old order's late report) changes nothing."""
    if run.status is not RunStatus.RUNNING or step != run.step:
        return Change(run=run, entries=(), order=None)
    return _advance(playbook, run, outcome, now=now, detail=detail, entries=())


def acknowledge(playbook: Playbook, run: Run, *, actor: str, now: Millis) -> Change:
    """Someone took charge: recorded once; a current ``wait_ack`` ends ``acknowledged``."""
    if run.status is not RunStatus.RUNNING or run.acknowledged_at is not None:
        return Change(run=run, entries=(), order=None)
    entry = Entry(run_id=run.id, seq=run.seq + 1, at=now, kind=EntryKind.ACKNOWLEDGED, actor=actor)
    run = replace(run, seq=entry.seq, acknowledged_at=now, acknowledged_by=actor)
    return _settle(playbook, run, (entry,), now)


def tick(playbook: Playbook, run: Run, *, now: Millis) -> Change:
    """End a ``wait_ack`` whose timeout has passed (``timed_out``, stamped when it was due)."""
    current = playbook.step(run.step) if run.status is RunStatus.RUNNING else None
    if not isinstance(current, WaitAck):
        return Change(run=run, entries=(), order=None)
    due = run.step_since + int(current.timeout_s * 1000)
    if now < due:
        return Change(run=run, entries=(), order=None)
    return _advance(playbook, run, StepOutcome.TIMED_OUT, now=due, detail="", entries=())


def pending(playbook: Playbook, run: Run) -> Order | None:
    """The order of the current step (to carry out again after a restart)."""
    if run.status is not RunStatus.RUNNING:
        return None
    return _order(playbook, run)


def replay(entries: Sequence[Entry], playbook: Playbook) -> Run:
    """The run whose journal is ``entries`` (in ``seq`` order)."""
    ordered = sorted(entries, key=lambda e: e.seq)
    if not ordered or ordered[0].kind is not EntryKind.STARTED:
        raise ValueError("a run's journal starts with its 'started' entry")
    first = ordered[0]
    run = Run(
        id=first.run_id,
        playbook=playbook.name,
        version=playbook.version,
        occurrence=first.detail,
        status=RunStatus.RUNNING,
        step="",
        step_since=first.at,
        started_at=first.at,
        seq=first.seq,
    )
    for entry in ordered[1:]:
        if entry.kind is EntryKind.STEP_BEGUN:
            run = replace(run, step=entry.step, step_since=entry.at)
        elif entry.kind is EntryKind.ACKNOWLEDGED:
            run = replace(run, acknowledged_at=entry.at, acknowledged_by=entry.actor)
        elif entry.kind is EntryKind.FINISHED:
            run = replace(run, status=RunStatus.FINISHED)
        run = replace(run, seq=entry.seq)
    return run


def _advance(
    playbook: Playbook,
    run: Run,
    outcome: StepOutcome,
    *,
    now: Millis,
    detail: str,
    entries: tuple[Entry, ...],
) -> Change:
    seq = run.seq + 1
    out = [
        Entry(
            run_id=run.id,
            seq=seq,
            at=now,
            kind=EntryKind.STEP_ENDED,
            step=run.step,
            outcome=outcome,
            detail=detail,
        )
    ]
    following = playbook.next_step(run.step, outcome)
    if following is None:
        out.append(Entry(run_id=run.id, seq=seq + 1, at=now, kind=EntryKind.FINISHED))
        finished = replace(run, status=RunStatus.FINISHED, seq=seq + 1)
        return Change(run=finished, entries=entries + tuple(out), order=None)
    out.append(Entry(run_id=run.id, seq=seq + 1, at=now, kind=EntryKind.STEP_BEGUN, step=following))
    moved = replace(run, step=following, step_since=now, seq=seq + 1)
    return _settle(playbook, moved, entries + tuple(out), now)


def _settle(playbook: Playbook, run: Run, entries: tuple[Entry, ...], now: Millis) -> Change:
    """A ``wait_ack`` reached after someone already took charge ends at once."""
    current = playbook.step(run.step)
    if isinstance(current, WaitAck) and run.acknowledged_at is not None:
        return _advance(
            playbook, run, StepOutcome.ACKNOWLEDGED, now=now, detail="", entries=entries
        )
    return Change(run=run, entries=entries, order=_order(playbook, run))


def _order(playbook: Playbook, run: Run) -> Order:
    step = playbook.step(run.step)
    due = run.step_since + int(step.timeout_s * 1000) if isinstance(step, WaitAck) else None
    # The step and the instant it began name one execution of it.
    return Order(run_id=run.id, step=step, key=f"{run.id}:{step.id}:{run.step_since}", due_at=due)
