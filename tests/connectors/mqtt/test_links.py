"""Link health over MQTT: decoding links messages, remembering what each sender said, and
the connector reporting changes of health (only changes) through its link."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from waiting import until as _until

from hazwatch.connectors.base import Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.mqtt import MqttConnector
from hazwatch.connectors.mqtt.decode import Decoded, Decoder
from hazwatch.connectors.mqtt.links import (
    MAX_DETAIL,
    LinkEntry,
    LinkMemory,
    LinksMessage,
    encode_links,
    last_will,
    links_topic,
    links_topic_of,
    parse_links,
)
from hazwatch.domain.reject import RejectReason

NOW = 1_800_000_100_000
TS = 1_800_000_000_000
LEVEL = "lpg.main.sphere-farm.tk-201.level"
PLC = "lpg.main.sphere-farm.plc-1"
PLC2 = "lpg.main.sphere-farm.plc-2"
TOPIC = "hazwatch/v1/lpg/links/edge-1"


def _decode(*messages: tuple[str, object], max_payload_bytes: int = 10_000) -> Decoded:
    decoder = Decoder({LEVEL: 11}.get, source="mqtt:test", max_payload_bytes=max_payload_bytes)
    encoded = [(t, p if isinstance(p, bytes) else orjson.dumps(p)) for t, p in messages]
    return decoder.decode(encoded, NOW)


def _links(*entries: dict[str, object], ts: int = TS) -> dict[str, object]:
    return {"ts": ts, "links": list(entries)}


def _entry(equipment: str, health: str, detail: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {"equipment": equipment, "health": health}
    if detail is not None:
        out["detail"] = detail
    return out


# decoding ------------------------------------------------------------------------------


def test_a_links_message_is_read_beside_readings_and_adds_none() -> None:
    decoded = _decode(
        (TOPIC, _links(_entry(PLC, "offline", "timeout [modbus.11]"), _entry(PLC2, "connecting"))),
        ("hazwatch/v1/lpg/main", {"tag": LEVEL, "ts": TS, "value": 61.2}),
    )
    assert decoded.refused == ()
    assert decoded.batch.tag.tolist() == [11]
    assert (decoded.messages, decoded.readings) == (2, 1)
    assert decoded.links == (
        LinksMessage(
            enterprise="lpg",
            sender="edge-1",
            ts=TS,
            links=(
                LinkEntry(equipment=PLC, health=Health.OFFLINE, detail="timeout [modbus.11]"),
                LinkEntry(equipment=PLC2, health=Health.CONNECTING, detail=""),
            ),
        ),
    )


def test_the_encoded_form_decodes_to_the_same_links_and_long_details_are_cut() -> None:
    entries = [
        LinkEntry(equipment=PLC, health=Health.DEGRADED, detail="one of two units answers"),
        LinkEntry(equipment=PLC2, health=Health.ONLINE),
    ]
    (message,) = _decode((TOPIC, encode_links(TS, entries))).links
    assert list(message.links) == entries
    (long,) = _decode((TOPIC, _links(_entry(PLC, "online", "x" * 5000)))).links
    assert long.links[0].detail == "x" * MAX_DETAIL


def test_a_link_of_another_enterprise_is_forbidden_and_the_others_still_count() -> None:
    foreign = "acme.main.farm.plc-9"
    decoded = _decode((TOPIC, _links(_entry(foreign, "offline"), _entry(PLC, "online"))))
    (message,) = decoded.links
    assert [e.equipment for e in message.links] == [PLC]
    (letter,) = decoded.refused
    assert letter.reason is RejectReason.FORBIDDEN
    assert letter.detail.startswith(f"{TOPIC}: link 0: ")
    assert "acme" in letter.detail
    assert letter.tag_key == f"{foreign}.link-status"


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ("offline", "not an object"),
        (_entry("lpg.main.sphere-farm", "offline"), "equipment key"),
        (_entry(LEVEL, "offline"), "equipment key"),
        ({"health": "offline"}, "equipment key"),
        (_entry(PLC, "down"), '"health" must be'),
        ({"equipment": PLC, "health": ["offline"]}, '"health" must be'),
        ({"equipment": PLC, "health": "online", "detail": 7}, '"detail" must be a string'),
    ],
)
def test_a_malformed_link_is_refused_on_its_own(entry: object, why: str) -> None:
    decoded = _decode((TOPIC, _links(entry, _entry(PLC2, "online"))))  # type: ignore[arg-type]
    (message,) = decoded.links
    assert [e.equipment for e in message.links] == [PLC2]
    (letter,) = decoded.refused
    assert letter.reason is RejectReason.MALFORMED
    assert why in letter.detail
    assert letter.payload


def test_a_link_listed_twice_counts_once() -> None:
    decoded = _decode((TOPIC, _links(_entry(PLC, "offline"), _entry(PLC, "online"))))
    assert [e.health for e in decoded.links[0].links] == [Health.OFFLINE]
    assert [letter.reason for letter in decoded.refused] == [RejectReason.MALFORMED]
    assert "listed twice" in decoded.refused[0].detail


@pytest.mark.parametrize(
    ("topic", "payload", "reason", "why"),
    [
        (TOPIC, b'{"ts": 1, "links": [', RejectReason.MALFORMED, "not UTF-8 JSON"),
        (TOPIC, b"[]", RejectReason.MALFORMED, "expected a JSON object"),
        (TOPIC, {"ts": TS}, RejectReason.MALFORMED, "expected a JSON object"),
        (TOPIC, {"ts": TS, "links": {}}, RejectReason.MALFORMED, "expected a JSON object"),
        (TOPIC, {"links": []}, RejectReason.MALFORMED, '"ts"'),
        (TOPIC, {"ts": "2027-01-01T00:00:00Z", "links": []}, RejectReason.MALFORMED, '"ts"'),
        (TOPIC, {"ts": -1, "links": []}, RejectReason.MALFORMED, '"ts"'),
        ("hazwatch/v1/lpg/links", _links(), RejectReason.MALFORMED, "links topic"),
        ("hazwatch/v1/lpg/links/a/b", _links(), RejectReason.MALFORMED, "links topic"),
        ("hazwatch/v1/LPG/links/a", _links(), RejectReason.MALFORMED, "links topic"),
        (TOPIC, {"ts": TS, "links": [], "pad": "x" * 200}, RejectReason.OVERSIZED, "bytes"),
    ],
)
def test_a_links_message_that_cannot_be_read_is_one_dead_letter(
    topic: str, payload: object, reason: RejectReason, why: str
) -> None:
    decoded = _decode((topic, payload), max_payload_bytes=100)
    assert decoded.links == ()
    (letter,) = decoded.refused
    assert letter.reason is reason
    assert letter.detail.startswith(f"{topic}: ")
    assert why in letter.detail
    assert letter.payload


def test_links_topics_are_told_from_reading_topics() -> None:
    assert links_topic("lpg", "edge-1") == TOPIC
    found = links_topic_of(TOPIC)
    assert found is not None
    assert (found.enterprise, found.sender, found.problem) == ("lpg", "edge-1", "")
    for readings in ("hazwatch/v1/lpg/main/links", "hazwatch/v1/lpg", "other/v1/lpg/links/x"):
        assert links_topic_of(readings) is None


# what each sender said -----------------------------------------------------------------


def _message(sender: str, **health: Health) -> LinksMessage:
    return LinksMessage(
        enterprise="lpg",
        sender=sender,
        ts=TS,
        links=tuple(
            LinkEntry(equipment=f"lpg.main.sphere-farm.{k}", health=h) for k, h in health.items()
        ),
    )


def test_only_changes_of_health_are_reported_per_sender() -> None:
    memory = LinkMemory()
    first = memory.changes(_message("a", plc=Health.OFFLINE, tk=Health.ONLINE))
    assert [(e.equipment, e.health) for e in first] == [
        ("lpg.main.sphere-farm.plc", Health.OFFLINE),
        ("lpg.main.sphere-farm.tk", Health.ONLINE),
    ]
    assert memory.changes(_message("a", plc=Health.OFFLINE, tk=Health.ONLINE)) == []
    again = memory.changes(_message("a", plc=Health.ONLINE, tk=Health.ONLINE))
    assert [(e.equipment, e.health) for e in again] == [("lpg.main.sphere-farm.plc", Health.ONLINE)]
    # another sender starts from nothing
    assert len(memory.changes(_message("b", plc=Health.ONLINE))) == 1
    # a link left out is forgotten: listed again, it counts as new
    assert memory.changes(_message("a", tk=Health.ONLINE)) == []
    assert len(memory.changes(_message("a", plc=Health.ONLINE, tk=Health.ONLINE))) == 1


def test_a_last_will_takes_every_link_of_its_sender_offline() -> None:
    memory = LinkMemory()
    memory.changes(_message("a", plc=Health.ONLINE, tk=Health.DEGRADED))
    will = orjson.loads(last_will(NOW, "a", ["lpg.main.sphere-farm.plc"]))
    assert will["lost"] is True
    where = links_topic_of("hazwatch/v1/lpg/links/a")
    assert where is not None
    message, refused = parse_links(
        "hazwatch/v1/lpg/links/a",
        where,
        orjson.dumps(will),
        source="test",
        now=NOW,
        max_payload_bytes=10_000,
    )
    assert refused == [] and message is not None and message.lost
    changed = memory.changes(message)
    # listed in the will, and known from before though not listed: both offline
    assert sorted((e.equipment, e.health) for e in changed) == [
        ("lpg.main.sphere-farm.plc", Health.OFFLINE),
        ("lpg.main.sphere-farm.tk", Health.OFFLINE),
    ]
    assert all("lost its connection" in e.detail for e in changed)
    assert memory.changes(message) == []  # said once


def test_lost_must_be_a_boolean() -> None:
    body = orjson.dumps({"ts": NOW, "links": [], "lost": "yes"})
    where = links_topic_of("hazwatch/v1/lpg/links/a")
    assert where is not None
    message, refused = parse_links(
        "hazwatch/v1/lpg/links/a", where, body, source="t", now=NOW, max_payload_bytes=10_000
    )
    assert message is None and refused[0].reason == RejectReason.MALFORMED
    assert '"lost"' in refused[0].detail


# the connector against a broker --------------------------------------------------------


async def test_the_connector_reports_each_change_of_a_links_health_once(
    broker: Any, kit: Any
) -> None:
    link = RecordingLink(kit.KEYS)
    settings = kit.config(broker.port)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 20)

        async def publish(*entries: dict[str, object]) -> None:
            messages = [(TOPIC, orjson.dumps(_links(*entries)))]
            await asyncio.to_thread(kit.publish_all, broker.host, broker.port, messages)

        await publish(_entry(PLC, "offline", "timeout [modbus.11]"), _entry(PLC2, "online"))
        await _until(lambda: len(link.devices) == 2, "both links reported")
        assert link.devices == [
            (PLC, Health.OFFLINE, "timeout [modbus.11]"),
            (PLC2, Health.ONLINE, ""),
        ]
        await publish(_entry(PLC, "offline", "still nothing"), _entry(PLC2, "online"))
        await publish(_entry(PLC, "online"), _entry(PLC2, "online"))
        # a reading after them: once it is read, the links messages before it were too
        await asyncio.to_thread(
            kit.publish_all, broker.host, broker.port, [(kit.TOPIC, kit.single(kit.KEYS[0], 5))]
        )
        await reader.until({kit.KEYS[0]: 5.0})
        assert link.devices[2:] == [(PLC, Health.ONLINE, "")]
        assert connector.link_messages == 3
        assert link.refused == []
    await reader.ended()


async def test_a_plain_subscription_gets_the_retained_state_of_a_gateway(
    broker: Any, kit: Any
) -> None:
    retained = _links(_entry(PLC, "degraded", "one of two units"))
    publisher = kit.Publisher(broker.host, broker.port)
    try:
        code = await asyncio.to_thread(
            publisher.publish, TOPIC, orjson.dumps(retained), retain=True
        )
        assert code is not None and not code.is_failure
    finally:
        publisher.close()
    link = RecordingLink(kit.KEYS)
    settings = kit.config(broker.port, share_group=None)
    async with MqttConnector(settings, link.link(), backoff=kit.fast_backoff()) as connector:
        reader = Reader(connector, link)
        await _until(lambda: link.devices, "the retained links message")
        assert link.devices == [(PLC, Health.DEGRADED, "one of two units")]
    await reader.ended()
