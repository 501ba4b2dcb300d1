"""Connector behaviour beyond the edge node's story: refused credentials, a broker that
never answers, the host's own STATE death seen while connected, bursts and the hand-off
from paho's thread."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import waiting
from paho.mqtt.client import MQTTMessage

from hazwatch.connectors.base import AuthError, Health
from hazwatch.connectors.conformance import Reader, RecordingLink
from hazwatch.connectors.sparkplug import SparkplugConnector
from hazwatch.connectors.sparkplug import connector as connector_module

TIMEOUT = 10.0

MakeConnector = Callable[..., SparkplugConnector]


until = partial(waiting.until, timeout=TIMEOUT)


@pytest.fixture
def silent() -> Iterator[socket.socket]:
    """A listening socket that accepts TCP connections and never says a word."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        listener.settimeout(TIMEOUT)
        yield listener


def port_of(listener: socket.socket) -> int:
    return int(listener.getsockname()[1])


async def test_a_silent_broker_times_out(
    silent: socket.socket, make_connector: MakeConnector
) -> None:
    link = RecordingLink()
    connector = make_connector(link.link(), port=port_of(silent), connect_timeout_s=0.3)
    async with connector:
        await until(lambda: connector.last_error is not None, "a timeout")
        assert connector.health.state is not Health.ONLINE
    error = connector.last_error
    assert error is not None and error.code == "mqtt.timeout" and error.retryable
    assert connector.health.state is Health.OFFLINE


async def test_closing_while_waiting_for_the_broker_is_prompt(
    silent: socket.socket, make_connector: MakeConnector
) -> None:
    connector = make_connector(RecordingLink().link(), port=port_of(silent), connect_timeout_s=30)
    async with connector:
        accepted, _ = await asyncio.to_thread(silent.accept)  # CONNECT sent, never answered
        started = asyncio.get_running_loop().time()
    accepted.close()
    assert asyncio.get_running_loop().time() - started < 5
    assert connector.health.state is Health.OFFLINE


async def test_the_host_answers_its_own_death_with_a_birth(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    node = make_edge_node(primary_host=plant.host_id)
    await asyncio.to_thread(node.connect)
    async with make_connector(RecordingLink().link()) as connector:
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)
        await asyncio.to_thread(node.wait_state, True)
        # The will of an earlier connection, delivered late:
        node.raw(f"spBv1.0/STATE/{plant.host_id}", b'{"online": false, "timestamp": 1}')

        def reborn() -> bool:
            online = [s.get("online") for s in node.seen.states]
            return False in online and online[-1] is True

        await until(reborn, "the STATE birth again")


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="needs mosquitto_passwd")
async def test_refused_credentials_are_an_auth_error(
    broker: Any, tmp_path: Path, make_connector: MakeConnector
) -> None:
    passwords = tmp_path / "passwords"
    subprocess.run(
        ["mosquitto_passwd", "-b", "-c", str(passwords), "hazwatch", "right"], check=True
    )
    workdir = tmp_path / "secured"
    workdir.mkdir()
    extra = f"allow_anonymous false\npassword_file {passwords}\n"
    secured = type(broker)(workdir, extra=extra)
    secured.start()
    try:
        link = RecordingLink()
        async with make_connector(
            link.link(), port=secured.port, username="hazwatch", password="wrong"
        ) as connector:
            await until(lambda: connector.last_error is not None, "a refusal")
            assert connector.health.state is not Health.ONLINE
        error = connector.last_error
        assert isinstance(error, AuthError) and error.code in ("mqtt.134", "mqtt.135")
        assert not error.retryable
    finally:
        secured.stop()


async def test_a_burst_is_read_whole_in_batches_of_many_messages(
    make_connector: MakeConnector, make_edge_node: Callable[..., Any], plant: Any
) -> None:
    link = RecordingLink()
    node = make_edge_node(primary_host=plant.host_id)
    async with make_connector(link.link()) as connector:
        reader = Reader(connector, link)
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), TIMEOUT)
        await asyncio.to_thread(node.connect)
        await reader.until({plant.key("level"): 50.0})
        before = len(reader.batches)
        sent = 2000  # the sequence number wraps several times
        for i in range(sent):
            node.ddata(plant.device, {"Level": 1000.0 + i})
        await reader.until({plant.key("level"): 1000.0 + sent - 1})
        levels = reader.seen()[plant.key("level")]
        assert levels[-sent:] == [1000.0 + i for i in range(sent)]  # all, in order
        assert len(reader.batches) - before < sent  # messages were handed on together
        assert connector.rebirths_requested == 0 and link.refused == []


async def test_a_full_hand_off_holds_the_network_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(connector_module, "PENDING_MAX", 2)
    wire = connector_module._Wire(asyncio.get_running_loop())
    messages = [MQTTMessage(mid=i, topic=b"t") for i in range(3)]
    for message in messages[:2]:
        wire.on_message(None, None, message)  # type: ignore[arg-type]
    third = asyncio.create_task(asyncio.to_thread(wire.on_message, None, None, messages[2]))
    await asyncio.wait_for(wire.ready.wait(), TIMEOUT)
    assert not third.done()  # paho's thread waits for room
    assert wire.take() == messages[:2]
    await asyncio.wait_for(third, TIMEOUT)
    assert wire.take() == messages[2:]
