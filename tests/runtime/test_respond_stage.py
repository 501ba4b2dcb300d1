"""Playbooks at work: an alarm starts a run, people are told, silence escalates, a
restart resumes without telling anyone twice."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import yaml

from hazwatch.alarms.book import AlarmChange
from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.domain.tag import ConditionKind, Priority, Tag
from hazwatch.domain.warning import (
    Colour,
    Explanation,
    Observation,
    WarningInput,
    WarningKey,
    WarningTransition,
)
from hazwatch.respond import run as runs
from hazwatch.respond.directory import Contact, Post
from hazwatch.respond.notify.message import Recipient
from hazwatch.respond.playbook import parse_playbook
from hazwatch.runtime.respond_stage import RespondStage
from hazwatch.runtime.warnings import WarningEvent
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.database import Database
from hazwatch.storage.inbox_repository import DatabaseInbox
from hazwatch.storage.playbook_repository import PlaybookRepository
from hazwatch.storage.warning_repository import StoredWarning
from hazwatch.warn import lifecycle

T0 = 1_800_000_000_000
NODES = [
    ScopeNode(id=1, kind=ScopeKind.REGION, key="binhai", name="", parent_id=None, path="/1/"),
    ScopeNode(id=2, kind=ScopeKind.PARK, key="coastal", name="", parent_id=1, path="/1/2/"),
    ScopeNode(id=3, kind=ScopeKind.ENTERPRISE, key="chlor", name="", parent_id=2, path="/1/2/3/"),
    ScopeNode(id=4, kind=ScopeKind.SITE, key="main", name="", parent_id=3, path="/1/2/3/4/"),
    ScopeNode(
        id=5,
        kind=ScopeKind.INSTALLATION,
        key="cl2",
        name="",
        parent_id=4,
        path="/1/2/3/4/5/",
    ),
]
TAG = Tag(
    id=7,
    key="chlor.main.cl2.gas-detection.at-103",
    name="AT-103",
    scope_id=5,
    scope_path="/1/2/3/4/5/",
    unit="ppm",
    range_lo=0,
    range_hi=20,
    period_s=1,
)
PLAYBOOK = """
name: chlorine-leak
version: 1
trigger: {event: alarm, conditions: [HH], tags: ["*.gas-detection.*"]}
steps:
  - {id: shift, kind: notify, to: [position:shift-operator@installation]}
  - {id: wait, kind: wait_ack, timeout_s: 120, next: {acknowledged: incident}}
  - {id: park, kind: notify, to: [position:emergency-office@park]}
  - {id: incident, kind: open_incident, plan: chlorine-release}
  - {id: close, kind: close}
"""


def _change(state_from: AlarmState, inp: AlarmInput, at: int, actor: str = "system") -> AlarmChange:
    alarm = Alarm(
        tag_id=7,
        condition=ConditionKind.HH,
        state=AlarmState.UNACKED,
        active=True,
        priority=Priority.CRITICAL,
        seq=1,
        updated_at=at,
        activated_at=T0,
    )
    transition = AlarmTransition(
        tag_id=7,
        condition=ConditionKind.HH,
        seq=1,
        at=at,
        from_state=state_from,
        to_state=AlarmState.UNACKED,
        input=inp,
        actor=actor,
        cause="",
    )
    return AlarmChange(alarm=alarm, transition=transition)


def _stage(db: Database) -> tuple[RespondStage, DatabaseInbox, PlaybookRepository]:
    playbooks, inbox = PlaybookRepository(db), DatabaseInbox(db)
    stage = RespondStage(
        playbooks=playbooks, contacts=ContactRepository(db), inbox=inbox, nodes=NODES
    )
    return stage, inbox, playbooks


def _setup(db: Database) -> None:
    db.upgrade()
    doc: dict[str, Any] = yaml.safe_load(PLAYBOOK)
    PlaybookRepository(db).save(parse_playbook(doc, source="p.yaml"), actor="admin", now=T0)
    contacts = ContactRepository(db)
    for user, position, scope in (
        ("li.na", "shift-operator", "chlor.main.cl2"),
        ("chen.jie", "emergency-office", "coastal"),
    ):
        contacts.save(
            Contact(
                user=user,
                posts=(Post(position=position, scope=scope),),
                recipient=Recipient(user=user, channels=("inapp",)),
            ),
            actor="admin",
            now=T0,
        )


def test_silence_escalates_to_the_park_and_the_run_ends(db: Database) -> None:
    _setup(db)
    stage, inbox, playbooks = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    assert len(inbox.entries("li.na")) == 1 and inbox.entries("chen.jie") == ()
    stage.tick(T0 + 60_000)
    assert inbox.entries("chen.jie") == (), "not yet"
    stage.tick(T0 + 121_000)
    assert len(inbox.entries("chen.jie")) == 1, "nobody acknowledged: the park is told"
    assert stage.running() == [] and playbooks.running() == []
    book = playbooks.get("chlorine-leak")
    assert book is not None
    run_id = runs.run_id(book.playbook, f"7.{ConditionKind.HH}@{T0}")
    outcomes = [e.outcome for e in playbooks.journal(run_id) if e.outcome is not None]
    assert [o.value for o in outcomes] == ["done", "timed_out", "done", "skipped", "done"]


def test_an_acknowledgement_skips_the_escalation(db: Database) -> None:
    _setup(db)
    stage, inbox, _ = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    stage.alarms(
        [_change(AlarmState.UNACKED, AlarmInput.ACKNOWLEDGE, T0 + 30_000, "li.na")], {7: TAG}
    )
    stage.tick(T0 + 300_000)
    assert inbox.entries("chen.jie") == ()
    assert stage.running() == []


def test_a_restart_resumes_the_run_and_tells_nobody_twice(db: Database) -> None:
    _setup(db)
    stage, inbox, _ = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    restarted, _, _ = _stage(db)
    restarted.resume({7: TAG}, T0 + 1000)
    assert len(inbox.entries("li.na")) == 1
    assert [r.step for r in restarted.running()] == ["wait"]
    restarted.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    assert len(restarted.running()) == 1, "a replayed activation starts no second run"
    restarted.tick(T0 + 121_000)
    assert len(inbox.entries("chen.jie")) == 1


WARNING_PLAYBOOK = """
name: orange-warning
version: 1
trigger: {event: warning, min_colour: orange}
steps:
  - {id: shift, kind: notify, to: [position:shift-operator@installation]}
  - {id: wait, kind: wait_ack, timeout_s: 600}
  - {id: close, kind: close}
"""


def _warning_event(colour: Colour, inp: WarningInput, at: int) -> WarningEvent:
    key = WarningKey(detector="cva", installation="chlor.main.cl2")
    warning = replace(
        lifecycle.observe(
            None,
            Observation(key=key, at=T0, colour=colour, explanation=Explanation(text="x")),
            now=T0,
        ).warning,
        colour=colour,
    )
    transition = WarningTransition(
        warning_id=warning.id,
        seq=1,
        at=at,
        input=inp,
        from_state=None,
        to_state=warning.state,
        from_colour=None,
        to_colour=colour,
        actor="system",
        cause="",
    )
    stored = StoredWarning(warning=warning, scope_id=5, scope_path="/1/2/3/4/5/")
    return WarningEvent(stored=stored, transition=transition)


def test_a_warning_starts_its_playbook_once_its_colour_is_reached(db: Database) -> None:
    _setup(db)
    doc: dict[str, Any] = yaml.safe_load(WARNING_PLAYBOOK)
    PlaybookRepository(db).save(parse_playbook(doc, source="w.yaml"), actor="admin", now=T0)
    stage, inbox, _ = _stage(db)
    stage.warnings([_warning_event(Colour.YELLOW, WarningInput.RAISE, T0)])
    assert inbox.entries("li.na") == () and stage.running() == []
    stage.warnings([_warning_event(Colour.ORANGE, WarningInput.ESCALATE, T0 + 1000)])
    assert len(inbox.entries("li.na")) == 1
    restarted, _, _ = _stage(db)
    restarted.resume({7: TAG}, T0 + 2000)
    assert len(inbox.entries("li.na")) == 1, "resumed: the same post found, nobody told twice"
    restarted.warnings([_warning_event(Colour.ORANGE, WarningInput.ACKNOWLEDGE, T0 + 3000)])
    assert restarted.running() == []
