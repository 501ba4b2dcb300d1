"""Errors raised by the relational storage layer.

::

    StorageError          code, retryable
    ├── NotFoundError     entity, key           a referenced row does not exist
    └── ConflictError     entity, key, reason   a write collides with stored rows

The API maps these to HTTP in one place (``NotFoundError`` → 404, ``ConflictError`` → 409);
``code`` is a stable message key for translated user-facing text.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base of every storage error. ``retryable`` says whether repeating the call may succeed."""

    code: str = "storage.error"
    retryable: bool = False

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        if retryable is not None:
            self.retryable = retryable


class NotFoundError(StorageError):
    """The row ``entity`` identified by ``key`` does not exist."""

    code = "storage.not_found"

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} does not exist")
        self.entity = entity
        self.key = key


class ConflictError(StorageError):
    """Writing ``entity`` ``key`` collides with what is stored (``reason`` says how)."""

    code = "storage.conflict"

    def __init__(self, entity: str, key: object, reason: str) -> None:
        super().__init__(f"{entity} {key!r}: {reason}")
        self.entity = entity
        self.key = key
        self.reason = reason
