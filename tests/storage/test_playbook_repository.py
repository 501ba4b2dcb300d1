"""Playbooks and run journals on both backends."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hazwatch.respond.playbook import Playbook, StepOutcome, parse_playbook
from hazwatch.respond.run import RunStatus, acknowledge, finish_step, replay, start
from hazwatch.storage.database import Database
from hazwatch.storage.playbook_repository import PlaybookRepository, PlaybookVersionError

T0 = 1_800_000_000_000
DOC = """
name: chlorine-leak
version: 1
title: chlorine release
trigger: {event: alarm, conditions: [HH]}
steps:
  - {id: notify, kind: notify, to: [position:shift-operator@installation]}
  - {id: wait, kind: wait_ack, timeout_s: 60}
  - {id: close, kind: close}
"""


def _playbook(**changes: Any) -> Playbook:
    doc: dict[str, Any] = yaml.safe_load(DOC) | changes
    return parse_playbook(doc, source="p.yaml")


@pytest.fixture
def repo(db: Database) -> PlaybookRepository:
    db.upgrade()
    return PlaybookRepository(db)


def test_versions_are_kept_and_the_newest_is_in_force(repo: PlaybookRepository) -> None:
    first = _playbook()
    repo.save(first, actor="admin", now=T0)
    second = _playbook(version=2, title="chlorine release, park warned")
    repo.save(second, actor="admin", now=T0 + 1)
    repo.save(_playbook(name="ammonia-leak"), actor="admin", now=T0 + 2)
    assert repo.versions("chlorine-leak") == [1, 2]
    assert [(s.playbook.name, s.playbook.version) for s in repo.in_force()] == [
        ("ammonia-leak", 1),
        ("chlorine-leak", 2),
    ]
    stored = repo.get("chlorine-leak", 1)
    assert stored is not None and stored.playbook == first and stored.created_by == "admin"
    assert repo.get("nothing") is None


def test_a_version_is_saved_once(repo: PlaybookRepository) -> None:
    repo.save(_playbook(), actor="admin", now=T0)
    again = repo.save(_playbook(), actor="someone", now=T0 + 5)
    assert again.created_by == "admin", "a replayed upload changes nothing"
    with pytest.raises(PlaybookVersionError, match="new version"):
        repo.save(_playbook(title="changed"), actor="admin", now=T0 + 6)


def test_a_run_journal_survives_a_restart_and_replays_are_harmless(
    repo: PlaybookRepository,
) -> None:
    playbook = _playbook()
    change = start(playbook, "alarm-1@1", now=T0)
    repo.record(change.run, change.entries)
    change = finish_step(playbook, change.run, "notify", StepOutcome.DONE, now=T0 + 1)
    repo.record(change.run, change.entries)
    repo.record(change.run, change.entries)  # replayed
    (running,) = repo.running()
    assert running == change.run and running.step == "wait"
    journal = repo.journal(running.id)
    assert [e.seq for e in journal] == [1, 2, 3, 4]
    assert replay(journal, playbook) == running
    stale = start(playbook, "alarm-1@1", now=T0)
    repo.record(stale.run, stale.entries)  # an older state never overwrites a newer one
    assert repo.running() == [running]
    acked = acknowledge(playbook, running, actor="li.na", now=T0 + 2)
    repo.record(acked.run, acked.entries)
    assert repo.running()[0].step == "close"
    done = finish_step(playbook, acked.run, "close", StepOutcome.DONE, now=T0 + 3)
    repo.record(done.run, done.entries)
    assert done.run.status is RunStatus.FINISHED and repo.running() == []
    assert replay(repo.journal(running.id), playbook) == done.run
