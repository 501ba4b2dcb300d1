"""Decoding of MQTT JSON messages: the three payload forms, and every kind of bad input."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from hazwatch.connectors.mqtt.decode import Decoded, Decoder
from hazwatch.domain.batch import Quality
from hazwatch.domain.clock import MAX_MILLIS as MAX_TS
from hazwatch.domain.reject import RejectReason

NOW = 1_800_000_100_000
TS = 1_800_000_000_000
LEVEL = "lpg.main.sphere-farm.tk-201.level"
PRESSURE = "lpg.main.sphere-farm.tk-201.pressure"
FOREIGN = "acme.main.farm.tk-1.level"
IDS = {LEVEL: 11, PRESSURE: 12, FOREIGN: 21}
TOPIC = "hazwatch/v1/lpg/main/sphere-farm"


class CountingResolve:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, key: str) -> int | None:
        self.calls.append(key)
        return IDS.get(key)


def _decoder(max_payload_bytes: int = 10_000) -> Decoder:
    return Decoder(IDS.get, source="mqtt:test", max_payload_bytes=max_payload_bytes)


def _decode(*payloads: object, topic: str = TOPIC, decoder: Decoder | None = None) -> Decoded:
    messages = [(topic, p if isinstance(p, bytes) else orjson.dumps(p)) for p in payloads]
    return (decoder or _decoder()).decode(messages, NOW)


def _rows(decoded: Decoded) -> list[tuple[int, int, float, int]]:
    b = decoded.batch
    return list(
        zip(b.tag.tolist(), b.ts.tolist(), b.value.tolist(), b.quality.tolist(), strict=True)
    )


def _reasons(decoded: Decoded) -> list[RejectReason]:
    return [letter.reason for letter in decoded.refused]


# The three forms.


def test_one_reading() -> None:
    decoded = _decode({"tag": LEVEL, "ts": TS, "value": 61.2, "quality": "good"})
    assert _rows(decoded) == [(11, TS, 61.2, Quality.GOOD)]
    assert decoded.refused == ()
    assert (decoded.messages, decoded.readings, decoded.batch.received) == (1, 1, NOW)


def test_one_reading_with_iso_time_integer_value_and_a_quality_code() -> None:
    decoded = _decode({"tag": LEVEL, "ts": "2027-01-15T08:00:00+08:00", "value": 3, "quality": 2})
    midnight = int(datetime(2027, 1, 15, tzinfo=UTC).timestamp() * 1000)
    assert _rows(decoded) == [(11, midnight, 3.0, Quality.BAD)]


def test_rows() -> None:
    decoded = _decode(
        {
            "readings": [
                {"tag": LEVEL, "ts": TS, "value": 1.5},
                {"tag": PRESSURE, "ts": TS + 1, "value": 0.8, "quality": "Uncertain"},
            ]
        }
    )
    assert _rows(decoded) == [(11, TS, 1.5, 0), (12, TS + 1, 0.8, 1)]
    assert decoded.readings == 2


def test_columns_with_a_time_each() -> None:
    decoded = _decode(
        {"tag": [LEVEL, PRESSURE], "ts": [TS, TS + 5], "value": [1.0, 2], "quality": [0, 1]}
    )
    assert _rows(decoded) == [(11, TS, 1.0, 0), (12, TS + 5, 2.0, 1)]


def test_columns_with_one_time_and_quality_for_all() -> None:
    decoded = _decode({"tag": [LEVEL, PRESSURE], "ts": TS, "value": [1.0, 2.0]})
    assert _rows(decoded) == [(11, TS, 1.0, 0), (12, TS, 2.0, 0)]
    decoded = _decode(
        {"tag": [LEVEL, PRESSURE], "ts": "2027-01-15T00:00:00Z", "value": [1, 2], "quality": "bad"}
    )
    midnight = int(datetime(2027, 1, 15, tzinfo=UTC).timestamp() * 1000)
    assert _rows(decoded) == [(11, midnight, 1.0, 2), (12, midnight, 2.0, 2)]


def test_columns_with_strings_in_the_columns_take_the_careful_path() -> None:
    decoded = _decode(
        {
            "tag": [LEVEL, PRESSURE],
            "ts": ["2027-01-15T00:00:00Z", TS],
            "value": [1, 2.5],
            "quality": ["good", "uncertain"],
        }
    )
    midnight = int(datetime(2027, 1, 15, tzinfo=UTC).timestamp() * 1000)
    assert _rows(decoded) == [(11, midnight, 1.0, 0), (12, TS, 2.5, 1)]


def test_empty_columns_are_nothing_to_refuse() -> None:
    decoded = _decode({"tag": [], "ts": [], "value": []})
    assert len(decoded.batch) == 0
    assert decoded.refused == ()


def test_many_messages_of_all_forms_make_one_batch_in_order() -> None:
    decoded = _decode(
        {"tag": LEVEL, "ts": TS, "value": 1},
        {"readings": [{"tag": PRESSURE, "ts": TS, "value": 2}]},
        {"tag": [LEVEL, PRESSURE], "ts": TS, "value": [3, 4]},
    )
    assert decoded.batch.value.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert decoded.batch.tag.dtype.name == "int32"
    assert (decoded.messages, decoded.readings) == (3, 4)


def test_keys_are_resolved_once_and_remembered() -> None:
    resolve = CountingResolve()
    decoder = Decoder(resolve, source="mqtt:test", max_payload_bytes=10_000)
    for _ in range(3):
        _decode({"tag": [LEVEL, PRESSURE], "ts": TS, "value": [1, 2]}, decoder=decoder)
        _decode({"tag": LEVEL, "ts": TS, "value": 1}, decoder=decoder)
    assert sorted(resolve.calls) == [LEVEL, PRESSURE]
    decoder.forget()
    _decode({"tag": LEVEL, "ts": TS, "value": 1}, decoder=decoder)
    assert resolve.calls.count(LEVEL) == 2


def test_unknown_keys_are_asked_again_as_they_may_become_known() -> None:
    resolve = CountingResolve()
    decoder = Decoder(resolve, source="mqtt:test", max_payload_bytes=10_000)
    unknown = "lpg.main.sphere-farm.tk-999.level"
    for _ in range(2):
        assert _reasons(_decode({"tag": unknown, "ts": TS, "value": 1}, decoder=decoder)) == [
            RejectReason.UNKNOWN_TAG
        ]
    assert resolve.calls == [unknown, unknown]


# Foreign enterprises.


@pytest.mark.parametrize(
    ("payload", "kept"),
    [
        ({"tag": FOREIGN, "ts": TS, "value": 9}, []),
        (
            {
                "readings": [
                    {"tag": LEVEL, "ts": TS, "value": 1},
                    {"tag": FOREIGN, "ts": TS, "value": 9},
                ]
            },
            [1.0],
        ),
        ({"tag": [LEVEL, FOREIGN], "ts": TS, "value": [1, 9]}, [1.0]),
    ],
    ids=["one", "rows", "columns"],
)
def test_a_key_of_another_enterprise_is_forbidden_and_not_looked_up(
    payload: object, kept: list[float]
) -> None:
    resolve = CountingResolve()
    decoder = Decoder(resolve, source="mqtt:test", max_payload_bytes=10_000)
    decoded = _decode(payload, decoder=decoder)
    assert _reasons(decoded) == [RejectReason.FORBIDDEN]
    letter = decoded.refused[0]
    assert letter.tag_key == FOREIGN
    assert letter.value == 9.0
    assert "'lpg'" in letter.detail and TOPIC in letter.detail
    assert FOREIGN not in resolve.calls
    assert decoded.batch.value.tolist() == kept


def test_the_same_key_is_fine_on_its_own_enterprise_topic() -> None:
    decoded = _decode({"tag": FOREIGN, "ts": TS, "value": 9}, topic="hazwatch/v1/acme/x")
    assert _rows(decoded) == [(21, TS, 9.0, 0)]


# Whole messages refused.


@pytest.mark.parametrize(
    ("payload", "detail"),
    [
        (b'{"tag": "lpg', "not UTF-8 JSON"),
        (b'{"tag": "\xff"}', "not UTF-8 JSON"),
        (b"", "not UTF-8 JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'"text"', "expected a JSON object"),
        (b'{"value": 1}', "expected a JSON object"),
        (b'{"tag": 5, "ts": 1, "value": 1}', "expected a JSON object"),
        (b'{"readings": {"tag": "x"}}', '"readings" must be a list'),
        (b'{"tag": ["a"], "ts": 1, "value": 1}', '"value" must be a list as long as "tag"'),
        (b'{"tag": ["a"], "ts": 1, "value": [1, 2]}', '"value" must be a list as long as "tag"'),
        (b'{"tag": ["a"], "ts": [1, 2], "value": [1]}', '"ts" must be one time or a list'),
        (b'{"tag": ["a"], "ts": true, "value": [1]}', '"ts" must be epoch milliseconds'),
        (b'{"tag": ["a"], "value": [1]}', '"ts" must be epoch milliseconds'),
        (b'{"tag": ["a"], "ts": 1, "value": [1], "quality": [0, 0]}', '"quality" must be one'),
        (b'{"tag": ["a"], "ts": 1, "value": [1], "quality": "fine"}', '"quality" must be good'),
    ],
)
def test_an_unreadable_message_is_refused_whole_with_an_excerpt(
    payload: bytes, detail: str
) -> None:
    decoded = _decode(payload)
    assert len(decoded.batch) == 0
    (letter,) = decoded.refused
    assert letter.reason is RejectReason.MALFORMED
    assert detail in letter.detail
    assert letter.detail.startswith(TOPIC)
    assert letter.payload == payload.decode("utf-8", errors="replace")
    assert (letter.received, letter.source) == (NOW, "mqtt:test")


@pytest.mark.parametrize(
    "topic", ["other/lpg/x", "hazwatch/v2/lpg/x", "hazwatch/v1/LPG/x", "hazwatch/v1//x"]
)
def test_a_topic_outside_the_convention_is_refused(topic: str) -> None:
    decoded = _decode({"tag": LEVEL, "ts": TS, "value": 1}, topic=topic)
    assert _reasons(decoded) == [RejectReason.MALFORMED]
    assert "topic is not hazwatch/v1/<enterprise>/" in decoded.refused[0].detail


def test_an_oversized_message_is_refused_with_an_excerpt() -> None:
    body = orjson.dumps({"tag": [LEVEL] * 500, "ts": TS, "value": [1.0] * 500})
    decoded = _decode(body, decoder=_decoder(max_payload_bytes=1000))
    (letter,) = decoded.refused
    assert letter.reason is RejectReason.OVERSIZED
    assert f"{len(body)} bytes; at most 1000" in letter.detail
    assert letter.payload is not None and body.decode().startswith(letter.payload)
    assert len(letter.payload) == 2000


def test_a_message_refused_whole_does_not_stop_the_others() -> None:
    decoded = _decode(b"nonsense", {"tag": LEVEL, "ts": TS, "value": 4})
    assert _rows(decoded) == [(11, TS, 4.0, 0)]
    assert _reasons(decoded) == [RejectReason.MALFORMED]
    assert decoded.messages == 2


# Single readings refused, the others kept.


@pytest.mark.parametrize(
    ("reading", "reason", "detail"),
    [
        ({"ts": TS, "value": 1}, RejectReason.MALFORMED, '"tag" must be a tag key'),
        ({"tag": "", "ts": TS, "value": 1}, RejectReason.MALFORMED, '"tag" must be a tag key'),
        ({"tag": ["x"], "ts": TS, "value": 1}, RejectReason.MALFORMED, '"tag" must be'),
        ({"tag": "lpg.main.level", "ts": TS, "value": 1}, RejectReason.MALFORMED, "is not a key"),
        ({"tag": "lpg.Main.a.b.c", "ts": TS, "value": 1}, RejectReason.MALFORMED, "is not a key"),
        ({"tag": "lpg.a.b.c.unknown", "ts": TS, "value": 1}, RejectReason.UNKNOWN_TAG, "unknown"),
        ({"tag": LEVEL, "value": 1}, RejectReason.MALFORMED, '"ts" must be'),
        ({"tag": LEVEL, "ts": -1, "value": 1}, RejectReason.MALFORMED, '"ts" must be'),
        ({"tag": LEVEL, "ts": MAX_TS + 1, "value": 1}, RejectReason.MALFORMED, '"ts" must be'),
        ({"tag": LEVEL, "ts": True, "value": 1}, RejectReason.MALFORMED, '"ts" must be'),
        ({"tag": LEVEL, "ts": "2027-01-15T08:00:00", "value": 1}, RejectReason.MALFORMED, "zone"),
        ({"tag": LEVEL, "ts": "yesterday", "value": 1}, RejectReason.MALFORMED, '"ts" must be'),
        ({"tag": LEVEL, "ts": TS}, RejectReason.MALFORMED, '"value" must be a number'),
        ({"tag": LEVEL, "ts": TS, "value": None}, RejectReason.MALFORMED, '"value" must be'),
        ({"tag": LEVEL, "ts": TS, "value": "61.2"}, RejectReason.MALFORMED, '"value" must be'),
        ({"tag": LEVEL, "ts": TS, "value": True}, RejectReason.MALFORMED, '"value" must be'),
        ({"tag": LEVEL, "ts": TS, "value": 1, "quality": 3}, RejectReason.MALFORMED, "quality"),
        ({"tag": LEVEL, "ts": TS, "value": 1, "quality": "ok"}, RejectReason.MALFORMED, "quality"),
        ({"tag": LEVEL, "ts": TS, "value": 1, "quality": True}, RejectReason.MALFORMED, "quality"),
    ],
)
@pytest.mark.parametrize("form", ["one", "rows", "columns"])
def test_a_bad_reading_is_refused_with_its_reason_and_the_others_kept(
    reading: dict[str, object], reason: RejectReason, detail: str, form: str
) -> None:
    good = {"tag": PRESSURE, "ts": TS, "value": 7.5}
    if form == "one":
        decoded = _decode(reading, good)
        if not isinstance(reading.get("tag"), str):  # not the one-reading form: refused whole
            assert _rows(decoded) == [(12, TS, 7.5, 0)]
            assert _reasons(decoded) == [RejectReason.MALFORMED]
            assert decoded.refused[0].payload == orjson.dumps(reading).decode()
            return
    elif form == "rows":
        decoded = _decode({"readings": [reading, good]})
    else:
        fields = ("tag", "ts", "value", "quality")
        columns = {f: [reading.get(f), good.get(f)] for f in fields}
        if columns["quality"] == [None, None]:
            del columns["quality"]
        decoded = _decode(columns)
    assert _rows(decoded) == [(12, TS, 7.5, 0)]
    (letter,) = decoded.refused
    assert letter.reason is reason
    assert detail in letter.detail
    if form != "one":
        assert f"{TOPIC}: reading 0: " in letter.detail
    key = reading.get("tag")
    assert letter.tag_key == (key if isinstance(key, str) and key else None)
    assert letter.payload is not None and orjson.loads(letter.payload).get("tag") == reading.get(
        "tag"
    )


def test_a_row_that_is_not_an_object_is_refused() -> None:
    decoded = _decode({"readings": [[LEVEL, TS, 1], {"tag": LEVEL, "ts": TS, "value": 2}]})
    assert _rows(decoded) == [(11, TS, 2.0, 0)]
    assert decoded.refused[0].detail.endswith("reading 0: reading is not an object")


def test_a_refused_reading_keeps_what_could_be_read_of_it() -> None:
    decoded = _decode({"tag": "lpg.a.b.c.unknown", "ts": "2027-01-15T00:00:00Z", "value": 5})
    (letter,) = decoded.refused
    midnight = int(datetime(2027, 1, 15, tzinfo=UTC).timestamp() * 1000)
    assert (letter.tag_key, letter.ts, letter.value) == ("lpg.a.b.c.unknown", midnight, 5.0)
    assert letter.scope_path == "/"


def test_numbers_at_the_edges_of_json() -> None:
    decoded = _decode(
        {"tag": LEVEL, "ts": TS, "value": 18446744073709551615},
        {"tag": [LEVEL, PRESSURE], "ts": [0, MAX_TS], "value": [-1e308, 5]},
    )
    assert decoded.batch.value.tolist() == [18446744073709551615.0, -1e308, 5.0]
    assert decoded.batch.ts.tolist() == [TS, 0, MAX_TS]
    assert decoded.refused == ()


def test_server_timestamps_travel_in_every_form_and_a_bad_one_is_refused() -> None:
    decoded = _decode(
        {"tag": [LEVEL, PRESSURE], "ts": TS, "value": [1.0, 2.0], "server_ts": [TS + 5, 0]},
        {"tag": LEVEL, "ts": TS + 1, "value": 3.0, "server_ts": TS + 6},
        {"readings": [{"tag": PRESSURE, "ts": TS + 2, "value": 4.0, "server_ts": "bad"}]},
        {"tag": [LEVEL], "ts": TS + 3, "value": [5.0], "server_ts": [-1]},
    )
    assert decoded.batch.server_ts is not None
    assert decoded.batch.server_ts.tolist() == [TS + 5, 0, TS + 6]
    assert _reasons(decoded) == [RejectReason.MALFORMED, RejectReason.MALFORMED]
    assert "server_ts" in decoded.refused[0].detail and "server_ts" in decoded.refused[1].detail


def test_without_server_timestamps_a_batch_has_none() -> None:
    assert _decode({"tag": [LEVEL], "ts": TS, "value": [1.0]}).batch.server_ts is None
