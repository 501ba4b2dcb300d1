"""A loopback Modbus TCP server serving units 1 and 2, stopped after the test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hazwatch.connectors.modbus.server import ModbusServer


@pytest.fixture
async def server() -> AsyncIterator[ModbusServer]:
    """Not yet started: a test starts it (or shows what happens while it is down)."""
    served = ModbusServer(units=(1, 2))
    yield served
    await served.stop()
