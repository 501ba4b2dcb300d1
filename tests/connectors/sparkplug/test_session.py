"""The host application's view of its edge nodes: births, aliases, sequence numbers,
deaths and refusals, fed with payloads built here."""

from __future__ import annotations

import math
from typing import Any

import pytest

from hazwatch.connectors.base import Health
from hazwatch.connectors.sparkplug import sparkplug_b_pb2 as pb
from hazwatch.connectors.sparkplug.session import Host, Outcome
from hazwatch.domain.batch import Quality
from hazwatch.domain.reject import RejectReason

NOW = 1_800_000_000_000
PREFIX = "lpg.main.sphere-farm"
NODE_EQ = f"{PREFIX}.gw-1"
DEV_EQ = f"{PREFIX}.gw-1-tk-201"
T = "spBv1.0/plant1"


def payload(*metrics: dict[str, Any], seq: int | None = None, ts: int | None = NOW - 5) -> bytes:
    body = pb.Payload()
    if ts is not None:
        body.timestamp = ts
    if seq is not None:
        body.seq = seq
    for fields in metrics:
        props = fields.pop("props", {})
        metric = body.metrics.add(**fields)
        for key, value in props.items():
            metric.properties.keys.append(key)
            if isinstance(value, str):
                metric.properties.values.add(type=pb.String, string_value=value)
            else:
                metric.properties.values.add(type=pb.Double, double_value=value)
    return body.SerializeToString()


def nbirth(seq: int = 0, bd: int = 1, *extra: dict[str, Any]) -> tuple[str, bytes]:
    return (
        f"{T}/NBIRTH/gw-1",
        payload(
            {"name": "bdSeq", "datatype": pb.Int64, "long_value": bd},
            {"name": "Node Control/Rebirth", "datatype": pb.Boolean, "boolean_value": False},
            {"name": "Uptime", "alias": 100, "datatype": pb.UInt32, "int_value": 7},
            *extra,
            seq=seq,
        ),
    )


def dbirth(seq: int = 1) -> tuple[str, bytes]:
    return (
        f"{T}/DBIRTH/gw-1/TK-201",
        payload(
            {
                "name": "Level",
                "alias": 1,
                "datatype": pb.Double,
                "double_value": 50.0,
                "props": {"engUnit": "%", "engLow": 0.0, "engHigh": 100.0},
            },
            {"name": "Running", "alias": 2, "datatype": pb.Boolean, "boolean_value": True},
            {"name": "Count", "alias": 3, "datatype": pb.Int8, "int_value": 0xFFFFFFFF},
            {"name": "Label", "alias": 4, "datatype": pb.String, "string_value": "sphere"},
            {"name": "Big", "alias": 5, "datatype": pb.Int64, "long_value": 2**64 - 2},
            seq=seq,
        ),
    )


def ddata(seq: int, *metrics: dict[str, Any], ts: int | None = NOW - 5) -> tuple[str, bytes]:
    return f"{T}/DDATA/gw-1/TK-201", payload(*metrics, seq=seq, ts=ts)


def ndeath(bd: int) -> tuple[str, bytes]:
    return f"{T}/NDEATH/gw-1", payload({"name": "bdSeq", "datatype": pb.Int64, "long_value": bd})


def readings(host: Host, out: Outcome) -> dict[str, list[tuple[int, float, int]]]:
    found: dict[str, list[tuple[int, float, int]]] = {}
    for slot, ts, value, quality in zip(out.slot, out.ts, out.value, out.quality, strict=True):
        found.setdefault(host.keys[slot], []).append((ts, value, quality))
    return found


@pytest.fixture
def host() -> Host:
    return Host({"plant1": PREFIX}, source="sp", rebirth_interval_ms=1000)


@pytest.fixture
def born(host: Host) -> Host:
    out = host.feed([nbirth(), dbirth()], NOW)
    assert not out.refused and not out.rebirths
    return host


def test_births_make_tags_of_numbers_and_booleans_only(host: Host) -> None:
    out = host.feed([nbirth(), dbirth()], NOW)
    declared = {host.declaration(s).key: host.declaration(s) for s in out.born}
    assert set(declared) == {
        f"{NODE_EQ}.uptime",
        f"{DEV_EQ}.level",
        f"{DEV_EQ}.running",
        f"{DEV_EQ}.count",
        f"{DEV_EQ}.big",
    }
    level = declared[f"{DEV_EQ}.level"]
    assert (level.name, level.unit, level.range_lo, level.range_hi) == ("Level", "%", 0.0, 100.0)
    assert declared[f"{DEV_EQ}.running"].unit == ""
    assert declared[f"{DEV_EQ}.running"].range_lo is None
    assert [n for n in out.notes if "Label" in n] == [
        "plant1/gw-1/TK-201 metric 'Label' is a String: not read "
        "(only numbers and booleans become tags)"
    ]
    assert out.devices == [(NODE_EQ, Health.ONLINE, "NBIRTH"), (DEV_EQ, Health.ONLINE, "DBIRTH")]


def test_birth_values_are_readings_with_signed_integers(host: Host) -> None:
    out = host.feed([nbirth(), dbirth()], NOW)
    seen = readings(host, out)
    assert seen[f"{NODE_EQ}.uptime"] == [(NOW - 5, 7.0, Quality.GOOD)]
    assert seen[f"{DEV_EQ}.level"] == [(NOW - 5, 50.0, Quality.GOOD)]
    assert seen[f"{DEV_EQ}.running"] == [(NOW - 5, 1.0, Quality.GOOD)]
    assert seen[f"{DEV_EQ}.count"] == [(NOW - 5, -1.0, Quality.GOOD)]  # Int8 sign-extended
    assert seen[f"{DEV_EQ}.big"] == [(NOW - 5, -2.0, Quality.GOOD)]


def test_a_rebirth_says_skipped_metrics_no_more(born: Host) -> None:
    out = born.feed([nbirth(seq=0, bd=1), dbirth(seq=1)], NOW)
    assert out.notes == []
    assert out.devices == []  # still online: nothing changed


def test_data_by_alias_and_by_name(born: Host) -> None:
    out = born.feed(
        [
            ddata(
                2,
                {"alias": 1, "double_value": 61.5, "timestamp": NOW - 100},
                {"alias": 2, "boolean_value": False},
                {"name": "Count", "int_value": 0xFF},  # Int8 -1 sent as 8 bits
            ),
            ddata(3, {"alias": 1, "double_value": 62.0}, ts=None),
        ],
        NOW,
    )
    assert not out.refused and not out.rebirths
    seen = readings(born, out)
    assert seen[f"{DEV_EQ}.level"] == [
        (NOW - 100, 61.5, Quality.GOOD),  # the metric's own timestamp
        (NOW, 62.0, Quality.GOOD),  # neither: the time received
    ]
    assert seen[f"{DEV_EQ}.running"] == [(NOW - 5, 0.0, Quality.GOOD)]  # the payload's
    assert seen[f"{DEV_EQ}.count"] == [(NOW - 5, -1.0, Quality.GOOD)]


def test_null_is_bad_and_quality_property_counts(born: Host) -> None:
    out = born.feed(
        [
            ddata(2, {"alias": 1, "is_null": True}),
            (f"{T}/DDATA/gw-1/TK-201", _with_quality(500, seq=3)),  # stale
            (f"{T}/DDATA/gw-1/TK-201", _with_quality(0, seq=4)),
            (f"{T}/DDATA/gw-1/TK-201", _with_quality(192, seq=5)),
        ],
        NOW,
    )
    level = readings(born, out)[f"{DEV_EQ}.level"]
    assert math.isnan(level[0][1]) and level[0][2] == Quality.BAD
    assert level[1:] == [
        (NOW - 5, 3.0, Quality.UNCERTAIN),
        (NOW - 5, 3.0, Quality.BAD),
        (NOW - 5, 3.0, Quality.GOOD),
    ]


def _with_quality(code: int, *, seq: int) -> bytes:
    body = pb.Payload(timestamp=NOW - 5, seq=seq)
    metric = body.metrics.add(alias=1, double_value=3.0)
    metric.properties.keys.append("Quality")
    metric.properties.values.add(type=pb.Int32, int_value=code)
    return body.SerializeToString()


def test_unknown_alias_is_refused_and_the_rest_read(born: Host) -> None:
    out = born.feed(
        [ddata(2, {"alias": 99, "double_value": 1.5}, {"alias": 1, "double_value": 70.0})], NOW
    )
    [letter] = out.refused
    assert letter.reason is RejectReason.UNKNOWN_TAG
    assert letter.detail == "plant1/gw-1/TK-201: unknown metric alias 99"
    assert (letter.ts, letter.value, letter.source) == (NOW - 5, 1.5, "sp")
    assert readings(born, out)[f"{DEV_EQ}.level"] == [(NOW - 5, 70.0, Quality.GOOD)]


def test_unknown_name_and_wrong_value_are_refused(born: Host) -> None:
    out = born.feed(
        [
            ddata(
                2,
                {"name": "Pressure", "double_value": 2.0},
                {"alias": 1, "string_value": "high"},
            )
        ],
        NOW,
    )
    unknown, wrong = out.refused
    assert unknown.reason is RejectReason.UNKNOWN_TAG
    assert unknown.detail == "plant1/gw-1/TK-201: unknown metric name 'Pressure'"
    assert unknown.tag_key == f"{DEV_EQ}.pressure"
    assert wrong.reason is RejectReason.MALFORMED
    assert wrong.tag_key == f"{DEV_EQ}.level"
    assert "string_value for a Double metric" in wrong.detail
    assert len(out) == 0


def test_data_before_birth_is_refused_and_asks_for_a_rebirth(host: Host) -> None:
    out = host.feed([ddata(5, {"alias": 1, "double_value": 1.0})], NOW)
    [letter] = out.refused
    assert letter.reason is RejectReason.UNKNOWN_TAG
    assert (
        letter.detail == "DDATA from plant1/gw-1/TK-201 before its NBIRTH: its metrics are unknown"
    )
    assert letter.payload is not None and letter.payload.startswith("base64:")
    [rebirth] = out.rebirths
    assert (rebirth.group, rebirth.edge_node) == ("plant1", "gw-1")
    # Asked again only once the interval has passed.
    assert host.feed([ddata(6, {"alias": 1, "double_value": 1.0})], NOW + 999).rebirths == []
    assert len(host.feed([ddata(7, {"alias": 1, "double_value": 1.0})], NOW + 1000).rebirths) == 1


def test_device_birth_before_node_birth_is_refused(host: Host) -> None:
    out = host.feed([dbirth()], NOW)
    assert "DBIRTH from plant1/gw-1/TK-201 before its NBIRTH" in out.refused[0].detail
    assert len(out.rebirths) == 1
    assert out.devices == []


def test_sequence_numbers_wrap_without_a_rebirth(host: Host) -> None:
    host.feed([nbirth(seq=253), dbirth(seq=254)], NOW)
    out = host.feed(
        [
            ddata(255, {"alias": 1, "double_value": 1.0}),
            ddata(0, {"alias": 1, "double_value": 2.0}),
        ],
        NOW,
    )
    assert out.rebirths == [] and len(out) == 2


@pytest.mark.parametrize(("last", "then"), [(10, 12), (255, 1), (254, 0), (7, 7)])
def test_a_sequence_gap_asks_for_a_rebirth_and_keeps_the_data(
    host: Host, last: int, then: int
) -> None:
    host.feed([nbirth(seq=(last - 1) % 256), dbirth(seq=last)], NOW)
    out = host.feed([ddata(then, {"alias": 1, "double_value": 5.0})], NOW)
    [rebirth] = out.rebirths
    assert rebirth.reason == f"sequence number {then} where {(last + 1) % 256} was due"
    assert len(out) == 1
    # Counting resumes from the number received.
    assert (
        host.feed([ddata((then + 1) % 256, {"alias": 1, "double_value": 6.0})], NOW + 5000).rebirths
        == []
    )


def test_gaps_are_ignored_without_rebirth_on_gap() -> None:
    host = Host({"plant1": PREFIX}, source="sp", rebirth_on_gap=False)
    host.feed([nbirth(), dbirth()], NOW)
    assert host.feed([ddata(9, {"alias": 1, "double_value": 5.0})], NOW).rebirths == []


def test_a_new_birth_ends_the_wait_for_a_rebirth(host: Host) -> None:
    host.feed([ddata(5, {"alias": 1, "double_value": 1.0})], NOW)
    host.feed([nbirth(seq=0, bd=2), dbirth(seq=1)], NOW + 1)
    out = host.feed([ddata(7, {"alias": 1, "double_value": 1.0})], NOW + 2)
    assert len(out.rebirths) == 1  # a gap right after the birth is asked about at once


def test_stale_node_death_is_ignored(born: Host) -> None:
    out = born.feed([ndeath(bd=0), ddata(2, {"alias": 1, "double_value": 9.0})], NOW)
    assert out.devices == []
    assert out.notes == [
        "plant1/gw-1: ignored the NDEATH of an earlier session (bdSeq 0; the current "
        "session's is 1)"
    ]
    assert len(out) == 1 and not out.refused


def test_node_death_takes_the_node_and_its_devices_offline(born: Host) -> None:
    out = born.feed([ndeath(bd=1), ddata(2, {"alias": 1, "double_value": 9.0})], NOW)
    assert out.devices == [
        (NODE_EQ, Health.OFFLINE, "NDEATH"),
        (DEV_EQ, Health.OFFLINE, "NDEATH of its edge node"),
    ]
    assert len(out) == 0
    assert "before its NBIRTH" in out.refused[0].detail
    # A second death (the will, after an NDEATH said on leaving) changes nothing.
    assert born.feed([ndeath(bd=1)], NOW).devices == []
    # The next birth brings the node and, with its DBIRTH, the device back.
    back = born.feed([nbirth(seq=0, bd=2), dbirth(seq=1)], NOW)
    assert back.devices == [(NODE_EQ, Health.ONLINE, "NBIRTH"), (DEV_EQ, Health.ONLINE, "DBIRTH")]


def test_device_death_takes_only_the_device_offline(born: Host) -> None:
    death = (f"{T}/DDEATH/gw-1/TK-201", payload(seq=2))
    node_data = (
        f"{T}/NDATA/gw-1",
        payload({"alias": 100, "int_value": 8}, seq=3),
    )
    out = born.feed([death, node_data, ddata(4, {"alias": 1, "double_value": 1.0})], NOW)
    assert out.devices == [(DEV_EQ, Health.OFFLINE, "DDEATH")]
    assert readings(born, out) == {f"{NODE_EQ}.uptime": [(NOW - 5, 8.0, Quality.GOOD)]}
    assert "DDATA from plant1/gw-1/TK-201 before its DBIRTH" in out.refused[0].detail
    assert len(out.rebirths) == 1


def test_undecodable_payloads_and_topics_are_refused_and_the_rest_read(born: Host) -> None:
    out = born.feed(
        [
            (f"{T}/DDATA/gw-1/TK-201", b"\xff\xff\xff garbage"),
            (f"{T}/BOGUS/gw-1", payload()),
            (f"{T}/DDATA/gw-1", payload()),
            ddata(2, {"alias": 1, "double_value": 4.0}),
        ],
        NOW,
    )
    garbage, bogus, short = out.refused
    assert garbage.reason is RejectReason.MALFORMED
    assert garbage.detail.startswith("spBv1.0/plant1/DDATA/gw-1/TK-201: not a Sparkplug B payload")
    assert garbage.payload == "base64:////IGdhcmJhZ2U="  # the bytes, in base64
    assert bogus.reason is RejectReason.MALFORMED
    assert "unknown Sparkplug message type 'BOGUS'" in bogus.detail
    assert "a DDATA topic is spBv1.0/<group>/DDATA/<edge node>/<device>" in short.detail
    assert readings(born, out) == {f"{DEV_EQ}.level": [(NOW - 5, 4.0, Quality.GOOD)]}


def test_commands_and_states_are_not_data(born: Host) -> None:
    out = born.feed(
        [
            (f"{T}/NCMD/gw-1", payload({"name": "Node Control/Rebirth", "boolean_value": True})),
            ("spBv1.0/STATE/other-host", b'{"online": true, "timestamp": 1}'),
        ],
        NOW,
    )
    assert (len(out), out.refused, out.rebirths) == (0, [], [])


def test_colliding_keys_keep_the_first_metric(host: Host) -> None:
    out = host.feed(
        [
            nbirth(
                0,
                1,
                {"name": "Level PV", "alias": 7, "datatype": pb.Double, "double_value": 1.0},
                {"name": "level/pv", "alias": 8, "datatype": pb.Double, "double_value": 2.0},
            ),
            (f"{T}/NDATA/gw-1", payload({"alias": 8, "double_value": 3.0}, seq=1)),
        ],
        NOW,
    )
    assert readings(host, out)[f"{NODE_EQ}.level-pv"] == [(NOW - 5, 1.0, Quality.GOOD)]
    at_birth, at_data = out.refused
    assert at_birth.detail == (
        f"metric 'level/pv' of plant1/gw-1 maps to tag {NODE_EQ}.level-pv, which metric "
        "'Level PV' of plant1/gw-1 already has: not read"
    )
    assert (at_data.tag_key, at_data.value) == (f"{NODE_EQ}.level-pv", 3.0)


def test_transient_and_control_metrics_are_not_tags(host: Host) -> None:
    out = host.feed(
        [
            nbirth(
                0,
                1,
                {
                    "name": "Setpoint",
                    "datatype": pb.Double,
                    "double_value": 1,
                    "is_transient": True,
                },
            )
        ],
        NOW,
    )
    keys = {host.keys[s] for s in out.born}
    assert keys == {f"{NODE_EQ}.uptime"}
    assert any("'Setpoint' is transient" in note for note in out.notes)


def test_unconfigured_group_is_refused(host: Host) -> None:
    out = host.feed([("spBv1.0/other/NDATA/gw-1", payload(seq=1))], NOW)
    assert out.refused[0].detail == "spBv1.0/other/NDATA/gw-1: group 'other' is not configured"
