"""Decoding of hazwatch MQTT JSON messages into one batch. Pure: messages in, batch and
refusals out; no I/O, no clock (``now`` is given).

A message is a topic and a payload. The topic is ``hazwatch/v1/<enterprise>/<anything…>``;
every tag key in the payload must start with that enterprise (``lpg.main.…`` on
``hazwatch/v1/lpg/…``). The payload is UTF-8 JSON in one of three forms (docs/mqtt.md)::

    {"tag": "lpg.main.sphere-farm.tk-201.level", "ts": 1800000000000, "value": 61.2}
    {"readings": [{"tag": …, "ts": …, "value": …, "quality": "good"}, …]}
    {"tag": [keys…], "ts": [ms…] or one ms, "value": [numbers…], "quality": [0|1|2…]}

``ts`` is epoch milliseconds or ISO 8601 with a zone; ``quality`` (default good) is good,
uncertain or bad, or 0, 1, 2. Any form may add ``server_ts`` (per reading, or a list in the
column form; 0 for none): when an OPC UA server between device and sender stamped it.

Nothing is lost: a message that cannot be read as a whole (not JSON, not one of the forms,
too large, a topic outside the convention) becomes one ``DeadLetter`` holding an excerpt
of the payload; a reading that is wrong (a missing field, a value that is not a number, an
unknown tag, a tag of another enterprise: ``FORBIDDEN``) becomes a ``DeadLetter`` of its
own and the other readings of the message still count.

Messages on a links topic (``hazwatch/v1/<enterprise>/links/<sender>``) carry the health
of a sender's links, not readings (``links.py``): they are parsed into ``Decoded.links``.
A topic is told apart only when it is not among the known topics of readings (a cache), so
readings pay nothing for it.

The column form is the fast one: its keys are looked up in one pass through a cache of
key → id (filled through ``resolve`` on first sight), its columns are checked by type in
bulk and extended into the batch's lists, which become numpy arrays once per batch.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from hazwatch.connectors.http.decode import EXCERPT, QUALITIES, excerpt
from hazwatch.connectors.mqtt.config import TOPIC_ROOT
from hazwatch.connectors.mqtt.links import LinksMessage, LinksTopic, links_topic_of, parse_links
from hazwatch.domain.batch import NO_STAMP, Batch
from hazwatch.domain.clock import MAX_MILLIS, Millis, parse_millis
from hazwatch.domain.keys import SEGMENT_RE, TAG_KEY
from hazwatch.domain.reject import DeadLetter, RejectReason

Resolve = Callable[[str], int | None]


_NUMBERS = frozenset({int, float})
_INTS = frozenset({int})
_CACHE_LIMIT = 1_000_000
_TOPIC_CACHE_LIMIT = 100_000
_TS_RULE = '"ts" must be epoch milliseconds (0 to year 9999) or ISO 8601 with a zone'
_SERVER_RULE = '"server_ts" must be epoch milliseconds (0: none) or ISO 8601 with a zone'
_QUALITY_RULE = '"quality" must be good, uncertain or bad (or 0, 1, 2)'


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    """One batch of the readings of some messages, and what was refused of them."""

    batch: Batch
    refused: tuple[DeadLetter, ...]
    messages: int
    readings: int
    """Readings found in the messages, accepted or refused."""
    links: tuple[LinksMessage, ...] = ()
    """The links messages among them, in message order."""


@dataclass(frozen=True, slots=True)
class _Refusal:
    reason: RejectReason
    detail: str


_Reading = tuple[int, int, float, int]


class Decoder:
    """Decodes messages of the hazwatch MQTT JSON convention (see module docstring).

    ``resolve`` turns a tag key into its id (None: unknown). Ids of known keys are kept,
    per enterprise, for the decoder's life; ``forget()`` drops them (after tags change).
    """

    def __init__(self, resolve: Resolve, *, source: str, max_payload_bytes: int) -> None:
        self.source = source
        self.max_payload_bytes = max_payload_bytes
        self._resolve = resolve
        self._ids: dict[str, dict[str, int]] = {}
        self._cached = 0
        self._topics: dict[str, str] = {}

    def forget(self) -> None:
        self._ids.clear()
        self._cached = 0
        self._topics.clear()

    def decode(self, messages: Iterable[tuple[str, bytes | bytearray]], now: Millis) -> Decoded:
        """All readings of ``messages`` in one batch (received ``now``), in message order."""
        out = _Out(self.source, now)
        loads = orjson.loads
        count = 0
        for topic, payload in messages:
            count += 1
            enterprise = self._topics.get(topic)
            if enterprise is None:
                where = links_topic_of(topic)
                if where is not None:
                    self._links(topic, where, payload, out)
                    continue
                enterprise = self._enterprise_of(topic)
                if enterprise is None:
                    out.refuse_message(
                        RejectReason.MALFORMED,
                        f"{topic}: topic is not {TOPIC_ROOT}<enterprise>/…",
                        payload,
                    )
                    continue
            if len(payload) > self.max_payload_bytes:
                out.refuse_message(
                    RejectReason.OVERSIZED,
                    f"{topic}: {len(payload)} bytes; at most {self.max_payload_bytes} allowed",
                    payload,
                )
                continue
            try:
                doc = loads(payload)
            except orjson.JSONDecodeError as exc:
                out.refuse_message(
                    RejectReason.MALFORMED, f"{topic}: not UTF-8 JSON: {exc}", payload
                )
                continue
            if type(doc) is not dict:
                out.refuse_message(RejectReason.MALFORMED, f"{topic}: {_FORMS}", payload)
                continue
            cache = self._ids.get(enterprise)
            if cache is None:
                cache = self._ids[enterprise] = {}
            tag = doc.get("tag")
            if type(tag) is str:
                self._single(doc, tag, enterprise, cache, topic, out)
            elif type(tag) is list:
                self._columns(doc, tag, enterprise, cache, topic, payload, out)
            elif "readings" in doc and "tag" not in doc:
                self._rows(doc["readings"], enterprise, cache, topic, payload, out)
            else:
                out.refuse_message(RejectReason.MALFORMED, f"{topic}: {_FORMS}", payload)
        return Decoded(
            batch=Batch.of(
                tag=out.tags,
                ts=out.stamps,
                value=out.values,
                quality=out.qualities,
                received=now,
                server_ts=out.servers if any(out.servers) else None,
            ),
            refused=tuple(out.refused),
            messages=count,
            readings=out.seen,
            links=tuple(out.links),
        )

    def _links(self, topic: str, where: LinksTopic, payload: bytes | bytearray, out: _Out) -> None:
        message, letters = parse_links(
            topic,
            where,
            payload,
            source=self.source,
            now=out.now,
            max_payload_bytes=self.max_payload_bytes,
        )
        out.refused.extend(letters)
        if message is not None:
            out.links.append(message)

    # The three forms.

    def _single(
        self,
        doc: dict[str, Any],
        key: str,
        enterprise: str,
        cache: dict[str, int],
        topic: str,
        out: _Out,
    ) -> None:
        out.seen += 1
        tag_id = cache.get(key)
        ts = doc.get("ts")
        value = doc.get("value")
        quality = doc.get("quality")
        server = doc.get("server_ts")
        if (
            tag_id is not None
            and type(ts) is int
            and 0 <= ts <= MAX_MILLIS
            and (type(value) is float or type(value) is int)
            and quality is None
            and server is None
        ):
            out.tags.append(tag_id)
            out.stamps.append(ts)
            out.values.append(value)
            out.qualities.append(0)
            out.servers.append(NO_STAMP)
            return
        self._one(key, ts, value, quality, server, enterprise, cache, topic, None, out)

    def _rows(
        self,
        items: object,
        enterprise: str,
        cache: dict[str, int],
        topic: str,
        payload: bytes | bytearray,
        out: _Out,
    ) -> None:
        if type(items) is not list:
            out.refuse_message(
                RejectReason.MALFORMED, f'{topic}: "readings" must be a list', payload
            )
            return
        out.seen += len(items)
        for index, item in enumerate(items):
            if type(item) is not dict:
                out.refuse_reading(
                    _Refusal(RejectReason.MALFORMED, "reading is not an object"),
                    topic,
                    index,
                    (item, None, None, None),
                )
                continue
            self._one(
                item.get("tag"),
                item.get("ts"),
                item.get("value"),
                item.get("quality"),
                item.get("server_ts"),
                enterprise,
                cache,
                topic,
                index,
                out,
            )

    def _columns(
        self,
        doc: dict[str, Any],
        keys: list[Any],
        enterprise: str,
        cache: dict[str, int],
        topic: str,
        payload: bytes | bytearray,
        out: _Out,
    ) -> None:
        n = len(keys)
        out.seen += n
        values = doc.get("value")
        ts = doc.get("ts")
        quality = doc.get("quality")
        server = doc.get("server_ts")
        shape = _shape_problem(n, values, ts, quality) or _server_problem(n, server)
        if shape:
            out.refuse_message(RejectReason.MALFORMED, f"{topic}: {shape}", payload)
            return
        assert isinstance(values, list)
        if n == 0:
            return
        try:
            ids: list[int | None] | None = list(map(cache.get, keys))
        except TypeError:  # a key that is a list or an object
            ids = None
        # A single "ts" or "quality" stands for all readings; _shape_problem checked it.
        stamps: list[Any] = ts if type(ts) is list else [parse_millis(ts)] * n
        qualities: list[Any] = quality if type(quality) is list else [quality_code(quality)] * n
        servers: list[Any] = server if type(server) is list else [NO_STAMP] * n
        if (
            ids is not None
            and None not in ids
            and set(map(type, values)) <= _NUMBERS
            and (stamps is not ts or _stamps_fast(stamps))
            and (qualities is not quality or _qualities_fast(qualities))
        ):
            out.tags.extend(ids)  # type: ignore[arg-type]  # no None in ids: checked above
            out.values.extend(values)
            out.stamps.extend(stamps)
            out.qualities.extend(qualities)
            out.servers.extend(servers)
            return
        for index in range(n):
            self._one(
                keys[index],
                stamps[index],
                values[index],
                qualities[index],
                servers[index] or None,
                enterprise,
                cache,
                topic,
                index,
                out,
            )

    # One reading, every check.

    def _one(
        self,
        key: object,
        ts: object,
        value: object,
        quality: object,
        server: object,
        enterprise: str,
        cache: dict[str, int],
        topic: str,
        index: int | None,
        out: _Out,
    ) -> None:
        read = self._check(key, ts, value, quality, enterprise, cache)
        stamped = NO_STAMP if server is None else parse_millis(server)
        if isinstance(read, _Refusal) or stamped is None:
            refusal = (
                read
                if isinstance(read, _Refusal)
                else _Refusal(RejectReason.MALFORMED, _SERVER_RULE)
            )
            out.refuse_reading(refusal, topic, index, (key, ts, value, quality))
            return
        tag_id, stamp, number, code = read
        out.tags.append(tag_id)
        out.stamps.append(stamp)
        out.values.append(number)
        out.qualities.append(code)
        out.servers.append(stamped)

    def _check(
        self,
        key: object,
        ts: object,
        value: object,
        quality: object,
        enterprise: str,
        cache: dict[str, int],
    ) -> _Reading | _Refusal:
        if type(key) is not str or not key:
            return _Refusal(RejectReason.MALFORMED, '"tag" must be a tag key (a string)')
        tag_id = cache.get(key)
        if tag_id is None:
            found = self._learn(key, enterprise, cache)
            if isinstance(found, _Refusal):
                return found
            tag_id = found
        stamp = parse_millis(ts)
        if stamp is None:
            return _Refusal(RejectReason.MALFORMED, _TS_RULE)
        if type(value) is not float and type(value) is not int:
            return _Refusal(RejectReason.MALFORMED, '"value" must be a number')
        code = quality_code(quality)
        if code is None:
            return _Refusal(RejectReason.MALFORMED, _QUALITY_RULE)
        return tag_id, stamp, value, code

    def _learn(self, key: str, enterprise: str, cache: dict[str, int]) -> int | _Refusal:
        if not TAG_KEY.fullmatch(key):
            return _Refusal(
                RejectReason.MALFORMED,
                f"tag {key!r} is not a key enterprise.site.installation.equipment.tag",
            )
        if key.partition(".")[0] != enterprise:
            return _Refusal(
                RejectReason.FORBIDDEN,
                f"tag {key!r} is not of enterprise {enterprise!r}, whose topic it came on",
            )
        tag_id = self._resolve(key)
        if tag_id is None:
            return _Refusal(RejectReason.UNKNOWN_TAG, f"unknown tag {key!r}")
        if self._cached >= _CACHE_LIMIT:
            self._ids.clear()
            self._ids[enterprise] = cache
            cache.clear()
            self._cached = 0
        cache[key] = tag_id
        self._cached += 1
        return tag_id

    def _enterprise_of(self, topic: str) -> str | None:
        if not topic.startswith(TOPIC_ROOT):
            return None
        enterprise = topic[len(TOPIC_ROOT) :].partition("/")[0]
        if not SEGMENT_RE.fullmatch(enterprise):
            return None
        if len(self._topics) >= _TOPIC_CACHE_LIMIT:
            self._topics.clear()
        self._topics[topic] = enterprise
        return enterprise


_FORMS = (
    'expected a JSON object: one reading ("tag" a key), rows ("readings" a list) '
    'or columns ("tag" a list of keys)'
)


class _Out:
    """What one ``decode`` call gathers: the batch's columns as lists, and refusals."""

    __slots__ = (
        "links",
        "now",
        "qualities",
        "refused",
        "seen",
        "servers",
        "source",
        "stamps",
        "tags",
        "values",
    )

    def __init__(self, source: str, now: Millis) -> None:
        self.source = source
        self.now = now
        self.tags: list[int] = []
        self.stamps: list[int] = []
        self.values: list[float] = []
        self.qualities: list[int] = []
        self.servers: list[int] = []
        self.refused: list[DeadLetter] = []
        self.links: list[LinksMessage] = []
        self.seen = 0

    def refuse_message(self, reason: RejectReason, detail: str, payload: bytes | bytearray) -> None:
        self.refused.append(
            DeadLetter(
                received=self.now,
                source=self.source,
                reason=reason,
                detail=detail,
                payload=excerpt(bytes(payload[:EXCERPT])),
            )
        )

    def refuse_reading(
        self,
        refusal: _Refusal,
        topic: str,
        index: int | None,
        fields: tuple[object, object, object, object],
    ) -> None:
        key, ts, value, _ = fields
        where = f"{topic}: " if index is None else f"{topic}: reading {index}: "
        shown = dict(zip(("tag", "ts", "value", "quality"), fields, strict=True))
        self.refused.append(
            DeadLetter(
                received=self.now,
                source=self.source,
                reason=refusal.reason,
                detail=where + refusal.detail,
                tag_key=key if type(key) is str and key else None,
                ts=parse_millis(ts),
                value=float(value) if type(value) is float or type(value) is int else None,
                payload=orjson.dumps(
                    {k: v for k, v in shown.items() if v is not None}, default=str
                ).decode()[:EXCERPT],
            )
        )


# Checks shared by the forms.


def quality_code(quality: object) -> int | None:
    """The ``Quality`` code of a JSON ``quality`` (absent: good), or None when invalid."""
    if quality is None:
        return 0
    if type(quality) is int:
        return quality if 0 <= quality <= 2 else None
    if type(quality) is str:
        code = QUALITIES.get(quality.lower())
        return None if code is None else int(code)
    return None


def _shape_problem(n: int, values: object, ts: object, quality: object) -> str:
    if type(values) is not list or len(values) != n:
        return '"value" must be a list as long as "tag"'
    if type(ts) is list:
        if len(ts) != n:
            return '"ts" must be one time or a list as long as "tag"'
    elif parse_millis(ts) is None:
        return _TS_RULE
    if type(quality) is list:
        if len(quality) != n:
            return '"quality" must be one quality or a list as long as "tag"'
    elif quality_code(quality) is None:
        return _QUALITY_RULE
    return ""


def _server_problem(n: int, server: object) -> str:
    """The column form's ``server_ts``: absent, or a list of ``n`` stamps (0 for none)."""
    if server is None:
        return ""
    if type(server) is not list or len(server) != n:
        return '"server_ts" must be a list as long as "tag"'
    if n and not _stamps_fast(server):
        return _SERVER_RULE
    return ""


def _stamps_fast(stamps: list[Any]) -> bool:
    """Whether a column of stamps is all ints in range (the common case, checked in bulk)."""
    return set(map(type, stamps)) <= _INTS and min(stamps) >= 0 and max(stamps) <= MAX_MILLIS


def _qualities_fast(qualities: list[Any]) -> bool:
    """Whether a column of qualities is all codes 0, 1, 2."""
    return set(map(type, qualities)) <= _INTS and min(qualities) >= 0 and max(qualities) <= 2
