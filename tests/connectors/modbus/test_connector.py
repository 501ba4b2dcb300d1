"""The Modbus connector against a live server: values, grouping, exceptions, schedules,
restarts."""

from __future__ import annotations

import asyncio
import itertools
import statistics
from collections.abc import Sequence
from functools import partial
from typing import Any

import pytest
import waiting
from pymodbus.constants import ExcCodes

from hazwatch.connectors.base import Backoff, Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.modbus import ModbusConfig, ModbusConnector
from hazwatch.connectors.modbus.server import ModbusServer, Request
from hazwatch.domain.batch import Quality

TIMEOUT_S = 10.0
PLC = "lpg.main.sphere-farm.plc-{}"


def tag(unit: int, name: str) -> str:
    return f"lpg.main.sphere-farm.plc-{unit}.{name}"


def point(unit: int, name: str, table: str, address: int, **fields: Any) -> dict[str, Any]:
    return {"tag": tag(unit, name), "table": table, "address": address} | fields


def device(unit: int, *points: dict[str, Any], period_s: float = 0.05) -> dict[str, Any]:
    return {"unit_id": unit, "device": PLC.format(unit), "period_s": period_s, "points": points}


def make(server: ModbusServer, *devices: dict[str, Any], **fields: Any) -> ModbusConfig:
    data = {
        "kind": "modbus",
        "name": "plc",
        "host": server.host,
        "port": server.port,
        "timeout_s": 1.0,
        "offline_after": 1,
        "devices": list(devices),
    }
    return ModbusConfig.model_validate(data | fields)


def keys_of(config: ModbusConfig) -> list[str]:
    return [p.tag for d in config.devices for p in d.points]


def connector(config: ModbusConfig, link: RecordingLink) -> ModbusConnector:
    return ModbusConnector(config, link.link(), backoff=Backoff(initial=0.05, cap=0.2))


until = partial(waiting.until, timeout=TIMEOUT_S)


def latest(reader: Reader, key: str) -> tuple[float, int, int]:
    """(value, quality, ts) of the last reading of ``key``."""
    tag_id = reader.link.keys[key]
    for batch in reversed(reader.batches):
        hits = (batch.tag == tag_id).nonzero()[0]
        if len(hits):
            i = hits[-1]
            return float(batch.value[i]), int(batch.quality[i]), int(batch.ts[i])
    raise AssertionError(f"{key} never read")


def reported(link: RecordingLink, device_key: str) -> list[tuple[Health, str]]:
    return [(health, detail) for key, health, detail in link.devices if key == device_key]


async def test_reads_every_type_stamped_with_the_poll_time(server: ModbusServer) -> None:
    await server.write_value(1, "holding", 0, 61.25, "float32")
    await server.write_value(1, "holding", 2, -253, "int16")
    await server.write_value(1, "input", 0, 0x89ABCDEF, "uint32", word_order="little")
    await server.write_value(1, "input", 2, -70_000, "int32", byte_order="little")
    await server.write_value(1, "input", 4, 6525, "uint16")
    await server.write(1, "coil", 3, [True])
    await server.write(1, "discrete", 7, [True])
    await server.start()
    config = make(
        server,
        device(
            1,
            point(1, "level", "holding", 0, type="float32"),
            point(1, "temp", "holding", 2, type="int16", scale=0.1),
            point(1, "count", "input", 0, type="uint32", word_order="little"),
            point(1, "delta", "input", 2, type="int32", byte_order="little"),
            point(1, "press", "input", 4, scale=0.01, offset=-40),
            point(1, "pump", "coil", 3),
            point(1, "valve", "coil", 4),
            point(1, "alarm", "discrete", 7),
        ),
    )
    link = RecordingLink(keys_of(config))
    ticks = iter(range(1_800_000_000_000, 1_900_000_000_000, 1000))
    link.clock = lambda: next(ticks)
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await reader.until(
            {
                tag(1, "level"): 61.25,
                tag(1, "temp"): -25.3,
                tag(1, "count"): float(0x89ABCDEF),
                tag(1, "delta"): -70_000,
                tag(1, "press"): 25.25,
                tag(1, "pump"): 1.0,
                tag(1, "valve"): 0.0,
                tag(1, "alarm"): 1.0,
            }
        )
    batch = reader.batches[0]
    assert len(batch) == 8
    assert set(batch.quality.tolist()) == {Quality.GOOD}
    assert len(set(batch.ts.tolist())) == 1  # one poll, one time
    assert batch.ts[0] % 1000 == 0 and batch.ts[0] >= 1_800_000_000_000  # from link.now()
    assert batch.received > batch.ts[0]  # read after the poll started


@pytest.mark.parametrize(
    ("max_gap", "holding"),
    [
        (0, {Request(1, "holding", 0, 6), Request(1, "holding", 9, 1)}),
        (3, {Request(1, "holding", 0, 10)}),  # 6, 7 and 8 read in between
    ],
)
async def test_contiguous_points_are_read_with_one_request(
    server: ModbusServer, max_gap: int, holding: set[Request]
) -> None:
    await server.start()
    points = [
        point(1, "a", "holding", 0, type="float32"),
        point(1, "b", "holding", 2, type="int16"),
        point(1, "c", "holding", 3, type="uint32"),
        point(1, "d", "holding", 5),
        point(1, "e", "holding", 9),
        point(1, "f", "input", 0),
        point(1, "g", "input", 1),
        point(1, "h", "coil", 0),
        point(1, "i", "coil", 1),
    ]
    config = make(server, device(1, *points), max_gap=max_gap)
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await until(lambda: len(reader.batches) >= 3, "three polls")
    expected = holding | {Request(1, "input", 0, 2), Request(1, "coil", 0, 2)}
    assert set(server.requests) == expected
    polls = len(reader.batches)
    assert polls * len(expected) <= len(server.requests) <= (polls + 1) * len(expected)


async def test_an_exception_makes_points_bad_and_reports_the_device(server: ModbusServer) -> None:
    await server.write_value(1, "holding", 0, 42, "uint16")
    await server.start()
    config = make(
        server,
        device(1, point(1, "ok", "holding", 0), point(1, "beyond", "input", 255, type="int32")),
        device(9, point(9, "gone", "holding", 0)),  # a unit the gateway cannot reach
        offline_after=2,
    )
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await until(lambda: len(reported(link, PLC.format(9))) > 0, "unit 9 reported")
        await until(lambda: len(reported(link, PLC.format(1))) > 0, "unit 1 reported")
        assert plc.health.state is Health.DEGRADED
        assert "2 of 2 devices failing" in plc.health.detail

    [(state, detail)] = reported(link, PLC.format(9))
    assert state is Health.OFFLINE  # its only read failed
    assert detail.startswith("modbus.exception.11")
    assert "gateway target device failed to respond" in detail
    [(state, detail)] = reported(link, PLC.format(1))
    assert state is Health.DEGRADED  # one of its two reads failed
    assert detail.startswith("modbus.exception.2: 1 of 2 reads failed; unit 1 input 255+2")
    assert "illegal data address" in detail
    assert latest(reader, tag(1, "ok"))[:2] == (42.0, Quality.GOOD)
    assert latest(reader, tag(1, "beyond"))[1] == Quality.BAD
    assert latest(reader, tag(9, "gone"))[1] == Quality.BAD


async def test_a_busy_device_goes_offline_and_comes_back(server: ModbusServer) -> None:
    await server.start()
    config = make(
        server,
        device(1, point(1, "a", "holding", 0)),
        device(2, point(2, "b", "holding", 0)),
        offline_after=3,
    )
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await until(lambda: len(reported(link, PLC.format(2))) == 1, "unit 2 online")
        server.exceptions[2] = ExcCodes.DEVICE_BUSY
        await until(lambda: latest(reader, tag(2, "b"))[1] == Quality.BAD, "unit 2 bad")
        await asyncio.wait_for(plc.health.wait_for(Health.DEGRADED), TIMEOUT_S)
        assert reported(link, PLC.format(2))[-1][0] is Health.OFFLINE
        assert "modbus.exception.6" in reported(link, PLC.format(2))[-1][1]
        assert "lpg.main.sphere-farm.plc-2 offline: modbus.exception.6" in plc.health.detail
        assert latest(reader, tag(1, "a"))[1] == Quality.GOOD
        bad = [b for b in reader.batches if link.keys[tag(2, "b")] in b.tag and b.quality[0]]
        assert len(bad) >= 3  # reported after the third failed poll: debounced

        del server.exceptions[2]
        await asyncio.wait_for(plc.health.wait_for(Health.ONLINE), TIMEOUT_S)
        assert reported(link, PLC.format(2))[-1] == (Health.ONLINE, "")
        assert reported(link, PLC.format(1)) == [(Health.ONLINE, "")]


async def test_devices_are_polled_at_their_own_rates(server: ModbusServer) -> None:
    await server.start()
    server.delays[2] = 0.05  # the slow device also answers slowly
    config = make(
        server,
        device(1, point(1, "fast", "holding", 0), period_s=0.05),
        device(2, point(2, "slow", "holding", 0), period_s=0.25),
    )
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await until(lambda: len(stamps(reader, tag(2, "slow"))) >= 6, "six slow polls")
    fast, slow = stamps(reader, tag(1, "fast")), stamps(reader, tag(2, "slow"))
    assert len(fast) >= 3 * len(slow)
    assert 40 <= statistics.median(gaps(fast)) <= 75
    assert 200 <= statistics.median(gaps(slow)) <= 320


def stamps(reader: Reader, key: str) -> list[int]:
    tag_id = reader.link.keys[key]
    return [int(b.ts[0]) for b in reader.batches if tag_id in b.tag]


def gaps(ts: Sequence[int]) -> list[int]:
    return [b - a for a, b in itertools.pairwise(ts)]


async def test_recovers_after_the_server_restarts(server: ModbusServer) -> None:
    await server.write_value(1, "holding", 0, 1.5, "float32")
    await server.write_value(2, "input", 0, 7, "uint16")
    await server.start()
    config = make(
        server,
        device(1, point(1, "a", "holding", 0, type="float32")),
        device(2, point(2, "b", "input", 0)),
    )
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await reader.until({tag(1, "a"): 1.5, tag(2, "b"): 7})
        await server.stop()
        await asyncio.wait_for(plc.health.wait_for(Health.OFFLINE), TIMEOUT_S)
        assert plc.last_error is not None
        assert plc.last_error.code == "modbus.connection_lost"
        for unit in (1, 2):
            assert reported(link, PLC.format(unit))[-1][0] is Health.OFFLINE
        await server.write_value(1, "holding", 0, 2.5, "float32")
        await server.write_value(2, "input", 0, 8, "uint16")
        await server.start()
        await reader.until({tag(1, "a"): 2.5, tag(2, "b"): 8})
        assert plc.health.state is Health.ONLINE
        for unit in (1, 2):
            states = [state for state, _ in reported(link, PLC.format(unit))]
            assert states == [Health.ONLINE, Health.OFFLINE, Health.ONLINE]


async def test_unknown_tags_are_refused_once_and_the_rest_is_read(server: ModbusServer) -> None:
    await server.write_value(1, "holding", 0, 5, "uint16")
    await server.start()
    config = make(server, device(1, point(1, "known", "holding", 0), point(1, "new", "holding", 1)))
    link = RecordingLink([tag(1, "known")])
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await until(lambda: len(reader.batches) >= 3, "three polls")
    assert all(len(b) == 1 for b in reader.batches)
    [letter] = link.refused
    assert letter.tag_key == tag(1, "new")
    assert letter.reason == "unknown_tag"
    assert letter.source == "plc"


async def test_a_silent_device_is_bad_while_the_line_serves_the_others(
    server: ModbusServer,
) -> None:
    await server.start()
    server.silent.add(2)
    config = make(
        server,
        device(1, point(1, "a", "holding", 0), period_s=0.05),
        device(2, point(2, "b", "holding", 0), period_s=0.1),
        timeout_s=0.1,
    )
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        await until(lambda: len(reported(link, PLC.format(2))) > 0, "unit 2 reported")
        polls_of_1 = len(stamps(reader, tag(1, "a")))
        await until(lambda: len(stamps(reader, tag(1, "a"))) >= polls_of_1 + 10, "unit 1 read on")
    [(state, detail)] = reported(link, PLC.format(2))
    assert state is Health.OFFLINE
    assert detail.startswith("modbus.no_response")
    assert latest(reader, tag(2, "b"))[1] == Quality.BAD
    assert latest(reader, tag(1, "a"))[1] == Quality.GOOD
    assert plc.errors == 0  # the connection was kept


async def test_when_nothing_answers_the_connection_is_dropped_and_made_again(
    server: ModbusServer,
) -> None:
    await server.start()
    server.silent.add(1)
    config = make(server, device(1, point(1, "a", "holding", 0)), timeout_s=0.05)
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        reader = Reader(plc, link)
        # pymodbus gives a connection up after a few unanswered requests; the connector
        # says so and connects again itself.
        await until(lambda: plc.errors > 0, "the connection dropped")
        assert plc.last_error is not None
        assert plc.last_error.code == "modbus.connection_lost"
        server.silent.clear()
        await server.write_value(1, "holding", 0, 77, "uint16")
        await reader.until({tag(1, "a"): 77})
        await asyncio.wait_for(plc.health.wait_for(Health.ONLINE), TIMEOUT_S)
    states = [state for state, _ in reported(link, PLC.format(1))]
    assert states[-2:] == [Health.OFFLINE, Health.ONLINE]


async def test_connected_but_every_device_offline_is_offline(server: ModbusServer) -> None:
    await server.start()
    config = make(server, device(9, point(9, "gone", "holding", 0)))
    link = RecordingLink(keys_of(config))
    async with connector(config, link) as plc:
        await asyncio.wait_for(plc.health.wait_for(Health.ONLINE), TIMEOUT_S)
        await asyncio.wait_for(plc.health.wait_for(Health.OFFLINE), TIMEOUT_S)
        assert plc.health.detail.startswith("1 of 1 devices failing: lpg.main.sphere-farm.plc-9")
        assert plc.errors == 0  # the connection itself is fine
