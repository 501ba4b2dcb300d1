"""How a playbook run's journal reads in its incident's timeline. Pure.

Every journal entry of a run becomes one timeline entry keyed ``run:<run id>:<seq>``, so an
entry recorded again (a backfill when the incident opens, a replay after a restart) is
stored once. Steps that told people are messages, acknowledgements and the run's start are
events, everything else the run did is an action; the text says what the step was and how
it ended, with the journal's detail (who was told, what the plume reached).
"""

from __future__ import annotations

from collections.abc import Sequence

from hazwatch.respond.incident import SYSTEM, EntryKind, TimelineEntry
from hazwatch.respond.playbook import Notify, ParkLinkage, Playbook
from hazwatch.respond.run import Entry
from hazwatch.respond.run import EntryKind as RunEntry


def timeline_of(entries: Sequence[Entry], book: Playbook, *, about: str) -> list[TimelineEntry]:
    """The timeline entries of ``entries`` (of one run of ``book``); ``about`` names what
    started the run (``Cl2 detector AT-102 HH 0.72 ppm``)."""
    steps = {s.id: s for s in book.steps}
    out: list[TimelineEntry] = []
    for entry in entries:
        step = steps.get(entry.step)
        kind = EntryKind.ACTION
        actor = entry.actor or SYSTEM
        if entry.kind is RunEntry.STARTED:
            kind, text = EntryKind.EVENT, f"{about}: playbook {book.name} v{book.version} started"
        elif entry.kind is RunEntry.ACKNOWLEDGED:
            kind, text = EntryKind.EVENT, f"acknowledged by {entry.actor}"
        elif entry.kind is RunEntry.FINISHED:
            text = f"playbook {book.name} finished"
        elif entry.kind is RunEntry.STEP_BEGUN:
            if step is None or isinstance(step, Notify | ParkLinkage):
                continue  # their end says what was done; a begun line adds nothing
            text = f"{step.kind} {step.id} began"
        else:
            if isinstance(step, Notify | ParkLinkage) and entry.outcome is not None:
                kind = EntryKind.MESSAGE
            label = f"{step.kind} {step.id}" if step is not None else entry.step
            text = f"{label}: {entry.outcome}" + (f" — {entry.detail}" if entry.detail else "")
        out.append(
            TimelineEntry(
                key=f"run:{entry.run_id}:{entry.seq}",
                at=entry.at,
                kind=kind,
                actor=actor,
                text=text,
                data={
                    "run": entry.run_id,
                    "seq": entry.seq,
                    "step": entry.step,
                    "outcome": None if entry.outcome is None else entry.outcome.value,
                },
            )
        )
    return out
