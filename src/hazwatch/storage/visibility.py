"""A ``Grant`` as a SQL condition: the row's scope path starts with one of its prefixes.

Every repository read of scoped data puts this condition in its ``WHERE`` clause, so rows a
caller may not see never leave the database.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_

from hazwatch.domain.scope import Grant


def visible(path: ColumnElement[str], grant: Grant) -> ColumnElement[bool]:
    """``path LIKE prefix || '%'`` for each prefix of ``grant``, OR-ed; false for no prefix.

    Prefixes are escaped, so a ``%`` or ``_`` in a prefix matches only itself.
    """
    if not grant.prefixes:
        return false()
    return or_(*(path.startswith(prefix, autoescape=True) for prefix in grant.prefixes))
