"""What a create-or-replace write did, so the API can answer 201 or 200."""

from __future__ import annotations

from enum import StrEnum


class PutOutcome(StrEnum):
    CREATED = "created"
    REPLACED = "replaced"
