"""Tag keys of Sparkplug metrics. Pure.

A metric's key is ``<installation prefix>.<equipment>.<tag>``: the prefix its group is
configured with, the equipment ``slug(edge node)`` for a node's own metrics or
``slug(edge node + "-" + device)`` for a device's, and the tag ``slug(metric name)``.

``slug`` lowercases, drops accents, turns '/' and every other character outside
``a-z 0-9 _ -`` into '-', collapses repeated '-', trims '-' and '_' from the start and '-'
from the end, and keeps 64 characters at most. Two cases would silently merge distinct
names, so they get a suffix of 8 hex digits hashed from the original text instead:
a name with letters that have no ASCII spelling (``液位`` → ``1a2b3c4d``, ``1号罐/液位`` →
``1-…``), and a name whose slug is longer than 64 (cut to 55 characters, then the suffix).

Different names can still map to one key (``Level/PV``, ``level pv`` and ``LEVEL-PV`` all
give ``level-pv``). The session keeps the first metric that claims a key and refuses the
others (see ``session``).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_SEGMENT = 64
_HASH_HEX = 8
_INVALID = re.compile(r"[^a-z0-9_-]")
_DASHES = re.compile(r"-{2,}")


def slug(text: str) -> str:
    """One key segment (``^[a-z0-9][a-z0-9_-]*$``, at most 64 characters) naming ``text``."""
    folded = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    ).lower()
    unspellable = any(ord(c) > 127 and c.isalnum() for c in folded)
    plain = _DASHES.sub("-", _INVALID.sub("-", folded)).lstrip("-_").rstrip("-")
    if not unspellable and plain and len(plain) <= MAX_SEGMENT:
        return plain
    suffix = hashlib.blake2s(text.encode("utf-8"), digest_size=_HASH_HEX // 2).hexdigest()
    head = plain[: MAX_SEGMENT - _HASH_HEX - 1].rstrip("-")
    return f"{head}-{suffix}" if head else suffix


def equipment_key(prefix: str, edge_node: str, device: str | None = None) -> str:
    """The 4-segment key of an edge node (``device`` None) or of one of its devices."""
    return f"{prefix}.{slug(edge_node if device is None else f'{edge_node}-{device}')}"


def tag_key(equipment: str, metric: str) -> str:
    return f"{equipment}.{slug(metric)}"
