"""The store-and-forward queue: upstream messages kept in a SQLite file until delivered.

Contract:

* ``append`` stores a list of messages in one transaction and returns only once they are
  on disk (WAL, ``synchronous=FULL``); each gets the next sequence number, which is never
  reused, so the order of the queue is the order of appends.
* ``peek`` returns the oldest messages in order (optionally within a range of sequence
  numbers) and *pins* them: a pinned message is in the upstream's hands and is neither
  returned again by ``peek`` nor evicted. ``ack`` deletes delivered messages, ``unpin``
  hands messages back, ``dead_letter`` moves a message the upstream refused for good into
  the ``dead_letters`` table. Pins live in memory: after a restart every message stored is
  pending again (it may have been delivered just before the stop; a duplicate is harmless).
* A quota bounds the bytes of queued messages. When an append would pass it, the oldest
  unpinned messages are evicted first (the newest of the append itself only if the append
  alone exceeds the quota); evicted readings and messages are counted in the file, so the
  count survives restarts, together with how much of it has been reported upstream.
* Dead letters (refused messages, and inputs the connectors could not decode) are kept in
  the same file, at most ``dead_letter_limit`` of them; beyond, the oldest are deleted and
  counted, so that a source sending garbage cannot fill the disk.
* Every method may be called from any thread (one connection, one lock).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from hazwatch.domain.clock import Millis
from hazwatch.domain.reject import DeadLetter
from hazwatch.gateway.encode import Message

ROW_OVERHEAD = 32
"""bytes counted against the quota per message besides its body (row and index)"""

DEAD_LETTER_LIMIT = 10_000
"""dead letters kept at most; beyond, the oldest are deleted (and counted)"""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    readings INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    readings INTEGER NOT NULL,
    body BLOB NOT NULL
);
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Queued:
    """A stored message and its sequence number."""

    seq: int
    body: bytes
    readings: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Appended:
    """What an append did: the last sequence number given, and what it had to evict."""

    last_seq: int
    stored: int
    evicted_messages: int
    evicted_readings: int


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueStats:
    messages: int
    readings: int
    bytes: int
    dropped_messages: int
    dropped_readings: int
    reported_dropped: int
    dead_letters: int
    dead_letters_discarded: int


class MessageQueue:
    """A disk-backed FIFO of messages with a quota (see the module docstring)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        quota_bytes: int,
        dead_letter_limit: int = DEAD_LETTER_LIMIT,
    ) -> None:
        if quota_bytes < 1:
            raise ValueError("quota_bytes must be positive")
        self.quota_bytes = quota_bytes
        self.dead_letter_limit = dead_letter_limit
        self._conn = conn
        self._lock = threading.Lock()
        self._pins: set[int] = set()
        count, size, readings = conn.execute(
            "SELECT count(*), coalesce(sum(length(body)), 0), coalesce(sum(readings), 0) "
            "FROM messages"
        ).fetchone()
        self._count: int = count
        self._bytes: int = size + count * ROW_OVERHEAD
        self._readings: int = readings
        self._meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        self._dead: int = conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0]
        row = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'messages'").fetchone()
        self._last_seq: int = row[0] if row else 0

    @classmethod
    def open(
        cls, path: Path, *, quota_bytes: int, dead_letter_limit: int = DEAD_LETTER_LIMIT
    ) -> MessageQueue:
        """Open (or create) the queue file at ``path``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA journal_size_limit=67108864")
            conn.executescript(_SCHEMA)
            return cls(conn, quota_bytes=quota_bytes, dead_letter_limit=dead_letter_limit)
        except BaseException:
            conn.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # writing ---------------------------------------------------------------------------

    def append(self, messages: Sequence[Message]) -> Appended:
        """Store ``messages`` durably in one transaction, evicting the oldest if need be."""
        with self._lock:
            sizes = [len(m.body) + ROW_OVERHEAD for m in messages]
            excess = self._bytes + sum(sizes) - self.quota_bytes
            evicted: list[tuple[int, int, int]] = []  # seq, readings, size
            freed = 0
            if excess > 0:
                rows = self._conn.execute(
                    "SELECT seq, readings, length(body) FROM messages ORDER BY seq"
                )
                for seq, readings, length in rows:
                    if seq in self._pins:
                        continue
                    evicted.append((seq, readings, length + ROW_OVERHEAD))
                    freed += length + ROW_OVERHEAD
                    if freed >= excess:
                        break
                rows.close()
            skip = 0  # the oldest new messages, when the append alone passes the quota
            while freed < excess and skip < len(messages):
                freed += sizes[skip]
                skip += 1
            dropped_messages = len(evicted) + skip
            dropped_readings = sum(r for _, r, _ in evicted) + sum(
                m.readings for m in messages[:skip]
            )
            last = self._last_seq
            with self._transaction():
                if evicted:
                    self._conn.executemany(
                        "DELETE FROM messages WHERE seq = ?", [(s,) for s, _, _ in evicted]
                    )
                for message in messages[skip:]:
                    cursor = self._conn.execute(
                        "INSERT INTO messages (readings, body) VALUES (?, ?)",
                        (message.readings, message.body),
                    )
                    last = cursor.lastrowid or last
                if dropped_messages:
                    self._add_meta("dropped_messages", dropped_messages)
                    self._add_meta("dropped_readings", dropped_readings)
            kept = messages[skip:]
            self._last_seq = last
            self._count += len(kept) - len(evicted)
            self._bytes += sum(sizes[skip:]) - sum(s for _, _, s in evicted)
            self._readings += sum(m.readings for m in kept) - sum(r for _, r, _ in evicted)
            return Appended(
                last_seq=last,
                stored=len(kept),
                evicted_messages=dropped_messages,
                evicted_readings=dropped_readings,
            )

    def _add_meta(self, key: str, delta: int) -> None:
        value = self._meta.get(key, 0) + delta
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )
        self._meta[key] = value

    # reading ---------------------------------------------------------------------------

    def peek(self, limit: int, *, after: int = 0, through: int | None = None) -> list[Queued]:
        """The oldest ``limit`` unpinned messages with ``after < seq <= through``, in
        order; they are pinned until ``ack``, ``unpin`` or ``dead_letter``."""
        if limit < 1:
            return []
        with self._lock:
            upper = self._last_seq if through is None else through
            # at most len(pins) of the rows are pinned, so one query finds enough
            rows = self._conn.execute(
                "SELECT seq, readings, body FROM messages WHERE seq > ? AND seq <= ? "
                "ORDER BY seq LIMIT ?",
                (after, upper, limit + len(self._pins)),
            ).fetchall()
            found = [
                Queued(seq=seq, body=bytes(body), readings=readings)
                for seq, readings, body in rows
                if seq not in self._pins
            ][:limit]
            self._pins.update(q.seq for q in found)
            return found

    def unpin(self, seqs: Iterable[int]) -> None:
        with self._lock:
            self._pins.difference_update(seqs)

    def ack(self, seqs: Sequence[int]) -> int:
        """Delete delivered messages; returns how many were still stored."""
        if not seqs:
            return 0
        with self._lock, self._transaction():
            removed = self._delete(seqs)
        self._pins.difference_update(seqs)
        return removed

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            self._meta = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
            raise
        self._conn.execute("COMMIT")

    def _delete(self, seqs: Sequence[int]) -> int:
        """Delete messages inside a transaction; updates the counts (caller holds the lock)."""
        gone = readings = size = 0
        for chunk in _chunks(seqs, 500):
            marks = ",".join("?" * len(chunk))
            n, r, b = self._conn.execute(
                "SELECT count(*), coalesce(sum(readings), 0), coalesce(sum(length(body)), 0) "
                f"FROM messages WHERE seq IN ({marks})",
                chunk,
            ).fetchone()
            self._conn.execute(f"DELETE FROM messages WHERE seq IN ({marks})", chunk)
            gone, readings, size = gone + n, readings + r, size + b
        self._count -= gone
        self._readings -= readings
        self._bytes -= size + gone * ROW_OVERHEAD
        return gone

    # refusals --------------------------------------------------------------------------

    def dead_letter(self, seq: int, *, at: Millis, reason: str, detail: str) -> None:
        """Move a message the upstream refused for good into ``dead_letters``."""
        with self._lock:
            self._pins.discard(seq)
            row = self._conn.execute(
                "SELECT readings, body FROM messages WHERE seq = ?", (seq,)
            ).fetchone()
            if row is None:
                return
            with self._transaction():
                self._conn.execute(
                    "INSERT INTO dead_letters (at, kind, reason, detail, readings, body) "
                    "VALUES (?, 'message', ?, ?, ?, ?)",
                    (at, reason, detail, row[0], row[1]),
                )
                self._delete([seq])
                self._dead += 1
                self._trim_dead()

    def keep(self, message: Message, *, at: Millis, reason: str, detail: str) -> None:
        """Keep a refused message that never was in the queue (such as a report)."""
        self._insert_dead("message", at, reason, detail, message.readings, message.body)

    def refuse(self, letter: DeadLetter) -> None:
        """Keep input a connector could not decode (it never becomes a message)."""
        body = orjson.dumps(letter)
        self._insert_dead("input", letter.received, letter.reason, letter.detail, 0, body)

    def _insert_dead(
        self, kind: str, at: Millis, reason: str, detail: str, readings: int, body: bytes
    ) -> None:
        with self._lock, self._transaction():
            self._conn.execute(
                "INSERT INTO dead_letters (at, kind, reason, detail, readings, body) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (at, kind, reason, detail, readings, body),
            )
            self._dead += 1
            self._trim_dead()

    def _trim_dead(self) -> None:
        excess = self._dead - self.dead_letter_limit
        if excess > 0:
            self._conn.execute(
                "DELETE FROM dead_letters WHERE id IN "
                "(SELECT id FROM dead_letters ORDER BY id LIMIT ?)",
                (excess,),
            )
            self._dead -= excess
            self._add_meta("dead_letters_discarded", excess)

    def dead_letters(self, limit: int = 100) -> list[tuple[Millis, str, str, str, int, bytes]]:
        """The newest dead letters: (at, kind, reason, detail, readings, body)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT at, kind, reason, detail, readings, body FROM dead_letters "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [(a, k, r, d, n, bytes(b)) for a, k, r, d, n, b in rows]

    # counts ----------------------------------------------------------------------------

    def mark_reported(self, dropped: int) -> None:
        """Record that the dropped count up to ``dropped`` has been delivered upstream."""
        with self._lock:
            reported = self._meta.get("reported_dropped", 0)
            if dropped > reported:
                self._add_meta("reported_dropped", dropped - reported)

    @property
    def last_seq(self) -> int:
        return self._last_seq

    @property
    def dropped_readings(self) -> int:
        return int(self._meta.get("dropped_readings", 0))

    @property
    def reported_dropped(self) -> int:
        return int(self._meta.get("reported_dropped", 0))

    def __len__(self) -> int:
        return self._count

    def stats(self) -> QueueStats:
        with self._lock:
            return QueueStats(
                messages=self._count,
                readings=self._readings,
                bytes=self._bytes,
                dropped_messages=self._meta.get("dropped_messages", 0),
                dropped_readings=self._meta.get("dropped_readings", 0),
                reported_dropped=self._meta.get("reported_dropped", 0),
                dead_letters=self._dead,
                dead_letters_discarded=self._meta.get("dead_letters_discarded", 0),
            )


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])
