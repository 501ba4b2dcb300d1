"""The warning book: observations raise and fold warnings, commands move them, escalations
fall due, and every change is saved, journaled with its actor and handed to listeners."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy import func, select

from hazwatch.domain.alarm import SYSTEM_ACTOR
from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant
from hazwatch.domain.warning import (
    Colour,
    Explanation,
    Feedback,
    Observation,
    WarningInput,
    WarningKey,
    WarningState,
)
from hazwatch.runtime.warnings import (
    UnknownWarningError,
    UnplacedWarningError,
    WarningBook,
    WarningEvent,
)
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.schema import warning_journal, warnings
from hazwatch.storage.warning_repository import WarningRepository
from hazwatch.warn.escalation import EscalationPolicy, PersistRule
from hazwatch.warn.lifecycle import Refusal, WarningTransitionError

T0 = 1_800_000_000_000
UNIT = "acme.north.cracker"
KEY = WarningKey(detector="pca-t2", installation=UNIT)
PLANT = {
    "region": "r",
    "parks": [
        {
            "key": "p",
            "enterprises": [
                {
                    "key": "acme",
                    "sites": [
                        {
                            "key": "north",
                            "installations": [
                                {
                                    "key": "cracker",
                                    "equipment": [
                                        {
                                            "key": "f1",
                                            "tags": [
                                                {"key": "tout", "unit": "degC", "range": [0, 900]}
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}


@pytest.fixture
def repo(db: Database) -> WarningRepository:
    PlantRepository(db).save(PlantSpec.model_validate(PLANT))
    return WarningRepository(db)


class Recorder:
    def __init__(self) -> None:
        self.events: list[WarningEvent] = []

    def __call__(self, events: Sequence[WarningEvent]) -> None:
        self.events.extend(events)


def _seen(at: int, colour: Colour = Colour.YELLOW, key: WarningKey = KEY) -> Observation:
    return Observation(
        key=key, at=at, colour=colour, explanation=Explanation(text=f"T² high at {at}")
    )


def _rows(db: Database) -> tuple[int, int]:
    with db.engine.connect() as conn:
        count = [
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (warnings, warning_journal)
        ]
    return count[0], count[1]


def test_observations_raise_then_fold_into_one_saved_warning(
    db: Database, repo: WarningRepository
) -> None:
    book = WarningBook(repo)
    heard = Recorder()
    book.listeners.append(heard)
    unit = PlantRepository(db).node_by_keys(["r", "p", "acme", "north", "cracker"])
    assert unit is not None

    raised = book.observe(_seen(T0), now=T0)
    folded = book.observe(_seen(T0 + 1000, Colour.ORANGE), now=T0 + 1000)
    replay = book.observe(_seen(T0 + 1000, Colour.ORANGE), now=T0 + 2000)

    assert raised is not None and folded is not None
    assert replay is None
    assert folded.stored.warning.id == raised.stored.warning.id
    assert folded.stored.warning.observations == 2
    assert folded.stored.warning.colour is Colour.ORANGE
    assert folded.stored.scope_path == unit.path
    assert repo.find(raised.stored.warning.id) == folded.stored
    assert [t.input for t in repo.journal(Grant.everything())] == [
        WarningInput.OBSERVE,
        WarningInput.RAISE,
    ]
    assert heard.events == [raised, folded]
    assert book.open() == [folded.stored]


def test_commands_are_journaled_with_their_actor(db: Database, repo: WarningRepository) -> None:
    book = WarningBook(repo)
    raised = book.observe(_seen(T0), now=T0)
    assert raised is not None
    wid = raised.stored.warning.id

    acked = book.acknowledge(wid, actor="li.wei", now=T0 + 10, comment="on it")
    assert acked.warning.state is WarningState.ACKNOWLEDGED
    assert book.subside(KEY, at=T0 + 20, now=T0 + 20) is not None
    closed = book.close(
        wid,
        actor="zhang.min",
        cause="feed valve freed",
        feedback=Feedback.TRUE_POSITIVE,
        now=T0 + 30,
        comment="WO-7731",
    )

    assert closed.warning.state is WarningState.CLOSED
    assert repo.find(wid) == closed
    journal = repo.journal(Grant.everything(), warning_id=wid)
    assert [(t.input, t.actor) for t in journal] == [
        (WarningInput.CLOSE, "zhang.min"),
        (WarningInput.SUBSIDE, SYSTEM_ACTOR),
        (WarningInput.ACKNOWLEDGE, "li.wei"),
        (WarningInput.RAISE, SYSTEM_ACTOR),
    ]
    assert journal[0].feedback is Feedback.TRUE_POSITIVE
    assert journal[0].comment == "WO-7731"
    assert journal[2].comment == "on it"
    assert book.open() == []


def test_a_refused_command_changes_nothing(db: Database, repo: WarningRepository) -> None:
    book = WarningBook(repo)
    heard = Recorder()
    raised = book.observe(_seen(T0), now=T0)
    assert raised is not None
    book.listeners.append(heard)
    wid = raised.stored.warning.id
    before = _rows(db)

    with pytest.raises(WarningTransitionError) as unacked:
        book.close(wid, actor="li.wei", cause="x", feedback=Feedback.EXPECTED, now=T0 + 1)
    assert unacked.value.code is Refusal.NOT_ALLOWED
    book.acknowledge(wid, actor="li.wei", now=T0 + 2)
    with pytest.raises(WarningTransitionError) as active:
        book.close(wid, actor="li.wei", cause="x", feedback=Feedback.EXPECTED, now=T0 + 3)
    assert active.value.code is Refusal.STILL_ACTIVE
    book.subside(KEY, at=T0 + 4, now=T0 + 4)
    with pytest.raises(WarningTransitionError) as blank:
        book.close(wid, actor="li.wei", cause="  ", feedback=Feedback.EXPECTED, now=T0 + 5)
    assert blank.value.code is Refusal.CAUSE_MISSING
    with pytest.raises(UnknownWarningError):
        book.acknowledge("f" * 16, actor="li.wei", now=T0 + 6)

    assert _rows(db) == (before[0], before[1] + 2)
    assert [e.transition.input for e in heard.events] == [
        WarningInput.ACKNOWLEDGE,
        WarningInput.SUBSIDE,
    ]
    stored = repo.find(wid)
    assert stored is not None
    assert stored.warning.state is WarningState.ACKNOWLEDGED


def test_an_unplaced_key_is_refused_and_nothing_is_saved(
    db: Database, repo: WarningRepository
) -> None:
    book = WarningBook(repo)
    with pytest.raises(UnplacedWarningError):
        book.observe(
            _seen(T0, key=WarningKey(detector="ttl", installation="acme.north.nope")), now=T0
        )
    assert _rows(db) == (0, 0)
    assert book.open() == []


def test_a_new_book_resumes_from_storage_and_ignores_replays(
    db: Database, repo: WarningRepository
) -> None:
    first = WarningBook(repo)
    raised = first.observe(_seen(T0), now=T0)
    assert raised is not None
    wid = raised.stored.warning.id
    first.observe(_seen(T0 + 5000), now=T0 + 5000)
    first.acknowledge(wid, actor="li.wei", now=T0 + 6000)
    first.subside(KEY, at=T0 + 7000, now=T0 + 7000)
    first.close(wid, actor="li.wei", cause="c", feedback=Feedback.EXPECTED, now=T0 + 8000)

    second = WarningBook(repo)
    assert second.observe(_seen(T0 + 3000), now=T0 + 9000) is None  # replayed after closing
    with pytest.raises(WarningTransitionError) as closed:
        second.acknowledge(wid, actor="li.wei", now=T0 + 9000)
    assert closed.value.code is Refusal.NOT_ALLOWED
    fresh = second.observe(_seen(T0 + 60_000), now=T0 + 60_000)
    assert fresh is not None
    assert fresh.stored.warning.id != wid
    assert fresh.transition.input is WarningInput.RAISE
    # the older, closed warning is still found by id once its key has a newer one
    with pytest.raises(WarningTransitionError):
        second.acknowledge(wid, actor="li.wei", now=T0 + 61_000)
    assert _rows(db)[0] == 2


def test_tick_applies_the_escalations_that_fell_due(db: Database, repo: WarningRepository) -> None:
    policy = EscalationPolicy(rules=(PersistRule(name="unacked-30min", after_ms=30 * MINUTE_MS),))
    book = WarningBook(repo, policy=policy)
    heard = Recorder()
    book.listeners.append(heard)
    raised = book.observe(_seen(T0), now=T0)
    assert raised is not None

    assert book.tick(T0 + 29 * MINUTE_MS) == []
    events = book.tick(T0 + 61 * MINUTE_MS)

    assert [(e.transition.rule, e.transition.to_colour) for e in events] == [
        ("unacked-30min", Colour.ORANGE),
        ("unacked-30min", Colour.RED),
    ]
    assert [e.transition.at for e in events] == [T0 + 30 * MINUTE_MS, T0 + 60 * MINUTE_MS]
    stored = repo.find(raised.stored.warning.id)
    assert stored is not None
    assert stored.warning.colour is Colour.RED
    assert stored.warning.seq == 3
    assert heard.events == [raised, *events]
