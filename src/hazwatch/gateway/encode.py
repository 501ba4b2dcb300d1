"""Encoding of batches into upstream messages, and back. Pure: arrays in, bytes out.

A message is the MQTT JSON "column form" with tag keys, at most ``limit`` readings::

    {"tag": ["lpg.main.sphere-farm.tk-201.level", ...], "ts": [1800000000000, ...],
     "value": [61.2, ...], "quality": [0, ...]}

``ts`` is one number when all readings share it; ``quality`` is left out when all are good;
``server_ts`` (OPC UA server timestamps, 0 for none) only when some reading has one.
A value that is not finite is written as ``null`` (the platform refuses it as a dead
letter). The same bytes are queued whatever the upstream; the HTTP upstream turns them
into the rows form of ``POST /api/v1/ingest`` with ``rows_body`` when it sends them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import orjson

from hazwatch.domain.batch import NO_STAMP, Batch, Quality
from hazwatch.domain.clock import Millis


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One upstream message: its bytes and how many readings they carry."""

    body: bytes
    readings: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Encoded:
    messages: tuple[Message, ...]
    unknown: int
    """readings whose tag id has no key (left out)"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Columns:
    """A decoded message: tag keys and the reading columns."""

    tag: list[str]
    ts: npt.NDArray[np.int64]
    value: npt.NDArray[np.float64]
    quality: npt.NDArray[np.uint8]
    server_ts: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.tag)


def encode_batch(batch: Batch, keys: npt.NDArray[np.object_], limit: int) -> Encoded:
    """Messages of at most ``limit`` readings for ``batch``; ``keys[id]`` is a tag's key."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    known = (batch.tag >= 0) & (batch.tag < len(keys))
    unknown = int(len(batch) - np.count_nonzero(known))
    if unknown:
        batch = batch.select(known)
    server = batch.servers()
    messages = tuple(
        _message(
            keys[batch.tag[start : start + limit]],
            batch.ts[start : start + limit],
            batch.value[start : start + limit],
            batch.quality[start : start + limit],
            server[start : start + limit],
        )
        for start in range(0, len(batch), limit)
    )
    return Encoded(messages=messages, unknown=unknown)


def report_message(key: str, ts: Millis, value: float) -> Message:
    """A message of one reading (the gateway's own reports, such as the dropped count)."""
    return _message(
        np.array([key], dtype=object),
        np.array([ts], dtype=np.int64),
        np.array([value], dtype=np.float64),
        np.zeros(1, dtype=np.uint8),
        np.zeros(1, dtype=np.int64),
    )


def _message(
    tags: npt.NDArray[np.object_],
    ts: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    quality: npt.NDArray[np.uint8],
    server: npt.NDArray[np.int64],
) -> Message:
    doc: dict[str, object] = {
        "tag": tags.tolist(),
        "ts": int(ts[0]) if len(ts) and bool(np.all(ts == ts[0])) else np.ascontiguousarray(ts),
        "value": np.ascontiguousarray(value),
    }
    if np.any(quality != Quality.GOOD):
        doc["quality"] = np.ascontiguousarray(quality)
    if np.any(server != NO_STAMP):
        doc["server_ts"] = np.ascontiguousarray(server)
    return Message(body=orjson.dumps(doc, option=orjson.OPT_SERIALIZE_NUMPY), readings=len(tags))


def decode_columns(body: bytes) -> Columns:
    """The readings of a column-form message; ``ValueError`` if it is not one."""
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc}") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("tag"), list):
        raise ValueError('expected an object with a list "tag"')
    tags: list[object] = doc["tag"]
    n = len(tags)
    if not all(isinstance(t, str) for t in tags):
        raise ValueError('"tag" must list tag keys')
    raw_ts = doc.get("ts")
    ts = np.full(n, raw_ts, dtype=np.int64) if isinstance(raw_ts, int) else _column(raw_ts, n, "ts")
    raw_value = doc.get("value")
    if not isinstance(raw_value, list) or len(raw_value) != n:
        raise ValueError(f'"value" must list {n} numbers')
    value = np.array([np.nan if v is None else v for v in raw_value], dtype=np.float64)
    raw_quality = doc.get("quality")
    quality = (
        np.zeros(n, dtype=np.uint8)
        if raw_quality is None
        else _column(raw_quality, n, "quality").astype(np.uint8)
    )
    raw_server = doc.get("server_ts")
    return Columns(
        tag=[str(t) for t in tags],
        ts=ts.astype(np.int64),
        value=value,
        quality=quality,
        server_ts=None if raw_server is None else _column(raw_server, n, "server_ts"),
    )


def _column(raw: object, n: int, name: str) -> npt.NDArray[np.int64]:
    if not isinstance(raw, list) or len(raw) != n or not all(isinstance(x, int) for x in raw):
        raise ValueError(f'"{name}" must list {n} integers')
    return np.array(raw, dtype=np.int64)


def rows_body(body: bytes) -> bytes:
    """A column-form message as the body of ``POST /api/v1/ingest`` (rows form)."""
    columns = decode_columns(body)
    values: list[float | None] = [v if np.isfinite(v) else None for v in columns.value.tolist()]
    readings: list[dict[str, object]] = [
        {"tag": t, "ts": s, "value": v, "quality": q}
        for t, s, v, q in zip(
            columns.tag, columns.ts.tolist(), values, columns.quality.tolist(), strict=True
        )
    ]
    if columns.server_ts is not None:
        for reading, server in zip(readings, columns.server_ts.tolist(), strict=True):
            if server != NO_STAMP:
                reading["server_ts"] = server
    return orjson.dumps({"readings": readings})
