"""Tag keys for browsed variables. Pure.

A variable found by browsing becomes ``<tag_prefix>.<slug>``, where the slug is its browse
name in lowercase ASCII, every run of characters a key may not hold (anything but ``a-z``,
``0-9``, ``_`` and ``-``) replaced by one ``-``, without leading or trailing ``-`` or ``_``:
``Level`` → ``level``, ``TK201.Level`` → ``tk201-level``, ``Temperature (°C)`` →
``temperature-c``. A name with nothing left (``温度``) has no slug.
"""

from __future__ import annotations

import re
import unicodedata

MAX_SEGMENT = 64
_NOT_KEY = re.compile(r"[^a-z0-9_-]+")
_DASHES = re.compile(r"-{2,}")


def slug(name: str) -> str | None:
    """The key segment of a browse name, or None where none can be made."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    text = _DASHES.sub("-", _NOT_KEY.sub("-", ascii_name.lower())).strip("-_")
    text = text[:MAX_SEGMENT].rstrip("-_")
    return text or None


def browse_key(tag_prefix: str, browse_name: str) -> str | None:
    """The tag key of a variable named ``browse_name`` browsed under ``tag_prefix``."""
    segment = slug(browse_name)
    return None if segment is None else f"{tag_prefix}.{segment}"
