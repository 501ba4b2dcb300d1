"""Tag keys for browsed variables. Pure.

A variable found by browsing becomes ``<tag_prefix>.<slug>``, where the slug is its browse
name as a key segment (``hazwatch.domain.keys.slug``): ``Level`` → ``level``,
``TK201.Level`` → ``tk201-level``, ``Temperature (°C)`` → ``temperature-c``; a name without
an ASCII spelling (``温度``) keeps apart by a hash of 8 hex digits.
"""

from __future__ import annotations

from hazwatch.domain.keys import slug


def browse_key(tag_prefix: str, browse_name: str) -> str:
    """The tag key of a variable named ``browse_name`` browsed under ``tag_prefix``."""
    return f"{tag_prefix}.{slug(browse_name)}"
