"""The connector conformance suite, run against the MQTT JSON connector and a private broker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from hazwatch.connectors.conformance import CHECKS


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
async def test_conformance(check: Callable[[Any], Awaitable[None]], harness: Any) -> None:
    await check(harness)
