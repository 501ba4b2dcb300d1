"""Problems of a validated document, each naming its place as a person reads it. Pure.

``steps[1] (wait-shift).timeout_s: Input should be greater than 0``: the list item named by
its own key or id, so the author finds it without counting.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def problem_of(
    error: Any,
    data: dict[str, Any],
    *,
    items: str,
    label: str,
    skip: Collection[str] = (),
) -> str:
    """The text of one pydantic ``error`` of ``data``: the location, with each item of the
    list ``items`` named by its ``label`` field, then the message. ``skip``: location parts
    left out right after a list index (a tagged union's tag: ``wait_ack``)."""
    loc: tuple[int | str, ...] = tuple(error["loc"])
    out = ""
    listed = data.get(items)
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
            if i and loc[i - 1] == items and isinstance(listed, list) and part < len(listed):
                item = listed[part]
                if isinstance(item, dict) and isinstance(item.get(label), str):
                    out += f" ({item[label]})"
        elif i and loc[i - 1] != items and isinstance(loc[i - 1], int) and part in skip:
            continue
        else:
            out += f".{part}" if out else str(part)
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{out}: {message}" if out else message
