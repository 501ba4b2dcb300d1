"""The connector against the independent edge node (``edge_node.py``) on a real broker:
births become tags, data arrives under them, deaths take devices offline, a lost sequence
number brings a rebirth, and bad payloads are refused while the stream goes on."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

import waiting

from hazwatch.connectors.base import Health, Link
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.sparkplug import SparkplugConnector
from hazwatch.connectors.sparkplug import sparkplug_b_pb2 as pb
from hazwatch.domain.reject import DeadLetter, RejectReason

TIMEOUT = 10.0

MakeConnector = Callable[..., SparkplugConnector]


until = partial(waiting.until, timeout=TIMEOUT)


async def online(connector: SparkplugConnector) -> None:
    await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)


async def test_births_declare_tags_and_data_arrives_under_them(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    link = RecordingLink()  # knows no tag: every tag comes from a birth
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link.link()) as connector:
        reader = Reader(connector, link)
        await online(connector)
        await asyncio.to_thread(node.connect)
        await asyncio.to_thread(node.wait_born)  # after the host's STATE said online
        await reader.until(
            {
                plant.key("level"): 50.0,
                plant.key("temperature-pv"): 20.5,
                plant.key("running"): 1.0,
                plant.key("count"): -3.0,
                f"{plant.node_equipment}.uptime": 1.0,
            }
        )
        declared = {tag.key: tag for tag in link.declared}
        assert set(declared) == {
            plant.key("level"),
            plant.key("temperature-pv"),
            plant.key("running"),
            plant.key("count"),
            f"{plant.node_equipment}.uptime",
        }
        level = declared[plant.key("level")]
        assert (level.name, level.unit, level.range_lo, level.range_hi) == ("Level", "%", 0, 100)
        assert declared[plant.key("temperature-pv")].unit == "°C"

        node.ddata(plant.device, {"Level": 61.25, "Running": False, "Count": -120})
        node.ddata(plant.device, {"Temperature/PV": 22.75}, by_name=True)
        await reader.until(
            {
                plant.key("level"): 61.25,
                plant.key("running"): 0.0,
                plant.key("count"): -120.0,
                plant.key("temperature-pv"): 22.75,
            }
        )
        assert (plant.equipment, Health.ONLINE, "DBIRTH") in link.devices
        assert (plant.node_equipment, Health.ONLINE, "NBIRTH") in link.devices
        assert link.refused == []
    await reader.ended()


async def test_deaths_take_devices_offline(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    link = RecordingLink()
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link.link()) as connector:
        await online(connector)
        await asyncio.to_thread(node.connect)
        await until(lambda: (plant.equipment, Health.ONLINE, "DBIRTH") in link.devices, "DBIRTH")

        node.ddeath(plant.device)
        await until(lambda: (plant.equipment, Health.OFFLINE, "DDEATH") in link.devices, "DDEATH")
        assert (plant.node_equipment, Health.OFFLINE, "NDEATH") not in link.devices

        await asyncio.to_thread(node.crash)  # the broker publishes the NDEATH will
        await until(
            lambda: (plant.node_equipment, Health.OFFLINE, "NDEATH") in link.devices, "NDEATH"
        )
        # The connector itself is still fine: only the edge node died.
        assert connector.health.state is Health.ONLINE

        await asyncio.to_thread(node.connect)  # comes back with the next bdSeq
        await until(
            lambda: link.devices[-1] == (plant.equipment, Health.ONLINE, "DBIRTH"), "rebirth"
        )


async def test_a_stale_death_does_not_kill_the_new_session(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    link = RecordingLink()
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link.link()) as connector:
        reader = Reader(connector, link)
        await online(connector)
        await asyncio.to_thread(node.connect)
        await reader.until({plant.key("level"): 50.0})
        late = pb.Payload(timestamp=1)
        late.metrics.add(name="bdSeq", datatype=pb.Int64, long_value=node.bd_seq + 200)
        node.raw(node.topic("NDEATH"), late.SerializeToString())  # an older session's will
        node.ddata(plant.device, {"Level": 12.5})
        await reader.until({plant.key("level"): 12.5})
        assert (plant.node_equipment, Health.OFFLINE, "NDEATH") not in link.devices


async def test_a_skipped_sequence_number_brings_a_rebirth(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    link = RecordingLink()
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link.link()) as connector:
        reader = Reader(connector, link)
        await online(connector)
        await asyncio.to_thread(node.connect)
        await reader.until({plant.key("level"): 50.0})
        assert node.births == 1

        node.ddata(plant.device, {"Level": 33.0}, skip_seq=2)  # two messages "lost"
        await asyncio.to_thread(node.wait_rebirths, 1)
        await until(lambda: node.births == 2, "the edge node's second birth")
        await reader.until({plant.key("level"): 33.0})
        assert connector.rebirths_requested == 1

        node.ddata(plant.device, {"Level": 34.0})  # in sequence after the rebirth
        await reader.until({plant.key("level"): 34.0})
        assert connector.rebirths_requested == 1


async def test_bad_payloads_are_refused_while_the_stream_goes_on(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    link = RecordingLink()
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link.link()) as connector:
        reader = Reader(connector, link)
        await online(connector)
        await asyncio.to_thread(node.connect)
        await reader.until({plant.key("level"): 50.0})

        node.raw(node.topic("DDATA", plant.device), b"\x0a\x05abc")  # truncated field
        node.ddata_alias(plant.device, 99, 1.5)
        node.ddata(plant.device, {"Level": 71.0})
        await reader.until({plant.key("level"): 71.0})
        await until(lambda: len(link.refused) >= 2, "two dead letters")
        malformed, unknown = link.refused
        assert malformed.reason is RejectReason.MALFORMED
        assert "not a Sparkplug B payload" in malformed.detail
        assert malformed.payload == "base64:CgVhYmM="
        assert unknown.reason is RejectReason.UNKNOWN_TAG
        assert (
            unknown.detail == f"{plant.group}/{plant.node}/{plant.device}: unknown metric alias 99"
        )
        assert connector.health.state is Health.ONLINE


async def test_data_before_a_birth_asks_the_edge_node_to_rebirth(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    node = make_edge_node()  # no primary host: births before the connector listens
    await asyncio.to_thread(node.connect)
    link = RecordingLink()
    async with make_connector(link.link()) as connector:
        reader = Reader(connector, link)
        await online(connector)
        node.ddata(plant.device, {"Level": 40.0})
        await asyncio.to_thread(node.wait_rebirths, 1)
        assert "DDATA from plant1/gw-1/TK-201 before its NBIRTH" in link.refused[0].detail
        assert link.refused[0].payload is not None  # the data is kept, encoded
        await reader.until({plant.key("level"): 40.0})  # the birth carries the value


async def test_the_host_state_is_born_and_dies(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    node = make_edge_node(primary_host=plant.host_id)
    await asyncio.to_thread(node.connect)  # waits for the host: no birth yet
    link = RecordingLink()
    async with make_connector(link.link()) as connector:
        await online(connector)
        birth = await asyncio.to_thread(node.wait_state, True)
        await asyncio.to_thread(node.wait_born)
        assert isinstance(birth["timestamp"], int)
    death = await asyncio.to_thread(node.wait_state, False)
    assert death["timestamp"] >= birth["timestamp"]


async def test_without_declare_unknown_tags_are_refused(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    recording = RecordingLink([plant.key("level")])
    link = Link(
        resolve=recording.link().resolve,
        refuse=recording.refused.append,
        device=lambda *_: None,
        now=recording.clock,
    )
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link) as connector:
        reader = Reader(connector, recording)
        await online(connector)
        await asyncio.to_thread(node.connect)
        await reader.until({plant.key("level"): 50.0})
        await until(
            lambda: any(d.tag_key == plant.key("running") for d in recording.refused), "refusal"
        )
    running: DeadLetter = next(d for d in recording.refused if d.tag_key == plant.key("running"))
    assert running.reason is RejectReason.UNKNOWN_TAG
    assert running.value == 1.0
    assert "cannot create tags" in running.detail
    assert set(reader.seen()) == {plant.key("level")}
