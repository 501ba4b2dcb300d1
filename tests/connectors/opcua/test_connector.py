"""The OPC UA connector against a live server: qualities, timestamps, deadbands, browsing,
refusals, failed items, credentials and a server restart mid-stream."""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from asyncua import ua
from asyncua.crypto.permission_rules import User, UserRole

from hazwatch.connectors.base import Backoff, Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.opcua import OpcUaConfig, OpcUaConnector
from hazwatch.domain.batch import Quality
from hazwatch.domain.reject import RejectReason

pytestmark = pytest.mark.asyncio(loop_scope="module")

DEVICE = "lpg.main.sphere-farm.tk-201"
LAB = "lpg.main.sphere-farm.lab"
TIMEOUT = 10.0


@asynccontextmanager
async def reading(
    config: OpcUaConfig, link: RecordingLink, backoff: Backoff, *, online: bool = True
) -> AsyncIterator[tuple[OpcUaConnector, Reader]]:
    connector = OpcUaConnector(config, link.link(), backoff=backoff)
    async with connector:
        reader = Reader(connector, link)
        if online:
            await asyncio.wait_for(
                connector.health.wait_for(Health.ONLINE, Health.DEGRADED), TIMEOUT
            )
        yield connector, reader
    await reader.ended()


async def eventually(condition: Callable[[], bool], what: str) -> None:
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"not within {TIMEOUT} s: {what}")
        await asyncio.sleep(0.02)


def lab_node(server: Any, name: str, **extra: Any) -> dict[str, Any]:
    return {"node_id": server.text_id(f"Lab.{name}"), "tag": f"{LAB}.{name}", **extra}


def readings(reader: Reader, key: str) -> list[tuple[int, float, int]]:
    """(ts, value, quality) of every reading of ``key``, in arrival order."""
    tag = reader.link.keys[key]
    out: list[tuple[int, float, int]] = []
    for batch in reader.batches:
        mine = batch.tag == tag
        out += zip(
            batch.ts[mine].tolist(),
            batch.value[mine].tolist(),
            batch.quality[mine].tolist(),
            strict=True,
        )
    return out


async def test_status_codes_become_qualities(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    config = make_config(server, nodes=[lab_node(server, "status")])
    link = RecordingLink([f"{LAB}.status"])
    async with reading(config, link, backoff) as (_, reader):
        key = f"{LAB}.status"
        await server.write("Lab.status", 1.5)
        await reader.until({key: 1.5})
        await server.write("Lab.status", 2.5, status=ua.StatusCodes.UncertainLastUsableValue)
        await reader.until({key: 2.5})
        await server.write("Lab.status", 3.5, status=ua.StatusCodes.BadSensorFailure)
        await eventually(
            lambda: any(q == Quality.BAD for _, _, q in readings(reader, key)), "the bad value"
        )
        await server.write("Lab.status", 4.5)
        await reader.until({key: 4.5})
    got = [(v, q) for _, v, q in readings(reader, f"{LAB}.status")]
    assert (1.5, Quality.GOOD) in got
    assert (2.5, Quality.UNCERTAIN) in got
    assert (4.5, Quality.GOOD) in got
    # the server drops the value of a Bad one (as OPC UA asks): the reading is BAD, not
    # refused, and holds the last good (or uncertain) value
    assert [v for v, q in got if q == Quality.BAD] == [2.5]
    assert not link.refused


async def test_source_and_server_timestamps(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    config = make_config(server, nodes=[lab_node(server, "stamps")])
    key = f"{LAB}.stamps"
    link = RecordingLink([key])
    async with reading(config, link, backoff) as (connector, reader):
        source = datetime.now(UTC).replace(microsecond=123_000) - timedelta(minutes=1)
        await server.write("Lab.stamps", 7.25, source_ts=source)
        await reader.until({key: 7.25})
        before = link.clock()
        await server.write("Lab.stamps", 8.25, source_ts=None)  # the server stamps it alone
        await reader.until({key: 8.25})
        after = link.clock()
    stamps = {v: ts for ts, v, _ in readings(reader, key)}
    assert stamps[7.25] == int(source.timestamp()) * 1000 + 123, "the source timestamp is ts"
    assert before - 1000 <= stamps[8.25] <= after + 1000, "without one, the server's is ts"
    assert 59_000 <= connector.max_skew_ms <= 61_000 + int(TIMEOUT * 1000)
    qualities = {v: q for _, v, q in readings(reader, key)}
    assert qualities[8.25] == Quality.GOOD, "a server timestamp is a timestamp: still GOOD"
    servers = {
        float(v): int(s)
        for batch in reader.batches
        if batch.server_ts is not None
        for v, s in zip(batch.value, batch.server_ts, strict=True)
    }
    skew = servers[7.25] - stamps[7.25]
    assert 59_000 <= skew <= 61_000 + int(TIMEOUT * 1000), "the server's stamp is kept beside ts"
    assert servers[8.25] == stamps[8.25]


async def test_absolute_deadband_suppresses_small_changes(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    node = lab_node(server, "deadband", deadband={"type": "absolute", "value": 1.0})
    config = make_config(server, nodes=[node])
    key = f"{LAB}.deadband"
    link = RecordingLink([key])
    async with reading(config, link, backoff) as (_, reader):
        await server.write("Lab.deadband", 10.0)
        await reader.until({key: 10.0})
        for value in (10.3, 10.6, 10.9):
            await server.write("Lab.deadband", value)
        await server.write("Lab.deadband", 12.5)
        await reader.until({key: 12.5})
    values = [v for _, v, _ in readings(reader, key)]
    assert 10.3 not in values and 10.6 not in values and 10.9 not in values
    assert values[-2:] == [10.0, 12.5]


async def test_one_batch_per_publish_cycle(server: Any, make_config: Any, backoff: Backoff) -> None:
    config = make_config(server, publishing_interval_ms=300)
    link = RecordingLink([node.tag for node in config.nodes])
    async with reading(config, link, backoff) as (_, reader):
        await reader.until({f"{DEVICE}.level": await _current(server, "TK201.Level")})
        first = len(reader.batches)
        await server.write("TK201.Level", 77.0)
        await server.write("TK201.Temperature", 77.5, kind=ua.VariantType.Float)
        await server.write("TK201.Count", 77, kind=ua.VariantType.Int32)
        await reader.until(
            {f"{DEVICE}.level": 77.0, f"{DEVICE}.temperature": 77.5, f"{DEVICE}.count": 77.0}
        )
    fresh = reader.batches[first:]
    assert len(fresh) == 1, f"three changes in one cycle came as {len(fresh)} batches"
    assert sorted(fresh[0].value.tolist()) == [77.0, 77.0, 77.5]


async def test_browse_maps_variables_to_tags(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    config = make_config(
        server,
        nodes=[],
        browse=[{"root": server.text_id("TK201"), "tag_prefix": DEVICE}],
    )
    link = RecordingLink()  # nothing known: browsed tags must be declared
    async with reading(config, link, backoff) as (_, reader):
        await server.write("TK201.Level", 61.5)
        await reader.until({f"{DEVICE}.level": 61.5})
    declared = {d.key: d for d in link.declared}
    assert set(declared) == {
        f"{DEVICE}.level",
        f"{DEVICE}.temperature",
        f"{DEVICE}.running",
        f"{DEVICE}.count",
        f"{DEVICE}.text",
    }, "the variables of the root, not its properties nor what lies in sub-objects"
    level = declared[f"{DEVICE}.level"]
    assert (level.unit, level.range_lo, level.range_hi) == ("%", 0.0, 100.0)
    assert reader.seen()[f"{DEVICE}.running"] == [1.0], "a boolean reads as 1"
    assert [d.tag_key for d in link.refused] == [f"{DEVICE}.text"], "the string is refused"


@pytest.mark.parametrize("declare", ["none", "failing"])
async def test_browsed_tags_that_cannot_be_declared_are_refused_once(
    server: Any, make_config: Any, backoff: Backoff, declare: str
) -> None:
    async def failing(tags: Any) -> None:
        raise RuntimeError("no installation lpg.main.sphere-farm")

    config = make_config(
        server, nodes=[], browse=[{"root": server.text_id("TK201"), "tag_prefix": DEVICE}]
    )
    link = RecordingLink()
    connector = OpcUaConnector(
        config,
        replace(link.link(), declare=None if declare == "none" else failing),
        backoff=backoff,
    )
    async with connector:
        await asyncio.wait_for(connector.health.wait_for(Health.DEGRADED), TIMEOUT)
        assert connector.health.detail == "no variable to monitor"
        for n in range(3):
            await server.write("TK201.Level", 30.0 + n)
    unknown = sorted(d.tag_key or "" for d in link.refused)
    assert unknown == sorted(
        f"{DEVICE}.{name}" for name in ("level", "temperature", "running", "count", "text")
    )
    assert all(d.reason is RejectReason.UNKNOWN_TAG for d in link.refused)


async def test_recursive_browse_finds_nested_variables(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    config = make_config(
        server,
        nodes=[],
        browse=[{"root": server.text_id("TK201"), "tag_prefix": DEVICE, "recursive": True}],
    )
    link = RecordingLink()
    async with reading(config, link, backoff) as (_, reader):
        await server.write("TK201.Sub.Pressure", 3.25)
        await reader.until({f"{DEVICE}.pressure": 3.25})
    assert f"{DEVICE}.pressure" in {d.key for d in link.declared}


async def test_unknown_tags_are_refused_once_per_node(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    config = make_config(server)  # level, temperature and count; count is not known
    known = [f"{DEVICE}.level", f"{DEVICE}.temperature"]
    link = RecordingLink(known)
    async with reading(config, link, backoff) as (connector, reader):
        for n in range(3):
            await server.write("TK201.Count", 500 + n, kind=ua.VariantType.Int32)
            await server.write("TK201.Level", 40.0 + n)
        await reader.until({f"{DEVICE}.level": 42.0})
        await server.stop()  # a new connection resolves again, and still refuses once
        await asyncio.wait_for(connector.health.wait_for(Health.OFFLINE), TIMEOUT)
        await server.start()
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)
    unknown = [d for d in link.refused if d.reason is RejectReason.UNKNOWN_TAG]
    assert len(unknown) == 1
    assert unknown[0].tag_key == f"{DEVICE}.count"
    assert server.text_id("TK201.Count") in unknown[0].detail
    assert f"{DEVICE}.count" not in reader.seen()


async def test_non_numeric_values_are_refused(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    config = make_config(
        server,
        nodes=[
            {"node_id": server.text_id("TK201.Text"), "tag": f"{DEVICE}.text"},
            {"node_id": server.text_id("TK201.Level"), "tag": f"{DEVICE}.level"},
        ],
    )
    link = RecordingLink([node.tag for node in config.nodes])
    async with reading(config, link, backoff) as (connector, reader):
        await server.write("TK201.Text", "alarm!")
        await server.write("TK201.Level", 12.75)
        await reader.until({f"{DEVICE}.level": 12.75})
        await eventually(
            lambda: any(d.payload == "'alarm!'" for d in link.refused), "the string refused"
        )
        assert connector.health.state is Health.ONLINE
    letter = next(d for d in link.refused if d.payload == "'alarm!'")
    assert letter.reason is RejectReason.MALFORMED
    assert letter.tag_key == f"{DEVICE}.text"
    assert "String is not a number" in letter.detail
    assert f"{DEVICE}.text" not in reader.seen()


async def test_items_that_cannot_be_created_degrade(
    server: Any, make_config: Any, backoff: Backoff
) -> None:
    missing = f"ns={server.ns};s=Lab.no-such-variable"
    config = make_config(
        server,
        nodes=[
            {"node_id": missing, "tag": f"{LAB}.missing"},
            lab_node(server, "missing-ok"),
        ],
    )
    link = RecordingLink([f"{LAB}.missing", f"{LAB}.missing-ok"])
    async with reading(config, link, backoff) as (connector, reader):
        await server.write("Lab.missing-ok", 9.5)
        await reader.until({f"{LAB}.missing-ok": 9.5})
        assert connector.health.state is Health.DEGRADED
        assert f"{missing} (BadNodeIdUnknown)" in connector.health.detail
        assert connector.failed == {missing: "BadNodeIdUnknown"}
    bad = readings(reader, f"{LAB}.missing")
    assert len(bad) == 1 and math.isnan(bad[0][1]) and bad[0][2] == Quality.BAD
    assert (DEVICE, Health.DEGRADED) in [(k, h) for k, h, _ in link.devices]


async def test_server_restart_mid_stream(server: Any, make_config: Any, backoff: Backoff) -> None:
    config = make_config(server, nodes=[lab_node(server, "restart")])
    key = f"{LAB}.restart"
    link = RecordingLink([key])
    async with reading(config, link, backoff) as (connector, reader):
        await server.write("Lab.restart", 1.0)
        await reader.until({key: 1.0})
        await server.stop()
        await asyncio.wait_for(connector.health.wait_for(Health.OFFLINE), TIMEOUT)
        await server.write("Lab.restart", 2.0)  # while the server is down
        await server.start()
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)
        await server.write("Lab.restart", 3.0)
        await reader.until({key: 2.0})
        await reader.until({key: 3.0})
        assert connector.last_error is not None
        assert connector.last_error.code.startswith("opcua.Bad")
    states = [h for k, h, _ in link.devices if k == DEVICE]
    assert states[:3] == [Health.ONLINE, Health.OFFLINE, Health.ONLINE]


async def test_unreachable_server_is_a_connect_error(
    opc_server: Any, make_config: Any, backoff: Backoff
) -> None:
    await opc_server.stop()
    config = make_config(opc_server)
    link = RecordingLink([node.tag for node in config.nodes])
    async with reading(config, link, backoff, online=False) as (connector, _):
        await eventually(lambda: connector.last_error is not None, "a failed attempt")
        assert connector.health.state is not Health.ONLINE
    assert connector.last_error is not None
    assert connector.last_error.code == "opcua.BadConnectionRejected"
    assert link.devices[0][:2] == (DEVICE, Health.OFFLINE)


async def test_a_silent_server_times_out_and_closing_while_connecting_is_clean(
    make_config: Any, backoff: Backoff
) -> None:
    """A port that accepts but never answers: each attempt times out (BadTimeout); leaving
    in the middle of an attempt ends at once and leaves no socket open."""
    accepted: list[asyncio.StreamWriter] = []

    async def mute(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    silent = await asyncio.start_server(mute, "127.0.0.1", 0)
    port = silent.sockets[0].getsockname()[1]
    try:
        config = make_config(_Endpoint(f"opc.tcp://127.0.0.1:{port}/mute"), timeout_s=0.3)
        link = RecordingLink([node.tag for node in config.nodes])
        async with reading(config, link, backoff, online=False) as (connector, _):
            await eventually(lambda: connector.last_error is not None, "a timed out attempt")
            assert connector.last_error is not None
            assert connector.last_error.code == "opcua.BadTimeout"
            await eventually(lambda: len(accepted) >= 2, "a second attempt")
    finally:
        # Stop accepting first: a connection accepted after the writers were closed would
        # keep wait_closed() waiting for ever.
        silent.close()
        await asyncio.sleep(0.05)  # handlers of connections accepted just before
        for writer in accepted:
            writer.close()
        await asyncio.wait_for(silent.wait_closed(), 10)


class _Endpoint:
    """Stands in for a test server where only the endpoint matters."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.ns = 2

    def text_id(self, name: str) -> str:
        return f"ns=2;s={name}"


class _Users:
    def get_user(
        self,
        iserver: Any,
        username: str | None = None,
        password: str | None = None,
        certificate: Any = None,
    ) -> User | None:
        return User(role=UserRole.User) if (username, password) == ("op", "secret") else None


async def test_credentials(server: Any, make_config: Any, backoff: Backoff) -> None:
    iserver = server.server.iserver
    permissive = iserver.user_manager
    iserver.user_manager = _Users()
    try:
        wrong = make_config(server, username="op", password="guess")
        link = RecordingLink([node.tag for node in wrong.nodes])
        async with reading(wrong, link, backoff, online=False) as (connector, _):
            await eventually(lambda: connector.last_error is not None, "a refused login")
        assert connector.last_error is not None
        assert connector.last_error.code == "opcua.BadUserAccessDenied"
        assert not connector.last_error.retryable

        right = make_config(server, username="op", password="secret")
        async with reading(right, link, backoff) as (connector, _):
            assert connector.health.state is Health.ONLINE
    finally:
        iserver.user_manager = permissive


async def test_quiet_server_keeps_the_link(server: Any, make_config: Any, backoff: Backoff) -> None:
    """Keep-alives alone keep a quiet subscription up: no false reconnects."""
    config = make_config(
        server, nodes=[lab_node(server, "bool-flag")], health_check_interval_s=0.1, timeout_s=0.2
    )
    link = RecordingLink([f"{LAB}.bool-flag"])
    async with reading(config, link, backoff) as (connector, _):
        change = asyncio.ensure_future(connector.health.next_change())
        done, _ = await asyncio.wait({change}, timeout=1.0)
        change.cancel()
        assert not done, f"health changed to {connector.health.state}: {connector.health.detail}"
        assert connector.errors == 0


async def _current(server: Any, name: str) -> float:
    value = await server.server.get_node(server.node_id(name)).read_value()
    return float(value)
