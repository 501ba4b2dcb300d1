"""The risk stage keeps every installation, enterprise and park coloured as alarms, warnings
and time move, records only changes with their explanation, and picks up after a restart
without recording anything twice."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hazwatch.domain.alarm import AlarmInput
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import HOUR_MS, MINUTE_MS
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.tag import ConditionKind
from hazwatch.domain.warning import Colour, Explanation, Observation, WarningKey
from hazwatch.evaluate.risk import Factor
from hazwatch.evaluate.risk_rules import RiskRules
from hazwatch.ingest.validation import Admission
from hazwatch.runtime.clock import ManualClock
from hazwatch.runtime.metrics import Metrics
from hazwatch.runtime.pipeline import Pipeline
from hazwatch.runtime.risk_stage import NodeRisk, RiskStage
from hazwatch.runtime.warnings import WarningBook
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import ReadingStore, open_reading_store
from hazwatch.storage.risk_repository import RiskRepository
from hazwatch.storage.warning_repository import WarningRepository

T0 = 1_800_000_000_000
LEVEL = "lpg.s.farm.tank.level"
TEMP = "lpg.s.farm.tank.temp"
FLOW = "lpg.s.loading.arm.flow"
NH3 = "cold.s.plant.det.nh3"
FARM = "lpg.s.farm"


def _tag(key: str, limits: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"key": key, "unit": "x", "range": [0, 100], "limits": limits or {}, **extra}


def _installation(key: str, equipment: str, tags: list[dict[str, Any]], **extra: Any) -> Any:
    return {"key": key, "equipment": [{"key": equipment, "tags": tags}], **extra}


def _plant() -> dict[str, Any]:
    farm = _installation(
        "farm",
        "tank",
        [
            _tag("level", {"HH": {"value": 90, "priority": "high"}, "H": {"value": 85}}),
            _tag("temp", offline_after_s=60),
        ],
        # 424 t of LPG (Q = 50 t, β = 1.5), α = 2 (people not declared): R = 25.44, grade III
        inventories=[{"chemical": "LPG", "volume_m3": 800, "density_t_per_m3": 0.53}],
    )
    loading = _installation(
        "loading", "arm", [_tag("flow", {"H": {"value": 50, "priority": "low"}})]
    )
    cold = _installation(
        "plant",
        "det",
        [
            _tag(
                "nh3",
                {
                    "HH": {"value": 57, "priority": "critical"},
                    "H": {"value": 28, "priority": "high"},
                },
            )
        ],
    )
    return {
        "region": "r",
        "parks": [
            {
                "key": "p",
                "enterprises": [
                    {
                        "key": "lpg",
                        "assessment_score": 91,
                        "sites": [{"key": "s", "installations": [farm, loading]}],
                    },
                    {
                        "key": "cold",
                        "assessment_score": 95,
                        "sites": [{"key": "s", "installations": [cold]}],
                    },
                ],
            }
        ],
    }


class Plant:
    """A pipeline over the plant, its warning book and a risk stage, on one manual clock."""

    def __init__(self, db: Database, *, spec: dict[str, Any] | None = None) -> None:
        self.db = db
        plants = PlantRepository(db)
        plants.save(PlantSpec.model_validate(spec or _plant()))
        self.clock = ManualClock(T0)
        self.book = WarningBook(WarningRepository(db))
        tags = plants.tags()
        self.ids = {t.key: t.id for t in tags}
        self.store: ReadingStore = open_reading_store(db.engine)
        self.pipeline = Pipeline(
            tags=tags,
            store=self.store,
            alarms=AlarmRepository(db),
            dead_letters=DeadLetterRepository(db),
            admission=Admission(),
            rollup_retention_ms=HOUR_MS,
            metrics=Metrics(),
            now=T0,
        )
        self.repository = RiskRepository(db)
        self.stage = RiskStage(
            repository=self.repository,
            plants=plants,
            warnings=self.book,
            clock=self.clock,
            every_ms=MINUTE_MS,
        )
        self.stage.attach(self.pipeline)

    def send(self, values: dict[str, float], *, after_ms: int = 1000) -> None:
        """Let ``after_ms`` pass, then one reading of each tag of ``values``, then a tick."""
        self.clock.advance(after_ms)
        now = self.clock.now()
        batch = Batch.of(
            tag=[self.ids[k] for k in values],
            ts=[now] * len(values),
            value=list(values.values()),
            received=now,
        )
        self.pipeline.process(batch, source="test", now=now)
        self.pipeline.tick(now)

    def quiet(self, **extra: float) -> None:
        self.send({LEVEL: 50, TEMP: 20, FLOW: 10, NH3: 0} | {k: v for k, v in extra.items()})

    def risk(self, key: str) -> NodeRisk:
        (found,) = [r for r in self.stage.snapshot().values() if r.key == key]
        return found

    def colours(self) -> dict[str, Colour]:
        return {r.key: r.colour for r in self.stage.snapshot().values()}

    def history(self, key: str) -> list[tuple[Colour, Colour | None]]:
        node = self.risk(key).node
        return [
            (c.colour, c.previous) for c in self.repository.history(Grant.everything(), node.id)
        ]


@pytest.fixture
def plant(db: Database) -> Iterator[Plant]:
    made = Plant(db)
    yield made
    made.store.close()


def _effective(risk: NodeRisk) -> list[tuple[Factor, str]]:
    return [(c.factor, c.level) for c in risk.assessment.contributions if c.steps or c.floor]


def test_at_rest_every_node_has_its_baseline_colour_recorded_once(plant: Plant) -> None:
    assert plant.colours() == {
        "lpg.s.farm": Colour.YELLOW,  # grade III
        "lpg.s.loading": Colour.BLUE,  # no inventory: not a major hazard
        "lpg": Colour.YELLOW,  # grade III beats the score of 91
        "cold.s.plant": Colour.BLUE,
        "cold": Colour.BLUE,  # score 95
        "p": Colour.YELLOW,  # its most severe enterprise
    }
    kinds = {r.key: r.node.kind for r in plant.stage.snapshot().values()}
    assert kinds["p"] is ScopeKind.PARK and kinds["lpg"] is ScopeKind.ENTERPRISE
    assert plant.risk("lpg").since == T0 and plant.risk("lpg").previous is None
    plant.quiet()
    plant.quiet()
    assert plant.history("lpg") == [(Colour.YELLOW, None)]
    assert len(plant.repository.latest()) == 6


def test_an_alarm_raises_installation_enterprise_and_park_and_its_clearing_returns_them(
    plant: Plant,
) -> None:
    plant.quiet()
    plant.quiet(**{LEVEL: 95})
    hh = f"{LEVEL} HH"
    farm, lpg = plant.risk(FARM), plant.risk("lpg")
    assert (farm.colour, lpg.colour, plant.risk("p").colour) == (
        Colour.ORANGE,
        Colour.ORANGE,
        Colour.ORANGE,
    )
    (high,) = [
        c for c in lpg.assessment.contributions if c.factor is Factor.ALARMS and c.level == "high"
    ]
    assert high.subjects == (hh,) and high.steps == 1
    assert lpg.since == plant.clock.now() and lpg.previous is Colour.YELLOW
    # the medium H alarm is counted but changes nothing
    assert _effective(lpg) == [(Factor.ALARMS, "high")]

    plant.quiet()  # back below both limits (no deadband, no delay)
    assert plant.risk("lpg").colour is Colour.YELLOW
    assert plant.history("lpg") == [
        (Colour.YELLOW, None),
        (Colour.ORANGE, Colour.YELLOW),
        (Colour.YELLOW, Colour.ORANGE),
    ]
    changes = plant.repository.history(Grant.everything(), lpg.node.id)
    explained = changes[1].explanation
    assert explained["colour"] == "orange" and explained["baseline"] == "yellow"
    assert any(hh in c["subjects"] and c["steps"] == 1 for c in explained["contributions"])
    assert plant.risk("cold").colour is Colour.BLUE  # the other enterprise is untouched


def test_an_alarm_left_unacknowledged_past_its_limit_raises_one_more_colour(plant: Plant) -> None:
    plant.quiet(**{LEVEL: 95})
    raised_at = plant.clock.now()
    plant.send({LEVEL: 95, TEMP: 20, FLOW: 10, NH3: 0}, after_ms=10 * MINUTE_MS)
    assert plant.clock.now() == raised_at + 10 * MINUTE_MS
    assert plant.risk("lpg").colour is Colour.ORANGE  # exactly at the limit: not past it
    plant.send({LEVEL: 95, TEMP: 20, FLOW: 10, NH3: 0}, after_ms=MINUTE_MS)
    lpg = plant.risk("lpg")
    assert lpg.colour is Colour.RED
    assert (Factor.UNACKNOWLEDGED, "") in _effective(lpg)
    plant.pipeline.command(
        plant.ids[LEVEL],
        ConditionKind.HH,
        AlarmInput.ACKNOWLEDGE,
        actor="op",
        comment="",
        now=plant.clock.now(),
    )
    assert plant.risk("lpg").colour is Colour.ORANGE


def test_time_alone_re_evaluates_at_the_tick(plant: Plant) -> None:
    plant.quiet(**{LEVEL: 95})
    # no reading for 11 min: only ticks; the temperature goes offline too (after 60 s)
    for _ in range(11):
        plant.clock.advance(MINUTE_MS)
        plant.pipeline.tick(plant.clock.now())
    lpg = plant.risk("lpg")
    assert (Factor.UNACKNOWLEDGED, "") in _effective(lpg)
    (online,) = [c for c in lpg.assessment.contributions if c.factor is Factor.ONLINE_RATE]
    assert online.value == 0.0  # every data tag of lpg is silent past its offline limit
    assert lpg.assessment.requested_steps == 3 and lpg.colour is Colour.RED


def test_an_offline_data_tag_lowers_the_online_rate_of_its_enterprise(plant: Plant) -> None:
    plant.quiet()
    for _ in range(3):  # TEMP silent for 90 s: OFFLINE after 60 s
        plant.send({LEVEL: 50, FLOW: 10, NH3: 0}, after_ms=30_000)
    lpg = plant.risk("lpg")
    (online,) = [c for c in lpg.assessment.contributions if c.factor is Factor.ONLINE_RATE]
    assert online.value == pytest.approx(2 / 3) and online.steps == 1
    assert lpg.colour is Colour.ORANGE
    assert plant.risk(FARM).colour is Colour.YELLOW  # the online rate is the enterprise's
    (cold_online,) = [
        c for c in plant.risk("cold").assessment.contributions if c.factor is Factor.ONLINE_RATE
    ]
    assert cold_online.value == 1.0
    plant.quiet()
    assert plant.risk("lpg").colour is Colour.YELLOW


def test_warnings_raise_the_colour_while_their_condition_is_seen(plant: Plant) -> None:
    key = WarningKey(detector="pca-t2", installation=FARM)
    now = plant.clock.now()
    plant.book.observe(
        Observation(key=key, at=now, colour=Colour.RED, explanation=Explanation(text="SPE")),
        now=now,
    )
    farm = plant.risk(FARM)
    assert farm.colour is Colour.ORANGE  # yellow + 1, and at least orange
    assert (Factor.WARNINGS, "red") in _effective(farm)
    assert plant.risk("cold.s.plant").colour is Colour.BLUE
    plant.book.subside(key, at=now + 1000, now=now + 1000)
    assert plant.risk(FARM).colour is Colour.YELLOW  # open, awaiting 消警, but not active


def test_two_severe_enterprises_raise_the_park(plant: Plant) -> None:
    plant.quiet(**{LEVEL: 95})
    assert plant.risk("p").colour is Colour.ORANGE
    plant.quiet(**{LEVEL: 95, NH3: 60})
    assert plant.risk("cold").colour is Colour.ORANGE  # critical: +1 and at least orange
    park = plant.risk("p")
    assert park.colour is Colour.RED
    (concurrent,) = [c for c in park.assessment.contributions if c.factor is Factor.CONCURRENT]
    assert concurrent.subjects == ("cold", "lpg")


def test_a_restart_records_nothing_new_and_keeps_since(db: Database) -> None:
    first = Plant(db)
    first.quiet(**{LEVEL: 95})
    since = first.risk("lpg").since
    count = len(first.repository.history(Grant.everything(), first.risk("lpg").node.id))
    first.store.close()
    again = Plant(db)  # the same database: the alarm is still active in the book
    try:
        assert again.risk("lpg").colour is Colour.ORANGE
        assert again.risk("lpg").since == since
        assert again.risk("lpg").previous is Colour.YELLOW
        assert len(again.history("lpg")) == count
    finally:
        again.store.close()


def test_an_installation_that_cannot_be_graded_is_explained_not_fatal(db: Database) -> None:
    spec = _plant()
    farm = spec["parks"][0]["enterprises"][0]["sites"][0]["installations"][0]
    farm["inventories"] = [{"chemical": "secret blend", "tonnes": 5}]
    made = Plant(db, spec=spec)
    try:
        (grade,) = [c for c in made.risk(FARM).assessment.contributions if c.factor is Factor.GRADE]
        assert not grade.tracked and "secret blend" in grade.text
        assert made.risk("lpg").colour is Colour.BLUE  # score 91, no grade to go by
    finally:
        made.store.close()


def test_rules_come_from_the_stage(db: Database) -> None:
    made = Plant(db)
    try:
        made.stage.rules = RiskRules(max_steps=0)
        made.quiet(**{LEVEL: 95})
        assert made.risk("lpg").colour is Colour.YELLOW
        assert made.risk("lpg").assessment.requested_steps == 1
    finally:
        made.store.close()


def test_a_changed_plant_is_read_again_within_the_reload_period(plant: Plant) -> None:
    spec = _plant()
    spec["parks"][0]["enterprises"][0]["assessment_score"] = 59.9
    PlantRepository(plant.db).save(PlantSpec.model_validate(spec))
    plant.quiet()
    assert plant.risk("lpg").colour is Colour.YELLOW  # not read yet
    plant.send({LEVEL: 50, TEMP: 20, FLOW: 10, NH3: 0}, after_ms=10 * MINUTE_MS)
    lpg = plant.risk("lpg")
    assert lpg.colour is Colour.RED and lpg.assessment.baseline is Colour.RED
    (score,) = [c for c in lpg.assessment.contributions if c.factor is Factor.ASSESSMENT]
    assert score.value == 59.9 and score.sets is Colour.RED


def test_a_failing_history_does_not_stop_the_alarms_and_is_retried(
    plant: Plant, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = plant.repository.record

    def broken(changes: object) -> None:
        raise RuntimeError("database away")

    monkeypatch.setattr(plant.repository, "record", broken)
    plant.quiet(**{LEVEL: 95})  # does not raise
    assert plant.pipeline.book.get(plant.ids[LEVEL], ConditionKind.HH) is not None
    assert plant.risk("lpg").colour is Colour.YELLOW  # kept until it can be recorded
    monkeypatch.setattr(plant.repository, "record", record)
    plant.quiet(**{LEVEL: 95})
    assert plant.risk("lpg").colour is Colour.ORANGE
    assert plant.history("lpg")[-1] == (Colour.ORANGE, Colour.YELLOW)
