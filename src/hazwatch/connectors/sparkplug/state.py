"""The STATE messages of a Sparkplug 3.0 host application. Pure.

On ``spBv1.0/STATE/<host id>``, retained, QoS 1, UTF-8 JSON::

    {"online": true, "timestamp": 1800000000000}    # the birth, after connecting
    {"online": false, "timestamp": 1800000000000}   # the death: the will, or said on leaving

The will and the birth of one connection carry the same timestamp (the connect time); a
death said on leaving carries the time of leaving.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

from hazwatch.domain.clock import Millis


@dataclass(frozen=True, slots=True, kw_only=True)
class HostState:
    online: bool
    timestamp: Millis


def encode(online: bool, timestamp: Millis) -> bytes:
    return orjson.dumps({"online": online, "timestamp": timestamp})


def decode(data: bytes) -> HostState | None:
    """A STATE payload, or None when it is not one (such as a Sparkplug 2 'OFFLINE')."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return None
    online, timestamp = body.get("online"), body.get("timestamp")
    if not isinstance(online, bool) or isinstance(timestamp, bool):
        return None
    if not isinstance(timestamp, int):
        return None
    return HostState(online=online, timestamp=timestamp)
