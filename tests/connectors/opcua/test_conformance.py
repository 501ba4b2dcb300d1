"""The shared connector conformance checks, run against a live OPC UA server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from hazwatch.connectors.conformance import CHECKS, Harness

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
async def test_conformance(check: Callable[[Harness], Awaitable[None]], harness: Harness) -> None:
    await check(harness)
