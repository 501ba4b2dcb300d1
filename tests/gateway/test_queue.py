"""The store-and-forward queue: order, acknowledgement, restarts, the quota, threads."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.gateway.encode import Message
from hazwatch.gateway.queue import ROW_OVERHEAD, MessageQueue

MB = 1024 * 1024


def _msg(i: int, readings: int = 1, size: int = 0) -> Message:
    body = f"m{i}".encode().ljust(size, b".")
    return Message(body=body, readings=readings)


def _open(path: Path, quota: int = 10 * MB) -> MessageQueue:
    return MessageQueue.open(path / "q.db", quota_bytes=quota)


def test_messages_come_out_in_the_order_they_went_in(tmp_path: Path) -> None:
    q = _open(tmp_path)
    q.append([_msg(i) for i in range(5)])
    q.append([_msg(i) for i in range(5, 8)])
    out = q.peek(100)
    assert [m.body for m in out] == [f"m{i}".encode() for i in range(8)]
    assert [m.seq for m in out] == sorted(m.seq for m in out)
    assert q.peek(3, after=out[2].seq) == []  # all pinned
    q.close()


def test_peek_pins_and_ack_deletes(tmp_path: Path) -> None:
    q = _open(tmp_path)
    q.append([_msg(i, readings=2) for i in range(6)])
    first = q.peek(2)
    assert [m.body for m in first] == [b"m0", b"m1"]
    second = q.peek(2)
    assert [m.body for m in second] == [b"m2", b"m3"], "pinned messages are not returned again"
    assert q.ack([m.seq for m in first]) == 2
    q.unpin([second[1].seq])
    assert [m.body for m in q.peek(10)] == [b"m3", b"m4", b"m5"]
    stats = q.stats()
    assert (stats.messages, stats.readings) == (4, 8)
    assert q.ack([first[0].seq]) == 0, "acknowledging twice removes nothing"
    q.close()


def test_a_range_limits_what_peek_sees(tmp_path: Path) -> None:
    q = _open(tmp_path)
    last = q.append([_msg(i) for i in range(10)]).last_seq
    window = q.peek(100, after=last - 7, through=last - 4)
    assert [m.body for m in window] == [b"m3", b"m4", b"m5"]
    q.close()


def test_a_reopened_queue_continues_where_it_stopped(tmp_path: Path) -> None:
    q = _open(tmp_path)
    q.append([_msg(i, readings=3) for i in range(4)])
    delivered = q.peek(1)
    q.ack([delivered[0].seq])
    q.peek(2)  # in flight when the process stops: pins do not survive
    last = q.last_seq
    q.close()

    again = _open(tmp_path)
    assert [m.body for m in again.peek(10)] == [b"m1", b"m2", b"m3"]
    assert again.stats().readings == 9
    appended = again.append([_msg(9)])
    assert appended.last_seq == last + 1
    assert again.peek(10)[-1].body == b"m9"
    again.close()


def test_sequence_numbers_are_never_reused_after_the_queue_empties(tmp_path: Path) -> None:
    q = _open(tmp_path)
    first = q.append([_msg(0), _msg(1)]).last_seq
    q.ack([m.seq for m in q.peek(10)])
    q.close()
    q = _open(tmp_path)
    assert q.append([_msg(2)]).last_seq == first + 1
    q.close()


def test_over_the_quota_the_oldest_are_evicted_and_counted_across_restarts(
    tmp_path: Path,
) -> None:
    size = 100
    per = size + ROW_OVERHEAD
    q = _open(tmp_path, quota=10 * per)
    q.append([_msg(i, readings=5, size=size) for i in range(10)])
    assert q.stats().dropped_readings == 0
    appended = q.append([_msg(i, readings=5, size=size) for i in range(10, 13)])
    assert (appended.evicted_messages, appended.evicted_readings) == (3, 15)
    assert [m.body[:3] for m in q.peek(1)] == [b"m3."]
    stats = q.stats()
    assert stats.bytes <= q.quota_bytes
    assert (stats.messages, stats.dropped_messages, stats.dropped_readings) == (10, 3, 15)
    q.close()

    again = _open(tmp_path, quota=10 * per)
    assert again.dropped_readings == 15
    again.append([_msg(20, readings=7, size=size)])
    assert again.dropped_readings == 20
    assert again.reported_dropped == 0
    again.mark_reported(20)
    again.close()
    assert _open(tmp_path, quota=10 * per).reported_dropped == 20


def test_pinned_messages_are_not_evicted(tmp_path: Path) -> None:
    size = 100
    per = size + ROW_OVERHEAD
    q = _open(tmp_path, quota=4 * per)
    q.append([_msg(i, size=size) for i in range(4)])
    in_flight = q.peek(2)  # m0, m1 are in the upstream's hands
    q.append([_msg(i, size=size) for i in range(4, 6)])
    left = {m.seq for m in in_flight}
    q.unpin(left)
    assert [m.body[:2] for m in q.peek(10)] == [b"m0", b"m1", b"m4", b"m5"]
    assert q.dropped_readings == 2
    q.close()


def test_an_append_larger_than_the_quota_keeps_its_newest(tmp_path: Path) -> None:
    size = 100
    per = size + ROW_OVERHEAD
    q = _open(tmp_path, quota=3 * per)
    q.append([_msg(0, size=size)])
    appended = q.append([_msg(i, readings=2, size=size) for i in range(1, 6)])
    assert appended.evicted_messages == 3  # m0, and m1 and m2 of the append itself
    assert appended.evicted_readings == 1 + 2 * 2
    assert [m.body[:2] for m in q.peek(10)] == [b"m3", b"m4", b"m5"]
    q.close()


def test_refused_messages_move_to_dead_letters(tmp_path: Path) -> None:
    q = _open(tmp_path)
    q.append([_msg(0, readings=4), _msg(1)])
    head = q.peek(1)[0]
    q.dead_letter(head.seq, at=123, reason="http.400", detail="bad payload")
    q.refuse(DeadLetter(received=124, source="opcua", reason=RejectReason.MALFORMED, detail="junk"))
    assert [m.body for m in q.peek(10)] == [b"m1"]
    letters = q.dead_letters()
    assert [(a, k, r, n) for a, k, r, _, n, _ in letters] == [
        (124, "input", "malformed", 0),
        (123, "message", "http.400", 4),
    ]
    assert letters[1][5] == b"m0"
    assert q.stats().dead_letters == 2
    q.close()
    assert _open(tmp_path).stats().dead_letters == 2


def test_appends_are_durable_in_wal_mode(tmp_path: Path) -> None:
    q = _open(tmp_path)
    q.append([_msg(0)])
    other = sqlite3.connect(tmp_path / "q.db")
    try:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert other.execute("SELECT count(*) FROM messages").fetchone()[0] == 1
    finally:
        other.close()
        q.close()


def test_concurrent_appends_and_peeks_lose_and_repeat_nothing(tmp_path: Path) -> None:
    q = _open(tmp_path)
    writers, per_writer, batch = 3, 400, 20
    taken: list[bytes] = []
    done = threading.Event()
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            for start in range(0, per_writer, batch):
                q.append(
                    [
                        Message(body=f"{w}:{i}".encode(), readings=1)
                        for i in range(start, start + batch)
                    ]
                )
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        try:
            while not done.is_set() or len(q):
                got = q.peek(50)
                taken.extend(m.body for m in got)
                q.ack([m.seq for m in got])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(writers)]
    reader = threading.Thread(target=read)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    done.set()
    reader.join(30)
    assert not errors
    assert len(taken) == len(set(taken)) == writers * per_writer
    for w in range(writers):  # each writer's messages come out in its order
        mine = [int(b.split(b":")[1]) for b in taken if b.startswith(f"{w}:".encode())]
        assert mine == sorted(mine)
    q.close()


def test_thousands_of_messages_a_second(tmp_path: Path) -> None:
    q = _open(tmp_path)
    body = b"x" * 300
    n, batch = 10_000, 100
    started = time.perf_counter()
    for _ in range(n // batch):
        q.append([Message(body=body, readings=10)] * batch)
    while len(q):
        q.ack([m.seq for m in q.peek(200)])
    elapsed = time.perf_counter() - started
    assert elapsed < 5.0, f"{n} messages through the queue took {elapsed:.1f} s"
    q.close()


def test_a_quota_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="quota"):
        _open(tmp_path, quota=0)


def test_dead_letters_are_bounded_and_the_discarded_counted(tmp_path: Path) -> None:
    q = MessageQueue.open(tmp_path / "q.db", quota_bytes=MB, dead_letter_limit=3)
    for i in range(5):
        q.refuse(
            DeadLetter(received=i, source="mqtt", reason=RejectReason.MALFORMED, detail=f"#{i}")
        )
    assert [d[3] for d in q.dead_letters()] == ["#4", "#3", "#2"]
    stats = q.stats()
    assert (stats.dead_letters, stats.dead_letters_discarded) == (3, 2)
    q.close()
