"""Playbooks at work: an alarm starts a run, people are told, silence escalates, a
restart resumes its current order under the same key, a shelved alarm tells nobody."""

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
from hazwatch.respond.playbook import StepOutcome, parse_playbook
from hazwatch.runtime.dispatcher import NotifyRequest
from hazwatch.runtime.orders import Orders
from hazwatch.runtime.respond_stage import RespondStage
from hazwatch.runtime.warnings import WarningEvent
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.database import Database
from hazwatch.storage.incident_repository import IncidentRepository
from hazwatch.storage.plan_repository import PlanRepository
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
  - {id: close, kind: close, report: [pdf]}
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


class Outbox:
    """Records notify orders; ``settle`` reports them all delivered, as the dispatcher
    would."""

    def __init__(self) -> None:
        self.requests: list[NotifyRequest] = []
        self._settled = 0

    def post(self, request: NotifyRequest) -> None:
        self.requests.append(request)

    def told(self, user: str) -> list[str]:
        """The order keys posted for ``user``."""
        return [r.notice.id for r in self.requests if user in {p.user for p in r.recipients}]

    def settle(self, stage: RespondStage, now: int) -> None:
        while self._settled < len(self.requests):
            request = self.requests[self._settled]
            self._settled += 1
            users = ", ".join(p.user for p in request.recipients)
            stage.reported(request.notice.id, StepOutcome.DONE, f"told {users}", now)


def _stage(
    db: Database, warnings: dict[str, StoredWarning] | None = None
) -> tuple[RespondStage, Outbox, PlaybookRepository]:
    playbooks, outbox = PlaybookRepository(db), Outbox()
    stage = RespondStage(
        playbooks=playbooks,
        orders=Orders(
            contacts=ContactRepository(db),
            outbox=outbox,
            incidents=IncidentRepository(db),
            plans=PlanRepository(db),
        ),
        nodes=NODES,
        warning_of=(warnings or {}).get,
    )
    return stage, outbox, playbooks


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
    stage, outbox, playbooks = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    assert len(outbox.told("li.na")) == 1 and outbox.told("chen.jie") == []
    assert [r.step for r in stage.running()] == ["shift"], "waits for the delivery"
    outbox.settle(stage, T0 + 500)
    stage.tick(T0 + 60_000)
    assert outbox.told("chen.jie") == [], "not yet"
    stage.tick(T0 + 121_000)
    assert len(outbox.told("chen.jie")) == 1, "nobody acknowledged: the park is told"
    outbox.settle(stage, T0 + 122_000)
    assert stage.running() == [] and playbooks.running() == []
    book = playbooks.get("chlorine-leak")
    assert book is not None
    run_id = runs.run_id(book.playbook, f"7.{ConditionKind.HH}@{T0}")
    outcomes = [e.outcome for e in playbooks.journal(run_id) if e.outcome is not None]
    assert [o.value for o in outcomes] == ["done", "timed_out", "done", "done", "done"]
    [incident] = IncidentRepository(db).for_run(run_id)
    assert incident.plan == "chlorine-release" and incident.scope.key == "chlor.main.cl2"
    lines = [(e.kind.value, e.text) for e in IncidentRepository(db).timeline(incident.key)]
    texts = "\n".join(t for _, t in lines)
    assert "AT-103 HH" in texts and "playbook chlorine-leak v1 started" in texts
    assert "notify shift: done — told li.na" in texts, "backfilled from the journal"
    assert "wait_ack wait: timed_out" in texts
    assert "notify park: done — told chen.jie" in texts
    assert texts.endswith("playbook chlorine-leak finished"), "followed after opening"
    assert ("message", "notify park: done — told chen.jie") in lines
    report = f"close close: done — incident {incident.key} stays open; report: "
    assert report + f"/api/v1/incidents/{incident.key}/report.pdf" in texts


def test_an_acknowledgement_skips_the_escalation(db: Database) -> None:
    _setup(db)
    stage, outbox, _ = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    outbox.settle(stage, T0 + 500)
    stage.alarms(
        [_change(AlarmState.UNACKED, AlarmInput.ACKNOWLEDGE, T0 + 30_000, "li.na")], {7: TAG}
    )
    stage.tick(T0 + 300_000)
    assert outbox.told("chen.jie") == []
    assert stage.running() == []


def test_a_restart_reissues_an_unsettled_order_under_its_key(db: Database) -> None:
    _setup(db)
    stage, outbox, _ = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    [key] = outbox.told("li.na")
    restarted, again, _ = _stage(db)  # the process died before the delivery was reported
    restarted.resume({7: TAG}, T0 + 1000)
    assert again.told("li.na") == [key], "the same order, so the ledger sends nothing twice"
    again.settle(restarted, T0 + 1500)
    assert [r.step for r in restarted.running()] == ["wait"]
    restarted.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    assert len(restarted.running()) == 1, "a replayed activation starts no second run"
    third, last, _ = _stage(db)  # a restart during the wait re-issues nothing
    third.resume({7: TAG}, T0 + 2000)
    assert last.requests == []
    third.tick(T0 + 121_000)
    assert last.told("chen.jie") == [], "the wait began when the delivery was reported"
    third.tick(T0 + 121_500)
    assert len(last.told("chen.jie")) == 1


def test_a_late_report_of_an_old_order_changes_nothing(db: Database) -> None:
    _setup(db)
    stage, outbox, playbooks = _stage(db)
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    outbox.settle(stage, T0 + 500)
    before = playbooks.running()
    stage.reported(outbox.requests[0].notice.id, StepOutcome.FAILED, "late", T0 + 900)
    assert playbooks.running() == before
    assert [r.step for r in stage.running()] == ["wait"]


def test_a_shelved_alarm_tells_nobody(db: Database) -> None:
    _setup(db)
    stage, outbox, playbooks = _stage(db)
    shelved = replace(
        _change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0).alarm, state=AlarmState.SHELVED
    )
    stage.orders.alarm_of = lambda tag_id, condition: shelved
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    assert outbox.requests == []
    book = playbooks.get("chlorine-leak")
    assert book is not None
    run_id = runs.run_id(book.playbook, f"7.{ConditionKind.HH}@{T0}")
    ended = [e for e in playbooks.journal(run_id) if e.outcome is not None]
    assert (ended[0].outcome, ended[0].detail) == (
        StepOutcome.SKIPPED,
        "muted: the alarm is shelved",
    )


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
    stage, outbox, _ = _stage(db)
    stage.warnings([_warning_event(Colour.YELLOW, WarningInput.RAISE, T0)])
    assert outbox.requests == [] and stage.running() == []
    escalated = _warning_event(Colour.ORANGE, WarningInput.ESCALATE, T0 + 1000)
    stage.warnings([escalated])
    [request] = outbox.requests
    assert request.notice.level is Colour.ORANGE
    restarted, again, _ = _stage(db, {escalated.stored.warning.id: escalated.stored})
    restarted.resume({7: TAG}, T0 + 2000)
    assert again.told("li.na") == [request.notice.id], "resumed: the same post, the same key"
    again.settle(restarted, T0 + 2500)
    restarted.warnings([_warning_event(Colour.ORANGE, WarningInput.ACKNOWLEDGE, T0 + 3000)])
    assert restarted.running() == []


def test_a_retired_playbook_starts_no_run(db: Database) -> None:
    _setup(db)
    doc: dict[str, Any] = yaml.safe_load(PLAYBOOK) | {"version": 2, "enabled": False}
    PlaybookRepository(db).save(parse_playbook(doc, source="p.yaml"), actor="admin", now=T0)
    stage, outbox, _ = _stage(db)
    assert stage.in_force() == []
    stage.alarms([_change(AlarmState.NORMAL, AlarmInput.ACTIVATE, T0)], {7: TAG})
    assert outbox.requests == [] and stage.running() == []
