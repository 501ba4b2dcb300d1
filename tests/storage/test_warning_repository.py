"""Early warnings and their journal: round trip, replays that change nothing, placement on
the scope tree, scoped reads, filters and order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import IntegrityError

from hazwatch.domain.clock import MINUTE_MS
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import Tag
from hazwatch.domain.warning import (
    Colour,
    Explanation,
    Feedback,
    Observation,
    WarningKey,
    WarningState,
)
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.schema import warning_journal
from hazwatch.storage.warning_repository import Placement, StoredWarning, WarningRepository
from hazwatch.warn.lifecycle import (
    WarningChange,
    acknowledge,
    close,
    escalate,
    observe,
    raise_warning,
    subside,
)

T0 = 1_800_000_000_000
LEVEL = "acid.main.storage.t101.level"
STORAGE = "acid.main.storage"
BRINE = "salt.main.brine"
FURNACE = "steel.mill.furnace"

GrantOn = Callable[..., Grant]


def _observation(
    key: WarningKey, at: int, colour: Colour = Colour.YELLOW, text: str = "T² 2.1× its limit"
) -> Observation:
    explanation = Explanation.of(text, ["level", "temp", "cl2"], [0.5, 0.25, 0.125])
    return Observation(key=key, at=at, colour=colour, explanation=explanation)


def _placed(repo: WarningRepository, change: WarningChange) -> StoredWarning:
    placement = repo.place(change.warning.key)
    assert placement is not None
    return StoredWarning.at(change.warning, placement)


def _history(key: WarningKey) -> list[WarningChange]:
    """Raised, observed higher, acknowledged, escalated, acknowledged, subsided, closed."""
    raised = raise_warning(_observation(key, T0), now=T0 + 5)
    higher = observe(raised.warning, _observation(key, T0 + MINUTE_MS, Colour.ORANGE), now=T0)
    assert higher is not None
    acked = acknowledge(higher.warning, actor="li.wei", now=T0 + 2 * MINUTE_MS, comment="seen")
    up = escalate(acked.warning, rule="area-agreement", cause="2 detectors", now=T0 + 3 * MINUTE_MS)
    again = acknowledge(up.warning, actor="li.wei", now=T0 + 4 * MINUTE_MS)
    calm = subside(again.warning, at=T0 + 5 * MINUTE_MS, now=T0 + 5 * MINUTE_MS)
    assert calm is not None
    closed = close(
        calm.warning,
        actor="zhang.min",
        cause="feed valve stuck, freed",
        feedback=Feedback.TRUE_POSITIVE,
        now=T0 + 6 * MINUTE_MS,
        comment="work order 7731",
    )
    return [raised, higher, acked, up, again, calm, closed]


def _journal_rows(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(warning_journal)).scalar_one())


def test_warnings_and_their_journal_load_back_equal(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = WarningRepository(db)
    key = WarningKey(detector="pca-t2", installation=STORAGE)
    history = _history(key)
    for change in history:
        repo.save([_placed(repo, change)], [change.transition])

    final = history[-1].warning
    assert final.closure is not None
    assert len(final.escalations) == 2
    assert final.explanation.contributions
    stored = repo.find(final.id)
    assert stored is not None
    assert stored.warning == final
    assert repo.latest() == [stored]
    assert repo.get(Grant.everything(), final.id) == stored
    assert repo.journal(Grant.everything(), warning_id=final.id) == [
        c.transition for c in reversed(history)
    ]


def test_a_replayed_or_older_save_changes_nothing(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = WarningRepository(db)
    key = WarningKey(detector="pca-t2", installation=STORAGE)
    raised, higher, acked, *_ = _history(key)
    repo.save([_placed(repo, raised)], [raised.transition])
    repo.save([_placed(repo, higher), _placed(repo, acked)], [higher.transition, acked.transition])
    journal = repo.journal(Grant.everything())

    repo.save(
        [_placed(repo, acked), _placed(repo, raised), _placed(repo, higher)],
        [acked.transition, raised.transition, raised.transition],
    )
    repo.save([_placed(repo, raised)], [raised.transition])

    assert [s.warning for s in repo.latest()] == [acked.warning]
    assert repo.journal(Grant.everything()) == journal
    assert _journal_rows(db) == 3


def test_a_failed_save_writes_nothing(db: Database, stored_tags: dict[str, Tag]) -> None:
    repo = WarningRepository(db)
    key = WarningKey(detector="pca-t2", installation=STORAGE)
    raised = raise_warning(_observation(key, T0), now=T0)
    orphan = replace(raised.transition, warning_id="0" * 16)
    with pytest.raises(IntegrityError):
        repo.save([_placed(repo, raised)], [raised.transition, orphan])
    assert repo.latest() == []
    assert _journal_rows(db) == 0


def test_a_warning_is_placed_on_its_tag_or_its_installation(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = WarningRepository(db)
    plants = PlantRepository(db)
    storage = plants.node_by_keys(["jiangsu", "east", "acid", "main", "storage"])
    assert storage is not None
    level = stored_tags[LEVEL]

    on_tag = repo.place(WarningKey(detector="ttl", installation=STORAGE, subject=LEVEL))
    assert on_tag == Placement(scope_id=level.scope_id, scope_path=level.scope_path)
    assert on_tag.scope_path.startswith(storage.path)
    assert on_tag.scope_path != storage.path

    whole = Placement(scope_id=storage.id, scope_path=storage.path)
    assert repo.place(WarningKey(detector="pca-t2", installation=STORAGE)) == whole
    group = WarningKey(detector="pca-t2", installation=STORAGE, subject="reactor-section")
    assert repo.place(group) == whole
    gone = WarningKey(detector="ttl", installation=STORAGE, subject="acid.main.storage.t101.nope")
    assert repo.place(gone) == whole
    assert repo.place(WarningKey(detector="pca-t2", installation="acid.main.nope")) is None
    assert repo.place(WarningKey(detector="pca-t2", installation="nope.main.storage")) is None


def _three_enterprises(repo: WarningRepository) -> dict[str, StoredWarning]:
    """An open yellow warning in acid (on a tag), an acknowledged red one in salt, and a
    closed blue one in steel."""
    acid = raise_warning(
        _observation(WarningKey(detector="ttl", installation=STORAGE, subject=LEVEL), T0),
        now=T0,
    )
    salt_raised = raise_warning(
        _observation(WarningKey(detector="pca-t2", installation=BRINE), T0, Colour.RED),
        now=T0 + 1,
    )
    salt = acknowledge(salt_raised.warning, actor="wang.fang", now=T0 + 2)
    steel_raised = raise_warning(
        _observation(WarningKey(detector="anomaly", installation=FURNACE), T0, Colour.BLUE),
        now=T0 + 3,
    )
    steel_acked = acknowledge(steel_raised.warning, actor="zhao.lei", now=T0 + 4)
    steel_calm = subside(steel_acked.warning, at=T0 + 5, now=T0 + 5)
    assert steel_calm is not None
    steel = close(
        steel_calm.warning,
        actor="zhao.lei",
        cause="sensor recalibrated",
        feedback=Feedback.FALSE_POSITIVE,
        now=T0 + 6,
    )
    changes = [acid, salt_raised, salt, steel_raised, steel_acked, steel_calm, steel]
    repo.save([_placed(repo, c) for c in changes], [c.transition for c in changes])
    return {
        name: _placed(repo, c) for name, c in (("acid", acid), ("salt", salt), ("steel", steel))
    }


def test_reads_see_only_the_callers_subtrees(
    db: Database, stored_tags: dict[str, Tag], grant_on: GrantOn
) -> None:
    repo = WarningRepository(db)
    w = _three_enterprises(repo)
    acid, salt, steel = w["acid"], w["salt"], w["steel"]
    every = [WarningState.RAISED, WarningState.ACKNOWLEDGED, WarningState.CLOSED]

    assert repo.list(grant_on("east", "acid"), states=every) == [acid]
    assert repo.list(grant_on("east"), states=every) == [salt, acid]
    assert repo.list(grant_on("west"), states=every) == [steel]
    assert repo.list(grant_on("east", "acid", "main", "storage", "t101"), states=every) == [acid]
    assert repo.list(grant_on("east", "acid", "main", "storage", "g1"), states=every) == []
    assert repo.list(Grant(()), states=every) == []

    assert repo.get(grant_on("east", "acid"), acid.warning.id) == acid
    assert repo.get(grant_on("east", "acid"), salt.warning.id) is None
    assert repo.get(grant_on("east", "acid"), "no-such-warning") is None

    salt_journal = repo.journal(grant_on("east", "salt"))
    assert {t.warning_id for t in salt_journal} == {salt.warning.id}
    assert repo.journal(grant_on("east", "acid"), warning_id=salt.warning.id) == []
    assert len(repo.journal(Grant.everything())) == 7


def test_list_filters_and_orders_by_colour_then_recency(
    db: Database, stored_tags: dict[str, Tag], grant_on: GrantOn
) -> None:
    repo = WarningRepository(db)
    w = _three_enterprises(repo)
    acid, salt, steel = w["acid"], w["salt"], w["steel"]
    # a second yellow in acid, changed later than the first: newer first within a colour
    later = raise_warning(
        _observation(WarningKey(detector="pca-spe", installation=STORAGE), T0 + 9), now=T0 + 9
    )
    repo.save([_placed(repo, later)], [later.transition])
    newer = _placed(repo, later)
    everything = Grant.everything()
    acid_node = PlantRepository(db).node_by_keys(["jiangsu", "east", "acid"])
    assert acid_node is not None

    assert repo.list(everything) == [salt, newer, acid, steel]
    assert repo.list(everything, limit=2) == [salt, newer]
    assert repo.list(everything, states=[WarningState.RAISED]) == [newer, acid]
    assert repo.list(everything, states=[WarningState.CLOSED]) == [steel]
    assert repo.list(everything, colours=[Colour.RED, Colour.BLUE]) == [salt, steel]
    assert repo.list(everything, detector="ttl") == [acid]
    assert repo.list(everything, installation=STORAGE) == [newer, acid]
    assert repo.list(everything, scope_id=acid_node.id) == [newer, acid]
    assert repo.list(everything, active=False) == [steel]
    assert repo.list(everything, states=[]) == []
    assert repo.list(grant_on("west"), scope_id=acid_node.id) == []


def test_latest_holds_the_newest_warning_of_each_key(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    repo = WarningRepository(db)
    key = WarningKey(detector="pca-t2", installation=STORAGE)
    first = _history(key)
    for change in first:
        repo.save([_placed(repo, change)], [change.transition])
    reraised = observe(first[-1].warning, _observation(key, T0 + 60 * MINUTE_MS), now=T0)
    assert reraised is not None
    assert reraised.warning.id != first[-1].warning.id
    repo.save([_placed(repo, reraised)], [reraised.transition])
    other = raise_warning(_observation(WarningKey(detector="ttl", installation=BRINE), T0), now=T0)
    repo.save([_placed(repo, other)], [other.transition])

    latest = {s.warning.key: s.warning for s in repo.latest()}
    assert latest == {key: reraised.warning, other.warning.key: other.warning}


def test_the_migration_goes_down_and_up_again(db: Database) -> None:
    db.downgrade("0003_packed_readings")
    with db.engine.connect() as conn:
        assert not {"warnings", "warning_journal"} & set(inspect(conn).get_table_names())
    db.upgrade()
    with db.engine.connect() as conn:
        assert {"warnings", "warning_journal"} <= set(inspect(conn).get_table_names())
