"""Park linkage in a run, over the demo park: the plume from the weather mast's wind
reaches the LPG terminal's offices, whose enterprise's safety officer is warned, and the
nearest resources are named."""

from __future__ import annotations

from typing import Any

import yaml

from hazwatch.alarms.book import AlarmChange
from hazwatch.connectors.simulator.demo import DEMO_PLANT_FILE, demo_plant_text
from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.plant import parse_plant
from hazwatch.respond import run as runs
from hazwatch.respond.directory import Contact, Post
from hazwatch.respond.notify.message import Recipient
from hazwatch.respond.playbook import StepOutcome, parse_playbook
from hazwatch.runtime.dispatcher import NotifyRequest
from hazwatch.runtime.orders import Orders
from hazwatch.runtime.respond_stage import RespondStage
from hazwatch.runtime.surroundings import Surroundings
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.database import Database
from hazwatch.storage.park_repository import ParkRepository
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.playbook_repository import PlaybookRepository

T0 = 1_800_000_000_000
LEAK_TAG = "chlor.main.cl2-storage.gas-detection.at-102"
MAST = "chlor.main.weather.mast"
PLAYBOOK = f"""
name: chlorine-plume
version: 1
trigger: {{event: alarm, conditions: [HH], park: demo-park}}
steps:
  - id: plume
    kind: park_linkage
    chemical: chlorine
    rate_g_s: 200
    wind_speed_tag: {MAST}.wind-speed
    wind_direction_tag: {MAST}.wind-direction
    stability: D
  - {{id: resources, kind: suggest_resources, kinds: [fire-brigade, medical-team], count: 1}}
"""


class Outbox:
    def __init__(self) -> None:
        self.requests: list[NotifyRequest] = []

    def post(self, request: NotifyRequest) -> None:
        self.requests.append(request)


def _stage(db: Database, weather: dict[str, tuple[Millis, float]]) -> tuple[RespondStage, Outbox]:
    plants = PlantRepository(db)
    plants.save(parse_plant(demo_plant_text(), source=DEMO_PLANT_FILE))
    doc: dict[str, Any] = yaml.safe_load(PLAYBOOK)
    PlaybookRepository(db).save(parse_playbook(doc, source="p.yaml"), actor="admin", now=T0)
    contacts = ContactRepository(db)
    for user, position, scope in (
        ("wang.qiang", "safety-officer", "lpg"),
        ("zhao.min", "emergency-office", "demo-park"),
        ("sun.li", "safety-officer", "coldchain"),
    ):
        contacts.save(
            Contact(
                user=user,
                posts=(Post(position=position, scope=scope),),
                recipient=Recipient(user=user, channels=("email",)),
            ),
            actor="admin",
            now=T0,
        )
    nodes = plants.nodes(Grant.everything())
    around = Surroundings(
        parks=ParkRepository(db), nodes=nodes, locations=plants.locations(Grant.everything())
    )
    around.value_of = weather.get
    outbox = Outbox()
    stage = RespondStage(
        playbooks=PlaybookRepository(db),
        orders=Orders(contacts=contacts, outbox=outbox, surroundings=around),
        nodes=nodes,
    )
    return stage, outbox


def _activate(db: Database, stage: RespondStage) -> int:
    tags = {t.id: t for t in PlantRepository(db).tags()}
    tag = next(t for t in tags.values() if t.key == LEAK_TAG)
    alarm = Alarm(
        tag_id=tag.id,
        condition=ConditionKind.HH,
        state=AlarmState.UNACKED,
        active=True,
        priority=Priority.CRITICAL,
        seq=1,
        updated_at=T0,
        activated_at=T0,
        value=0.72,
    )
    transition = AlarmTransition(
        tag_id=tag.id,
        condition=ConditionKind.HH,
        seq=1,
        at=T0,
        from_state=AlarmState.NORMAL,
        to_state=AlarmState.UNACKED,
        input=AlarmInput.ACTIVATE,
        actor="system",
        cause="",
    )
    stage.alarms([AlarmChange(alarm=alarm, transition=transition)], tags)
    return tag.id


def test_the_neighbour_downwind_is_warned_and_resources_named(db: Database) -> None:
    wind = {f"{MAST}.wind-speed": (T0 - 5000, 2.5), f"{MAST}.wind-direction": (T0 - 5000, 302.0)}
    stage, outbox = _stage(db, wind)
    _activate(db, stage)
    [request] = outbox.requests
    warned = {p.user for p in request.recipients}
    assert warned == {"wang.qiang", "zhao.min"}, "the LPG terminal's officer and the park"
    assert "LPG terminal offices" in request.notice.text
    assert "chlorine 200 g/s, wind 2.5 m/s from 302°" in request.notice.text
    stage.reported(request.notice.id, StepOutcome.DONE, "told wang.qiang, zhao.min", T0 + 1000)
    assert stage.running() == [], "the run went on to the resources and ended"
    ended = _ended(db)
    plume = ended["plume"]
    assert plume.outcome is StepOutcome.DONE
    assert plume.detail.startswith("chlorine 200 g/s, wind 2.5 m/s from 302°, stability D: ")
    assert "LPG terminal offices 液化气储运办公楼 (enterprise) ERPG-1" in plume.detail
    assert "evacuate the AEGL-2 zone" in plume.detail
    assert "nobody for position:safety-officer@enterprise (admin-centre)" in plume.detail
    assert plume.detail.endswith("told wang.qiang, zhao.min")
    assert ended["resources"].detail.startswith(
        "fire-brigade: Park fire station 园区消防站 0.8 km, 4 vehicles (119)"
    )
    assert "medical-team: District hospital emergency team" in ended["resources"].detail


def _ended(db: Database) -> dict[str, Any]:
    playbooks = PlaybookRepository(db)
    book = playbooks.get("chlorine-plume")
    assert book is not None
    tag_id = next(t.id for t in PlantRepository(db).tags() if t.key == LEAK_TAG)
    journal = playbooks.journal(runs.run_id(book.playbook, f"{tag_id}.HH@{T0}"))
    return {e.step: e for e in journal if e.outcome is not None}


def test_without_a_fresh_wind_reading_the_step_fails_and_says_why(db: Database) -> None:
    stale = {f"{MAST}.wind-speed": (T0 - 3_600_000, 2.5)}
    stage, outbox = _stage(db, stale)
    _activate(db, stage)
    assert outbox.requests == []
    assert stage.running() == [], "the failure does not stop the run"
    plume = _ended(db)["plume"]
    assert plume.outcome is StepOutcome.FAILED
    assert plume.detail == f"no recent wind reading: {MAST}.wind-speed, {MAST}.wind-direction"


def test_stability_auto_comes_from_the_wind_and_the_sun(db: Database) -> None:
    night = {
        f"{MAST}.wind-speed": (T0 - 5000, 2.5),
        f"{MAST}.wind-direction": (T0 - 5000, 302.0),
        f"{MAST}.solar-radiation": (T0 - 5000, 0.0),
        f"{MAST}.cloud-cover": (T0 - 5000, 1.0),
    }
    stage, outbox = _stage(db, night)
    doc: dict[str, Any] = yaml.safe_load(PLAYBOOK)
    doc["version"] = 2
    doc["steps"][0] |= {
        "stability": "auto",
        "solar_radiation_tag": f"{MAST}.solar-radiation",
        "cloud_cover_tag": f"{MAST}.cloud-cover",
    }
    PlaybookRepository(db).save(parse_playbook(doc, source="p.yaml"), actor="admin", now=T0)
    stage.reload(T0)
    _activate(db, stage)
    [request] = outbox.requests
    # a clear night, 2.5 m/s: Pasquill F (the table's "E-F" taken as the stabler class)
    assert "wind 2.5 m/s from 302°, stability F: " in request.notice.text
