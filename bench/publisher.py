"""A lean MQTT publisher for benchmarks: raw MQTT 3.1.1 over one socket, paced.

It plays the plant side (sensors, or an edge gateway batching readings) at a set rate while
costing the shared 2 cores as little as possible: packets are built by hand and written in
bursts, PUBACKs are only counted. Run as a child process of ``bench/mqtt.py``::

    python bench/publisher.py SPEC.json   # prints {"sent": messages, "readings": n, ...}

The spec names the broker, QoS, the tag keys, readings per message, the rate in readings/s
(0 = as fast as it can) and the duration. Every tag reports once per round; round r is
stamped ``t0 + r`` ms, so no (tag, ts) repeats. Values sit mid-range with noise, and 0.5 %
of the tags wander across their limits, so alarms really transition.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import orjson

MAX_UNACKED = 5_000
SLICE_S = 0.005


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(topic: bytes, payload: bytes, qos: int, packet_id: int) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += packet_id.to_bytes(2, "big")
    body += payload
    return bytes([0x30 | (qos << 1)]) + _varint(len(body)) + body


class Acks:
    """Counts PUBACKs (4 bytes each) in a thread of its own."""

    def __init__(self, sock: socket.socket) -> None:
        self.count = 0
        self._sock = sock
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        pending = 0
        while True:
            try:
                data = self._sock.recv(1 << 16)
            except OSError:
                return
            if not data:
                return
            pending += len(data)
            self.count += pending // 4
            pending %= 4


def _connect(host: str, port: int) -> socket.socket:
    sock = socket.create_connection((host, port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client_id = f"bench-pub-{os.getpid()}".encode()
    connect = b"\x00\x04MQTT\x04\x02\x00\x3c" + len(client_id).to_bytes(2, "big") + client_id
    sock.sendall(b"\x10" + _varint(len(connect)) + connect)
    if sock.recv(4)[:2] != b"\x20\x02":
        raise SystemExit("the broker did not accept the connection")
    return sock


def _messages(
    spec: dict[str, object], rng: np.random.Generator
) -> tuple[list[tuple[bytes, list[str]]], int]:
    """(topic, keys) of each message of one round, grouped by enterprise."""
    keys = list(spec["keys"])  # type: ignore[call-overload]
    per = int(spec["per_message"])  # type: ignore[call-overload]
    by_enterprise: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        by_enterprise[key.split(".", 1)[0]].append(key)
    out = []
    for enterprise, members in by_enterprise.items():
        topic = f"hazwatch/v1/{enterprise}/bench".encode()
        out += [(topic, members[i : i + per]) for i in range(0, len(members), per)]
    return out, len(keys)


def publish(spec: dict[str, object]) -> dict[str, object]:
    rng = np.random.default_rng(7)
    qos = int(spec["qos"])  # type: ignore[call-overload]
    single = int(spec["per_message"]) == 1  # type: ignore[call-overload]
    rate = float(spec["rate"])  # type: ignore[arg-type]  # readings per second; 0: flat out
    seconds = float(spec["seconds"])  # type: ignore[arg-type]
    t0 = int(spec["t0"])  # type: ignore[call-overload]
    messages, n_tags = _messages(spec, rng)
    base = rng.uniform(30, 70, n_tags)
    wild = rng.random(n_tags) < 0.005
    sock = _connect(str(spec["host"]), int(spec["port"]))  # type: ignore[call-overload]
    acks = Acks(sock) if qos else None

    sent = readings = packet_id = 0
    rounds = 0
    start = time.monotonic()
    while time.monotonic() < start + seconds:
        values = base + rng.normal(0, 1, n_tags)
        values[wild] = 50 + 49 * np.sin(rounds / 70 + base[wild])
        ts = t0 + rounds
        offset = 0
        for topic, keys in messages:
            chunk_values = values[offset : offset + len(keys)].round(3).tolist()
            offset += len(keys)
            if single:
                payload = orjson.dumps({"tag": keys[0], "ts": ts, "value": chunk_values[0]})
            else:
                payload = orjson.dumps({"tag": keys, "ts": ts, "value": chunk_values})
            while True:  # pacing and a bound on what the broker holds for us
                elapsed = time.monotonic() - start
                ahead = rate and readings >= elapsed * rate
                flooding = acks is not None and sent - acks.count > MAX_UNACKED
                if not (ahead or flooding):
                    break
                time.sleep(SLICE_S / 5)
            packet_id = packet_id % 65535 + 1
            sock.sendall(_packet(topic, payload, qos, packet_id))
            sent += 1
            readings += len(keys)
            if time.monotonic() >= start + seconds:
                break
        rounds += 1
    elapsed = time.monotonic() - start
    if acks is not None:
        deadline = time.monotonic() + 60
        while acks.count < sent and time.monotonic() < deadline:
            time.sleep(0.01)
    sock.sendall(b"\xe0\x00")  # DISCONNECT
    sock.close()
    return {
        "sent": sent,
        "readings": readings,
        "seconds": elapsed,
        "acked": acks.count if acks else sent,
        "rounds": rounds,
    }


if __name__ == "__main__":
    print(json.dumps(publish(json.loads(Path(sys.argv[1]).read_text()))), flush=True)
