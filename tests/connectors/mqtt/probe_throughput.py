"""Throughput probe of the MQTT JSON connector (a script, not a test).

A publisher process (raw MQTT 3.1.1 over a socket, so that it costs the machine little)
sends hazwatch JSON messages to a broker as fast as it can, or at ``--rate`` messages per
second, for ``--seconds``; this process runs one ``MqttConnector`` that reads them and
counts what it emits. It prints messages/s and readings/s as the connector delivered them
and, at QoS 1, checks that every message published arrived exactly once.

    python tests/connectors/mqtt/probe_throughput.py --qos 1 --form columns --readings 100
    python tests/connectors/mqtt/probe_throughput.py --qos 0 --form single

Use a broker of your own or a test broker: the probe subscribes to a topic of its own
(``hazwatch/v1/probe<pid>/…``) with a client id of its own and removes its session after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import orjson
import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from hazwatch.connectors.base import Health, Link
from hazwatch.connectors.mqtt import MqttConfig, MqttConnector
from hazwatch.domain.reject import DeadLetter

TAGS = 1000


def keys(enterprise: str) -> list[str]:
    return [f"{enterprise}.main.farm.tk-{i}.level" for i in range(TAGS)]


# The publisher (a child process).


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _publish_packet(topic: bytes, payload: bytes, qos: int, packet_id: int) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += packet_id.to_bytes(2, "big")
    body += payload
    return bytes([0x30 | (qos << 1)]) + _varint(len(body)) + body


def _payloads(form: str, readings: int, enterprise: str) -> list[bytes]:
    names = keys(enterprise)
    out: list[bytes] = []
    for variant in range(64):
        ts = 1_800_000_000_000 + variant
        if form == "single":
            out.extend(
                orjson.dumps({"tag": names[i % TAGS], "ts": ts, "value": variant + i / 10})
                for i in range(variant * 16, variant * 16 + 16)
            )
        elif form == "columns":
            chosen = [names[(variant * readings + i) % TAGS] for i in range(readings)]
            out.append(
                orjson.dumps(
                    {
                        "tag": chosen,
                        "ts": [ts + i for i in range(readings)],
                        "value": [variant + i / 10 for i in range(readings)],
                    }
                )
            )
        else:
            out.append(
                orjson.dumps(
                    {
                        "readings": [
                            {"tag": names[(variant * readings + i) % TAGS], "ts": ts, "value": i}
                            for i in range(readings)
                        ]
                    }
                )
            )
    return out


class _Acks:
    """Counts the PUBACKs (4 bytes each) the broker sends the publisher."""

    def __init__(self, sock: socket.socket) -> None:
        self.count = 0
        self._sock = sock
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        pending = b""
        while True:
            try:
                data = self._sock.recv(65536)
            except OSError:
                return
            if not data:
                return
            pending += data
            whole = len(pending) // 4
            self.count += whole
            pending = pending[whole * 4 :]

    def wait(self, sent: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.count < sent and time.monotonic() < deadline:
            time.sleep(0.01)


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port))
    client_id = f"probe-pub-{os.getpid()}".encode()
    connect = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    sock.sendall(b"\x10" + _varint(len(connect)) + connect)
    if sock.recv(4)[:2] != b"\x20\x02":
        raise SystemExit("no CONNACK")
    return sock


def publish(args: argparse.Namespace) -> None:
    """Send messages for ``args.seconds``; print how many (all acknowledged at QoS 1)."""
    topic = f"hazwatch/v1/{args.enterprise}/probe".encode()
    payloads = _payloads(args.form, args.readings, args.enterprise)
    sock = _connect(args.host, args.port)
    acks = _Acks(sock) if args.qos else None
    burst = 200 if not args.rate else max(1, int(args.rate / 100))
    sent = packet_id = 0
    start = time.monotonic()
    while (now := time.monotonic()) < start + args.seconds:
        if args.rate and sent >= (now - start) * args.rate:
            time.sleep(0.002)
            continue
        while acks is not None and sent - acks.count > 5_000:  # bound the broker's input
            time.sleep(0.001)
        chunk = []
        for _ in range(burst):
            packet_id = packet_id % 65535 + 1
            payload = payloads[sent % len(payloads)]
            chunk.append(_publish_packet(topic, payload, args.qos, packet_id))
            sent += 1
        sock.sendall(b"".join(chunk))
    elapsed = time.monotonic() - start
    if acks is not None:
        acks.wait(sent)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    acked = acks.count if acks is not None else sent
    print(json.dumps({"sent": sent, "acked": acked, "seconds": elapsed}), flush=True)


# The connector side.


class CountingLink:
    def __init__(self, enterprise: str) -> None:
        self.ids = {key: i for i, key in enumerate(keys(enterprise))}
        self.refused: list[DeadLetter] = []

    def link(self) -> Link:
        return Link(
            resolve=self.ids.get,
            refuse=self.refused.append,
            device=lambda key, health, detail: None,
            now=lambda: int(time.time() * 1000),
        )


async def probe(args: argparse.Namespace) -> dict[str, object]:
    enterprise = f"probe{os.getpid()}"
    client_id = f"hazwatch-probe-{os.getpid()}"
    config = MqttConfig(
        name="probe",
        host=args.host,
        port=args.port,
        client_id=client_id,
        topics=[f"hazwatch/v1/{enterprise}/#"],
        qos=args.qos,
        flush_ms=args.flush_ms,
    )
    link = CountingLink(enterprise)
    per_message = 1 if args.form == "single" else args.readings
    readings = 0
    first = last = 0.0
    async with MqttConnector(config, link.link()) as connector:
        await asyncio.wait_for(connector.health.wait_for(Health.ONLINE), 10)
        publisher = subprocess.Popen(
            [sys.executable, __file__, "--publish", "--enterprise", enterprise, *_argv(args)],
            stdout=subprocess.PIPE,
        )
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        batches = aiter(connector)
        while True:
            try:
                batch = await asyncio.wait_for(anext(batches), 3.0)
            except TimeoutError:
                if publisher.poll() is not None:
                    break
                continue
            if not first:
                first = time.monotonic()
            readings += len(batch)
            last = time.monotonic()
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        out, _ = publisher.communicate(timeout=60)
    _remove_session(args.host, args.port, client_id)
    published = json.loads(out)
    span = max(last - first, 1e-9)
    cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)
    return {
        "qos": args.qos,
        "form": args.form,
        "readings_per_message": per_message,
        "published_messages": published["sent"],
        "publish_rate_msgs_s": round(published["sent"] / published["seconds"]),
        "received_messages": connector.messages,
        "received_readings": readings,
        "msgs_per_s": round(connector.messages / span),
        "readings_per_s": round(readings / span),
        "refused": len(link.refused),
        "connector_cpu_share": round(cpu / span, 2),
        "exactly_once": connector.messages == published["sent"],
    }


def _argv(args: argparse.Namespace) -> list[str]:
    return [
        f"--host={args.host}",
        f"--port={args.port}",
        f"--qos={args.qos}",
        f"--form={args.form}",
        f"--readings={args.readings}",
        f"--seconds={args.seconds}",
        f"--rate={args.rate}",
    ]


def _remove_session(host: str, port: int, client_id: str) -> None:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.connect(host, port, clean_start=True)  # drops the kept session; expires at once
    client.disconnect()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    parser.add_argument("--qos", type=int, choices=(0, 1), default=1)
    parser.add_argument("--form", choices=("single", "columns", "rows"), default="columns")
    parser.add_argument("--readings", type=int, default=100, help="per message (not single)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=float, default=0, help="messages/s; 0: as fast as it can")
    parser.add_argument("--flush-ms", type=int, default=20)
    parser.add_argument("--publish", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--enterprise", default="probe", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.publish:
        publish(args)
        return
    print(json.dumps(asyncio.run(probe(args)), indent=2))


if __name__ == "__main__":
    main()
