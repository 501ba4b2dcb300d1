from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from hazwatch.connectors.http.decode import (
    Decoded,
    Intake,
    PayloadError,
    TagRef,
    decode_csv,
    decode_json,
)
from hazwatch.domain.batch import Quality
from hazwatch.domain.reject import RejectReason

NOW = 1_800_000_000_000
TAGS = {
    "a.s.i.q.level": TagRef(id=1, scope_path="/1/2/"),
    "b.s.i.q.level": TagRef(id=2, scope_path="/1/3/"),
}


def _decode(body: bytes, *, limit: int = 100, allowed_prefix: str = "/") -> Decoded:
    return decode_json(body, _intake(allowed_prefix=allowed_prefix, limit=limit))


def _intake(*, allowed_prefix: str = "/", limit: int = 100) -> Intake:
    return Intake(
        resolve=TAGS.get,
        allowed=lambda path: path.startswith(allowed_prefix),
        source="test",
        sender_path=allowed_prefix,
        now=NOW,
        limit=limit,
    )


def test_good_readings_become_a_batch_with_iso_and_epoch_stamps() -> None:
    body = orjson.dumps(
        {
            "readings": [
                {"tag": "a.s.i.q.level", "ts": "2027-01-15T08:00:00+08:00", "value": 61.5},
                {"tag": "b.s.i.q.level", "ts": NOW, "value": 3, "quality": "bad"},
            ]
        }
    )
    decoded = _decode(body)
    midnight_utc = int(datetime(2027, 1, 15, tzinfo=UTC).timestamp() * 1000)
    assert decoded.batch.tag.tolist() == [1, 2]
    assert decoded.batch.ts.tolist() == [midnight_utc, NOW]
    assert decoded.batch.quality.tolist() == [Quality.GOOD, Quality.BAD]
    assert decoded.refused == ()


def test_each_bad_reading_is_refused_with_its_reason_and_the_rest_kept() -> None:
    body = orjson.dumps(
        {
            "readings": [
                {"tag": "a.s.i.q.level", "ts": NOW, "value": 1.0},
                {"tag": "nope", "ts": NOW, "value": 1.0},
                {"tag": "a.s.i.q.level", "ts": NOW, "value": "high"},
                {"tag": "a.s.i.q.level", "ts": "yesterday", "value": 1.0},
                {"tag": "a.s.i.q.level", "ts": NOW, "value": True},
                {"tag": 7, "ts": NOW, "value": 1.0},
                "not an object",
                {"tag": "a.s.i.q.level", "ts": NOW + 1, "value": 2.0, "quality": "dreadful"},
                {"tag": "b.s.i.q.level", "ts": NOW + 2, "value": 3.0},
            ]
        }
    )
    decoded = _decode(body)
    assert decoded.batch.value.tolist() == [1.0, 3.0]
    reasons = [d.reason for d in decoded.refused]
    assert reasons == [
        RejectReason.UNKNOWN_TAG,
        RejectReason.MALFORMED,
        RejectReason.MALFORMED,
        RejectReason.MALFORMED,
        RejectReason.MALFORMED,
        RejectReason.MALFORMED,
        RejectReason.MALFORMED,
    ]
    assert decoded.total == 9
    assert all("reading" in d.detail for d in decoded.refused)


def test_a_tag_outside_the_senders_scope_is_forbidden() -> None:
    body = orjson.dumps(
        {
            "readings": [
                {"tag": "a.s.i.q.level", "ts": NOW, "value": 1},
                {"tag": "b.s.i.q.level", "ts": NOW, "value": 2},
            ]
        }
    )
    decoded = _decode(body, allowed_prefix="/1/2/")
    assert decoded.batch.tag.tolist() == [1]
    assert [d.reason for d in decoded.refused] == [RejectReason.FORBIDDEN]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", RejectReason.MALFORMED),
        (b'{"values": []}', RejectReason.MALFORMED),
        (b"[1, 2]", RejectReason.MALFORMED),
        (
            orjson.dumps({"readings": [{"tag": "x", "ts": 1, "value": 1}] * 101}),
            RejectReason.OVERSIZED,
        ),
    ],
)
def test_an_unreadable_or_oversized_payload_is_refused_whole(
    body: bytes, reason: RejectReason
) -> None:
    with pytest.raises(PayloadError) as info:
        _decode(body)
    assert info.value.reason is reason


def test_csv_with_quality_column() -> None:
    body = (
        "tag,ts,value,quality\n"
        f"a.s.i.q.level,{NOW},12.5,good\n"
        f"b.s.i.q.level,2027-01-15T00:00:00Z,7,uncertain\n"
        f"a.s.i.q.level,{NOW + 1},abc,good\n"
    ).encode()
    decoded = decode_csv(body, _intake(limit=10))
    assert decoded.batch.value.tolist() == [12.5, 7.0]
    assert decoded.batch.quality.tolist() == [Quality.GOOD, Quality.UNCERTAIN]
    assert [d.reason for d in decoded.refused] == [RejectReason.MALFORMED]


def test_csv_without_the_needed_columns_is_refused() -> None:
    with pytest.raises(PayloadError):
        decode_csv(b"name,value\nx,1\n", _intake(limit=10))
