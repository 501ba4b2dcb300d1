"""Dead letters: bulk add, newest-first listing with ids, counts, retention."""

from __future__ import annotations

from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.scope import Grant
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository


def _letters() -> list[DeadLetter]:
    return [
        DeadLetter(
            received=1_000,
            source="mqtt:plant/acid",
            reason=RejectReason.UNKNOWN_TAG,
            detail="no tag acid.x",
            scope_path="/1/2/4/",
            tag_key="acid.x",
            ts=990,
            value=1.5,
        ),
        DeadLetter(
            received=3_000,
            source="http",
            reason=RejectReason.MALFORMED,
            detail="not JSON",
            payload="{oops",
        ),
        DeadLetter(
            received=2_000,
            source="mqtt:plant/steel",
            reason=RejectReason.OUT_OF_RANGE,
            detail="1200 above 1000",
            scope_path="/1/3/6/",
            tag_key="steel.mill.furnace.bf1.co",
            ts=1_990,
            value=1200.0,
        ),
        DeadLetter(
            received=2_000,
            source="mqtt:plant/acid",
            reason=RejectReason.UNKNOWN_TAG,
            scope_path="/1/2/4/",
            tag_key="acid.y",
            ts=1_995,
            value=float("inf"),
        ),
    ]


def test_letters_come_back_newest_first_with_ids(db: Database) -> None:
    repo = DeadLetterRepository(db)
    letters = _letters()
    repo.add(letters)
    repo.add([])
    stored = repo.list(Grant.everything())
    assert [s.letter for s in stored] == [letters[1], letters[3], letters[2], letters[0]]
    assert len({s.id for s in stored}) == len(letters)
    assert stored[1].id > stored[2].id  # equal times: the later insert first


def test_filters_counts_and_retention(db: Database) -> None:
    repo = DeadLetterRepository(db)
    letters = _letters()
    repo.add(letters)
    everything = Grant.everything()
    unknown = repo.list(everything, reason=RejectReason.UNKNOWN_TAG)
    assert [s.letter for s in unknown] == [letters[3], letters[0]]
    assert [s.letter for s in repo.list(everything, since=2_500)] == [letters[1]]
    assert len(repo.list(everything, limit=2)) == 2
    assert repo.count_by_reason() == {
        RejectReason.UNKNOWN_TAG: 2,
        RejectReason.MALFORMED: 1,
        RejectReason.OUT_OF_RANGE: 1,
    }
    assert repo.count_by_reason(Grant(("/1/2/",))) == {RejectReason.UNKNOWN_TAG: 2}
    assert repo.delete_before(2_000) == 1
    assert [s.letter for s in repo.list(everything)] == [letters[1], letters[3], letters[2]]


def test_many_letters_are_added_in_bulk(db: Database) -> None:
    repo = DeadLetterRepository(db)
    letters = [
        DeadLetter(
            received=i,
            source="sim",
            reason=RejectReason.NOT_FINITE,
            tag_key=f"t{i}",
            ts=i,
            value=None,
            payload=None if i % 2 else "x\ty\n\\z",
        )
        for i in range(500)
    ]
    repo.add(letters)
    stored = repo.list(Grant.everything(), limit=1000)
    assert [s.letter for s in stored] == letters[::-1]
