"""Encoding batches into column-form messages, and the gateway's local tag numbering."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pytest

from hazwatch.connectors.http.decode import Intake, TagRef, decode_json
from hazwatch.domain.batch import Batch, Quality
from hazwatch.gateway.encode import decode_columns, encode_batch, report_message, rows_body
from hazwatch.gateway.keys import TagKeys

NOW = 1_800_000_000_000


def _keys(*names: str) -> TagKeys:
    keys = TagKeys("lpg")
    for name in names:
        assert keys.resolve(name) is not None
    return keys


def test_a_batch_becomes_messages_of_at_most_the_limit_with_tag_keys() -> None:
    keys = _keys("lpg.main.farm.tk-1.level", "lpg.main.farm.tk-1.pressure")
    batch = Batch.of(
        tag=[0, 1] * 5,
        ts=[NOW + i for i in range(10)],
        value=[float(i) for i in range(10)],
        received=NOW,
    )
    encoded = encode_batch(batch, keys.table(), limit=4)
    assert [m.readings for m in encoded.messages] == [4, 4, 2]
    assert encoded.unknown == 0
    first = orjson.loads(encoded.messages[0].body)
    assert first == {
        "tag": ["lpg.main.farm.tk-1.level", "lpg.main.farm.tk-1.pressure"] * 2,
        "ts": [NOW, NOW + 1, NOW + 2, NOW + 3],
        "value": [0.0, 1.0, 2.0, 3.0],
    }
    decoded = [decode_columns(m.body) for m in encoded.messages]
    assert np.concatenate([d.value for d in decoded]).tolist() == batch.value.tolist()
    assert np.concatenate([d.ts for d in decoded]).tolist() == batch.ts.tolist()


def test_a_shared_timestamp_is_written_once_and_bad_quality_is_kept() -> None:
    keys = _keys("lpg.main.farm.tk-1.level", "lpg.main.farm.tk-2.level")
    batch = Batch.of(
        tag=[0, 1],
        ts=[NOW, NOW],
        value=[1.5, 2.5],
        quality=[Quality.GOOD, Quality.BAD],
        received=NOW,
    )
    (message,) = encode_batch(batch, keys.table(), limit=100).messages
    doc = orjson.loads(message.body)
    assert doc["ts"] == NOW
    assert doc["quality"] == [0, 2]
    back = decode_columns(message.body)
    assert back.ts.tolist() == [NOW, NOW]
    assert back.quality.tolist() == [0, 2]


def test_non_finite_values_travel_as_null_and_come_back_as_nan() -> None:
    keys = _keys("lpg.main.farm.tk-1.level")
    batch = Batch.of(tag=[0, 0], ts=[NOW, NOW + 1], value=[math.nan, math.inf], received=NOW)
    (message,) = encode_batch(batch, keys.table(), limit=10).messages
    assert orjson.loads(message.body)["value"] == [None, None]
    assert np.isnan(decode_columns(message.body).value).all()


def test_ids_without_a_key_are_left_out_and_counted() -> None:
    keys = _keys("lpg.main.farm.tk-1.level")
    batch = Batch.of(tag=[0, 7, -1, 0], ts=[1, 2, 3, 4], value=[1, 2, 3, 4], received=NOW)
    encoded = encode_batch(batch, keys.table(), limit=10)
    assert encoded.unknown == 2
    assert decode_columns(encoded.messages[0].body).ts.tolist() == [1, 4]


def test_an_empty_batch_makes_no_message() -> None:
    assert encode_batch(Batch.empty(NOW), _keys().table(), limit=10).messages == ()


def _http_intake(keys: TagKeys) -> Intake:
    """What ``POST /api/v1/ingest`` knows: the tags of ``keys``, all in the sender's scope."""
    return Intake(
        resolve=lambda k: TagRef(id=keys.resolve(k) or 0, scope_path="/1/"),
        allowed=lambda path: True,
        source="http",
        sender_path="/1/",
        now=NOW,
        limit=100,
    )


def test_rows_form_is_what_http_ingest_reads() -> None:
    keys = _keys("lpg.main.farm.tk-1.level", "lpg.main.farm.tk-2.level")
    batch = Batch.of(
        tag=[0, 1, 0],
        ts=[NOW, NOW + 1, NOW + 2],
        value=[1.0, 2.0, math.nan],
        quality=[0, 1, 0],
        received=NOW,
    )
    (message,) = encode_batch(batch, keys.table(), limit=10).messages
    intake = _http_intake(keys)
    decoded = decode_json(rows_body(message.body), intake)
    assert decoded.batch.ts.tolist() == [NOW, NOW + 1]
    assert decoded.batch.quality.tolist() == [0, 1]
    assert len(decoded.refused) == 1, "a NaN is refused by the platform, not lost on the way"


def test_a_report_is_one_reading() -> None:
    message = report_message("lpg.main.gw.edge.dropped", NOW, 42.0)
    assert message.readings == 1
    assert orjson.loads(message.body) == {
        "tag": ["lpg.main.gw.edge.dropped"],
        "ts": NOW,
        "value": [42.0],
    }


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{", "JSON"),
        (b'{"tag": "a"}', "tag"),
        (b'{"tag": ["a"], "ts": [1, 2], "value": [1]}', "ts"),
        (b'{"tag": ["a"], "ts": 1, "value": []}', "value"),
        (b'{"tag": [1], "ts": 1, "value": [1]}', "tag"),
    ],
)
def test_what_is_not_a_column_message_is_refused(body: bytes, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        decode_columns(body)


def test_the_gateway_numbers_its_own_enterprise_keys_only() -> None:
    keys = TagKeys("lpg")
    a = keys.resolve("lpg.main.farm.tk-1.level")
    assert a == 0
    assert keys.resolve("lpg.main.farm.tk-1.level") == a
    assert keys.resolve("lpg.main.farm.tk-2.level") == 1
    assert keys.resolve("chlor.main.farm.tk-1.level") is None, "another enterprise's tag"
    assert keys.resolve("lpg.main.farm.level") is None, "four segments"
    assert keys.resolve("lpg.main.farm.TK.level") is None, "upper case"
    assert keys.key_of(1) == "lpg.main.farm.tk-2.level"
    assert keys.table().tolist() == ["lpg.main.farm.tk-1.level", "lpg.main.farm.tk-2.level"]


def test_server_timestamps_reach_the_platform_by_mqtt_and_by_http() -> None:
    keys = _keys("lpg.main.farm.tk-1.level", "lpg.main.farm.tk-2.level")
    batch = Batch.of(
        tag=[0, 1], ts=[NOW, NOW], value=[1.0, 2.0], received=NOW, server_ts=[NOW + 7, 0]
    )
    (message,) = encode_batch(batch, keys.table(), limit=10).messages
    columns = decode_columns(message.body)
    assert columns.server_ts is not None and columns.server_ts.tolist() == [NOW + 7, 0]
    intake = _http_intake(keys)
    decoded = decode_json(rows_body(message.body), intake)
    assert decoded.batch.server_ts is not None
    assert decoded.batch.server_ts.tolist() == [NOW + 7, 0]
    plain = Batch.of(tag=[0], ts=[NOW], value=[1.0], received=NOW)
    (message,) = encode_batch(plain, keys.table(), limit=10).messages
    assert b"server_ts" not in message.body
