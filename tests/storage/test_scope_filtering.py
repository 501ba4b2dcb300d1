"""A grant on one enterprise sees that enterprise's rows and nothing else, in every read."""

from __future__ import annotations

from collections.abc import Callable

from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import ConditionKind, Priority, Tag
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.plant_repository import PlantRepository


def _fill(db: Database, tags: list[Tag]) -> None:
    alarms = AlarmRepository(db)
    alarms.save(
        [
            Alarm(
                tag_id=t.id,
                condition=ConditionKind.H,
                state=AlarmState.UNACKED,
                active=True,
                priority=Priority.MEDIUM,
                seq=1,
                updated_at=1_000 + t.id,
            )
            for t in tags
        ],
        [
            AlarmTransition(
                tag_id=t.id,
                condition=ConditionKind.H,
                seq=1,
                at=1_000 + t.id,
                from_state=AlarmState.NORMAL,
                to_state=AlarmState.UNACKED,
                input=AlarmInput.ACTIVATE,
                actor="system",
                cause="H limit",
            )
            for t in tags
        ],
    )
    DeadLetterRepository(db).add(
        [
            DeadLetter(
                received=2_000,
                source="test",
                reason=RejectReason.OUT_OF_RANGE,
                scope_path=t.scope_path,
                tag_key=t.key,
            )
            for t in tags
        ]
    )


def test_an_enterprise_grant_sees_only_its_enterprise(
    db: Database, stored_tags: dict[str, Tag], grant_on: Callable[..., Grant]
) -> None:
    tags = list(stored_tags.values())
    _fill(db, tags)
    plants = PlantRepository(db)
    grant = grant_on("east", "acid")
    ours = {t.key for t in tags if t.key.startswith("acid.")}
    assert ours and len(ours) < len(tags)

    assert {t.key for t in plants.tags_in(grant)} == ours
    assert {t.key for t in plants.search_tags(grant)} == ours
    nodes = plants.nodes(grant)
    assert nodes[0].key == "acid"
    assert all(grant.allows(n.path) for n in nodes)
    assert {n.key for n in nodes} == {"acid", "main", "storage", "t101", "g1"}
    inventories = plants.inventories(grant)
    assert [i.inventory.chemical for i in inventories] == ["chlorine", "ammonia"]
    ids = {t.id for t in tags if t.key in ours}
    assert {a.tag_id for a in AlarmRepository(db).list(grant)} == ids
    assert {t.tag_id for t in AlarmRepository(db).journal(grant)} == ids
    letters = DeadLetterRepository(db).list(grant)
    assert {s.letter.tag_key for s in letters} == ours


def test_a_park_grant_sees_its_enterprises_and_two_grants_add_up(
    db: Database, stored_tags: dict[str, Tag], grant_on: Callable[..., Grant]
) -> None:
    tags = list(stored_tags.values())
    _fill(db, tags)
    plants = PlantRepository(db)
    east = grant_on("east")
    east_keys = {t.key for t in tags if t.key.split(".")[0] in {"acid", "salt"}}
    assert {t.key for t in plants.tags_in(east)} == east_keys
    both = Grant(grant_on("east", "salt").prefixes + grant_on("west", "steel").prefixes)
    expected = {t.key for t in tags if t.key.split(".")[0] in {"salt", "steel"}}
    assert {t.key for t in plants.tags_in(both)} == expected
    assert {a.tag_id for a in AlarmRepository(db).list(both)} == {
        t.id for t in tags if t.key in expected
    }


def test_no_prefix_or_a_wildcard_prefix_sees_nothing(
    db: Database, stored_tags: dict[str, Tag]
) -> None:
    tags = list(stored_tags.values())
    _fill(db, tags)
    plants = PlantRepository(db)
    for grant in (Grant(()), Grant(("%",)), Grant(("_",)), Grant(("/%",))):
        assert plants.tags_in(grant) == []
        assert plants.nodes(grant) == []
        assert plants.inventories(grant) == []
        assert plants.locations(grant) == {}
        assert AlarmRepository(db).list(grant) == []
        assert AlarmRepository(db).journal(grant) == []
        assert DeadLetterRepository(db).list(grant) == []
    assert len(plants.tags_in(Grant.everything())) == len(tags)
