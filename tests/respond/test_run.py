"""A playbook run: steps in order, outcomes, timeouts, acknowledgement, and a journal that
rebuilds the run exactly after a restart."""

from __future__ import annotations

from typing import Any

import yaml

from hazwatch.respond.playbook import Playbook, StepOutcome, parse_playbook
from hazwatch.respond.run import (
    Change,
    EntryKind,
    Run,
    RunStatus,
    acknowledge,
    finish_step,
    pending,
    replay,
    start,
    tick,
)

T0 = 1_800_000_000_000
PLAYBOOK = """
name: chlorine-leak
version: 1
trigger: {event: alarm}
steps:
  - {id: notify-shift, kind: notify, to: [position:shift-operator@installation]}
  - {id: wait-shift, kind: wait_ack, timeout_s: 120, next: {acknowledged: incident}}
  - {id: notify-park, kind: notify, to: [position:emergency-office@park]}
  - {id: incident, kind: open_incident, plan: chlorine-release}
  - {id: close, kind: close}
"""


def _playbook() -> Playbook:
    doc: dict[str, Any] = yaml.safe_load(PLAYBOOK)
    return parse_playbook(doc, source="p.yaml")


class Journal:
    """Applies changes as the runtime does: entries first, then the order."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self.entries: list[Any] = []
        self.orders: list[str] = []

    def apply(self, change: Change) -> Run:
        self.entries += change.entries
        if change.order is not None:
            self.orders.append(change.order.step.id)
        assert replay(self.entries, self.playbook) == change.run, "the journal is the run"
        return change.run


def test_steps_follow_the_list_and_a_timeout_escalates() -> None:
    playbook = _playbook()
    journal = Journal(playbook)
    run = journal.apply(start(playbook, "alarm-7@1", now=T0))
    assert run.step == "notify-shift" and journal.orders == ["notify-shift"]
    run = journal.apply(finish_step(playbook, run, "notify-shift", StepOutcome.DONE, now=T0 + 5))
    order = pending(playbook, run)
    assert order is not None and order.due_at == T0 + 5 + 120_000
    assert journal.apply(tick(playbook, run, now=T0 + 120_004)) == run, "not due yet"
    run = journal.apply(tick(playbook, run, now=T0 + 200_000))
    assert run.step == "notify-park" and run.step_since == T0 + 120_005, "stamped when due"
    ended = [e for e in journal.entries if e.kind is EntryKind.STEP_ENDED]
    assert ended[-1].outcome is StepOutcome.TIMED_OUT
    for step in ("notify-park", "incident", "close"):
        run = journal.apply(finish_step(playbook, run, step, StepOutcome.DONE, now=T0 + 300_000))
    assert run.status is RunStatus.FINISHED and pending(playbook, run) is None
    assert journal.orders == ["notify-shift", "wait-shift", "notify-park", "incident", "close"]


def test_an_acknowledgement_skips_the_escalation() -> None:
    playbook = _playbook()
    journal = Journal(playbook)
    run = journal.apply(start(playbook, "alarm-7@1", now=T0))
    run = journal.apply(finish_step(playbook, run, "notify-shift", StepOutcome.DONE, now=T0))
    run = journal.apply(acknowledge(playbook, run, actor="li.na", now=T0 + 30_000))
    assert run.step == "incident" and run.acknowledged_by == "li.na"
    assert "notify-park" not in journal.orders


def test_an_acknowledgement_before_the_wait_ends_it_at_once() -> None:
    playbook = _playbook()
    journal = Journal(playbook)
    run = journal.apply(start(playbook, "alarm-7@1", now=T0))
    run = journal.apply(acknowledge(playbook, run, actor="li.na", now=T0 + 1))
    assert run.step == "notify-shift", "the first notice still goes out"
    run = journal.apply(finish_step(playbook, run, "notify-shift", StepOutcome.DONE, now=T0 + 2))
    assert run.step == "incident"
    assert journal.apply(acknowledge(playbook, run, actor="wang", now=T0 + 3)) == run, "once"


def test_a_late_report_of_an_old_step_changes_nothing() -> None:
    playbook = _playbook()
    run = start(playbook, "alarm-7@1", now=T0).run
    run = finish_step(playbook, run, "notify-shift", StepOutcome.DONE, now=T0).run
    late = finish_step(playbook, run, "notify-shift", StepOutcome.FAILED, now=T0 + 1)
    assert late.run == run and late.entries == () and late.order is None


def test_after_a_restart_the_same_order_is_issued_with_the_same_key() -> None:
    playbook = _playbook()
    journal = Journal(playbook)
    first = start(playbook, "alarm-7@1", now=T0)
    run = journal.apply(first)
    run = journal.apply(finish_step(playbook, run, "notify-shift", StepOutcome.DONE, now=T0 + 5))
    before = pending(playbook, run)
    restarted = replay(list(journal.entries), playbook)
    again = pending(playbook, restarted)
    assert again == before and again is not None and again.step.id == "wait-shift"
    other = start(playbook, "alarm-7@2", now=T0)
    assert other.run.id != first.run.id, "another occurrence is another run"
    assert start(playbook, "alarm-7@1", now=T0 + 9).run.id == first.run.id, "one run per pair"
