"""Decoding of HTTP ingest payloads into batches. Pure: bytes in, batch and refusals out.

JSON (``application/json``)::

    {"readings": [{"tag": "lpg.main.tank-farm.sphere-1.level", "ts": "2026-11-28T10:00:00Z",
                   "value": 61.2, "quality": "good"}, ...]}

``ts`` is ISO 8601 with a zone, or epoch milliseconds; ``quality`` is good (default),
uncertain or bad; ``server_ts`` (optional, same forms, 0 for none) is when an OPC UA server
between device and sender stamped the reading. CSV (``text/csv``): a header naming
``tag,ts,value`` and optionally ``quality`` and ``server_ts``, then one reading per line.

A payload that cannot be read at all raises ``PayloadError``. A reading that can be read
but is wrong (a missing field, a value that is not a number, an unknown tag, a tag outside
the sender's scope) becomes a ``DeadLetter``; the other readings still make the batch.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from hazwatch.domain.batch import NO_STAMP, Batch, Quality
from hazwatch.domain.clock import Millis, parse_millis
from hazwatch.domain.reject import DeadLetter, RejectReason

EXCERPT = 2000

QUALITIES: Mapping[object, Quality] = {
    "good": Quality.GOOD,
    "uncertain": Quality.UNCERTAIN,
    "bad": Quality.BAD,
    0: Quality.GOOD,
    1: Quality.UNCERTAIN,
    2: Quality.BAD,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class TagRef:
    """What the decoder needs to know of a tag: its id and where it hangs in the tree."""

    id: int
    scope_path: str


Resolve = Callable[[str], TagRef | None]
Allowed = Callable[[str], bool]


class PayloadError(ValueError):
    """The payload as a whole cannot be read. ``reason`` says which kind of refusal."""

    def __init__(self, reason: RejectReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class _Refusal:
    reason: RejectReason
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Intake:
    """Who sends, and how their readings are checked: ``resolve`` finds a tag by key,
    ``allowed`` says whether a scope path is the sender's; at most ``limit`` readings."""

    resolve: Resolve
    allowed: Allowed
    source: str
    sender_path: str
    now: Millis
    limit: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Decoded:
    batch: Batch
    refused: tuple[DeadLetter, ...]
    total: int


def decode_json(body: bytes, intake: Intake) -> Decoded:
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise PayloadError(RejectReason.MALFORMED, f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("readings"), list):
        raise PayloadError(RejectReason.MALFORMED, 'expected an object with a list "readings"')
    items: list[Any] = doc["readings"]
    _check_size(len(items), intake.limit)
    return _decode([_json_fields(item) for item in items], intake)


def decode_csv(body: bytes, intake: Intake) -> Decoded:
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(RejectReason.MALFORMED, f"CSV is not UTF-8: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    header = set(reader.fieldnames or ())
    if not {"tag", "ts", "value"} <= header:
        raise PayloadError(RejectReason.MALFORMED, "CSV header must name tag, ts and value")
    rows = list(reader)
    _check_size(len(rows), intake.limit)
    return _decode([_csv_fields(row) for row in rows], intake)


def excerpt(body: bytes) -> str:
    """The start of a refused payload, kept with its dead letter."""
    return body[:EXCERPT].decode("utf-8", errors="replace")


def _check_size(n: int, limit: int) -> None:
    if n > limit:
        raise PayloadError(
            RejectReason.OVERSIZED, f"{n} readings in one request; at most {limit} allowed"
        )


_Fields = tuple[object, object, object, object, object] | str


def _json_fields(item: object) -> _Fields:
    if not isinstance(item, dict):
        return "reading is not an object"
    return (
        item.get("tag"),
        item.get("ts"),
        item.get("value"),
        item.get("quality", "good"),
        item.get("server_ts"),
    )


def _csv_fields(row: dict[str, str]) -> _Fields:
    quality: object = (row.get("quality") or "good").strip()
    value: object = row.get("value")
    with contextlib.suppress(ValueError):
        value = float(str(value))
    server = (row.get("server_ts") or "").strip() or None
    return row.get("tag"), (row.get("ts") or "").strip(), value, quality, server


def _decode(fields: Sequence[_Fields], intake: Intake) -> Decoded:
    tags: list[int] = []
    stamps: list[int] = []
    values: list[float] = []
    qualities: list[int] = []
    servers: list[int] = []
    refused: list[DeadLetter] = []
    for index, item in enumerate(fields):
        read = _read_one(item, intake.resolve, intake.allowed)
        if not isinstance(read, _Refusal):
            tag_id, ts, value, quality, server = read
            tags.append(tag_id)
            stamps.append(ts)
            values.append(value)
            qualities.append(quality)
            servers.append(server)
            continue
        reason, detail = read.reason, read.detail
        key = item[0] if isinstance(item, tuple) and isinstance(item[0], str) else None
        refused.append(
            DeadLetter(
                received=intake.now,
                source=intake.source,
                reason=reason,
                detail=f"reading {index}: {detail}",
                scope_path=_path_of(key, intake.resolve, intake.sender_path),
                tag_key=key,
                payload=None if isinstance(item, str) else _show(item),
            )
        )
    batch = Batch.of(
        tag=tags,
        ts=stamps,
        value=values,
        quality=qualities,
        received=intake.now,
        server_ts=servers if any(servers) else None,
    )
    return Decoded(batch=batch, refused=tuple(refused), total=len(fields))


def _read_one(
    item: _Fields, resolve: Resolve, allowed: Allowed
) -> tuple[int, int, float, int, int] | _Refusal:
    if isinstance(item, str):
        return _Refusal(RejectReason.MALFORMED, item)
    key, ts, value, quality, server = item
    if not isinstance(key, str) or not key:
        return _Refusal(RejectReason.MALFORMED, '"tag" must be a non-empty string')
    ref = resolve(key)
    if ref is None:
        return _Refusal(RejectReason.UNKNOWN_TAG, f"unknown tag {key!r}")
    if not allowed(ref.scope_path):
        return _Refusal(RejectReason.FORBIDDEN, f"tag {key!r} lies outside this sender's scope")
    stamp = parse_millis(ts)
    if stamp is None:
        return _Refusal(
            RejectReason.MALFORMED, '"ts" must be ISO 8601 with a zone, or epoch milliseconds'
        )
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _Refusal(RejectReason.MALFORMED, '"value" must be a number')
    code = QUALITIES.get(quality if not isinstance(quality, str) else quality.lower())
    if code is None:
        return _Refusal(RejectReason.MALFORMED, '"quality" must be good, uncertain or bad')
    server_stamp = NO_STAMP if server is None else parse_millis(server)
    if server_stamp is None:
        return _Refusal(
            RejectReason.MALFORMED,
            '"server_ts" must be ISO 8601 with a zone, or epoch milliseconds (0: none)',
        )
    return ref.id, stamp, float(value), int(code), server_stamp


def _path_of(key: str | None, resolve: Resolve, sender_path: str) -> str:
    ref = resolve(key) if key else None
    return ref.scope_path if ref else sender_path


def _show(item: tuple[object, object, object, object, object]) -> str:
    shown = dict(zip(("tag", "ts", "value", "quality", "server_ts"), item, strict=True))
    return orjson.dumps(
        {k: v for k, v in shown.items() if k != "server_ts" or v is not None}, default=str
    ).decode()[:EXCERPT]
