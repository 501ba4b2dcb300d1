"""The gateway's local numbering of tag keys.

Connectors hand out batches of tag ids; the gateway has no platform to ask, so it numbers
every well-formed key of its enterprise as it is first resolved, and maps ids back to keys
when it encodes messages. A key of another enterprise, or one that is not a tag key, does
not resolve (the connector refuses the reading as an unknown tag).
"""

from __future__ import annotations

import threading

import numpy as np
import numpy.typing as npt

from hazwatch.domain.keys import TAG_KEY


class TagKeys:
    """Tag key ↔ local id, for the tags of one enterprise. Safe to use from any thread."""

    def __init__(self, enterprise: str) -> None:
        self.enterprise = enterprise
        self._ids: dict[str, int] = {}
        self._keys: list[str] = []
        self._table: npt.NDArray[np.object_] = np.empty(0, dtype=object)
        self._lock = threading.Lock()

    def resolve(self, key: str) -> int | None:
        found = self._ids.get(key)
        if found is not None:
            return found
        if not TAG_KEY.fullmatch(key) or key.split(".", 1)[0] != self.enterprise:
            return None
        with self._lock:
            found = self._ids.get(key)
            if found is None:
                found = len(self._keys)
                self._keys.append(key)
                self._ids[key] = found
            return found

    def key_of(self, tag_id: int) -> str:
        return self._keys[tag_id]

    def table(self) -> npt.NDArray[np.object_]:
        """Keys indexed by id (an object array, for gathering a batch's keys at once)."""
        with self._lock:
            if len(self._table) != len(self._keys):
                self._table = np.array(self._keys, dtype=object)
            return self._table

    def __len__(self) -> int:
        return len(self._keys)
