"""Keys of the scope tree as text: one place for their shape.

A segment is lowercase letters, digits, ``-`` and ``_``, starting with a letter or digit, at
most 64 characters. Keys join segments with dots, from the enterprise down:

    enterprise.site.installation              installation key
    enterprise.site.installation.equipment    equipment key (a device, a link)
    enterprise.site.installation.equipment.tag   tag key

``slug`` turns a name a device gives (a Sparkplug metric, an OPC UA browse name) into a
segment.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Annotated

from pydantic import Field

SEGMENT = r"[a-z0-9][a-z0-9_-]{0,63}"


def _key(parts: int) -> re.Pattern[str]:
    return re.compile(rf"{SEGMENT}(?:\.{SEGMENT}){{{parts - 1}}}")


MAX_SEGMENT = 64
_HASH_HEX = 8
_INVALID = re.compile(r"[^a-z0-9_-]")
_DASHES = re.compile(r"-{2,}")


def slug(text: str) -> str:
    """One key segment naming ``text``.

    Lowercases, drops accents, turns every character outside ``a-z 0-9 _ -`` into '-',
    collapses repeated '-', trims '-' and '_' from the start and '-' from the end, and keeps
    64 characters at most. Two cases would silently merge distinct names, so they get a
    suffix of 8 hex digits hashed from the original text instead: a name with letters that
    have no ASCII spelling (``液位`` → ``1a2b3c4d``, ``1号罐/液位`` → ``1-…``), and a name
    whose slug is longer than 64 (cut to 55 characters, then the suffix). A name with
    nothing left (``---``) is its hash alone.

    Different names can still map to one segment (``Level/PV``, ``level pv``): callers keep
    the first that claims a key.
    """
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


SEGMENT_RE = _key(1)
INSTALLATION_KEY = _key(3)
EQUIPMENT_KEY = _key(4)
TAG_KEY = _key(5)
"""Compiled patterns; use ``fullmatch``."""

EquipmentKey = Annotated[
    str,
    Field(
        pattern=rf"^{EQUIPMENT_KEY.pattern}$",
        description="An equipment key: enterprise.site.installation.equipment.",
    ),
]
TagKey = Annotated[
    str,
    Field(
        pattern=rf"^{TAG_KEY.pattern}$",
        description="A tag key: enterprise.site.installation.equipment.tag.",
    ),
]
