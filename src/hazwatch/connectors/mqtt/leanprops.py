"""A lean stand-in for paho's MQTT v5 ``Properties`` on the receive path.

Paho builds a ``Properties`` object for every MQTT v5 packet it decodes, and its
constructor rebuilds the tables of all property names and types each time, then ``unpack``
walks all names to clear them: about 20 µs per PUBLISH, more than the rest of paho's
handling of the message (and the reason MQTT v5 reads at half the rate of 3.1.1).
``LeanProperties`` shares those tables, read-only, between instances and returns at once
for the common packet without properties; everything else is paho's own code, so the
objects behave exactly as before.

``install()`` puts it in place of the class that paho's packet decoder uses (once, for
the whole process); it does nothing when paho's layout is not the one this was written
for, which only costs the speed.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

_TABLES = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
_SHARED = ("types", "names", "properties")
_lock = threading.Lock()


def _packet_module() -> ModuleType | None:
    try:
        return importlib.import_module("paho.mqtt._packet")
    except ImportError:  # another paho layout: the plain class stays, only slower
        return None


class LeanProperties(Properties):
    """Paho's ``Properties`` with shared tables and a fast path for no properties."""

    def __init__(self, packetType: int) -> None:  # noqa: N803 - paho's own parameter name
        object.__setattr__(self, "packetType", packetType)
        for name in _SHARED:
            object.__setattr__(self, name, getattr(_TABLES, name))

    def unpack(self, buffer: bytes | bytearray) -> tuple[Properties, int]:
        if buffer[:1] == b"\x00":  # property length 0: nothing to read or clear
            return self, 1
        result: tuple[Properties, int] = super().unpack(buffer)  # type: ignore[no-untyped-call]
        return result


def install() -> bool:
    """Make paho decode packets with ``LeanProperties``; True when it is in place."""
    _packet = _packet_module()
    if _packet is None:
        return False
    with _lock:
        current = getattr(_packet, "Properties", None)
        if current is LeanProperties:
            return True
        if current is not Properties or not all(hasattr(_TABLES, n) for n in _SHARED):
            return False
        setattr(_packet, "Properties", LeanProperties)  # noqa: B010 - not exported by paho
        return True
