"""A device's health, judged from its polls. Pure: outcomes in, changes to report out.

A poll fails when any of its reads fails. After ``offline_after`` consecutive failed
polls the device is *degraded* (the last poll had some reads answered) or *offline*
(none); the first poll with every read answered makes it *online* again. Until then it
keeps its state, so one busy answer does not flap the device's health (its points are
bad at once all the same).

``state`` is the device's state in the current connection (None before it has been
judged); ``reported`` is what was last reported, across connections, so that a device
that comes back after a reconnect is reported online again, and only once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hazwatch.connectors.base import Health


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    """One read that was not answered with values: why (a protocol code), and where."""

    code: str
    """``modbus.exception.<n>``, ``modbus.no_response`` or ``modbus.malformed``."""
    detail: str


@dataclass(slots=True)
class DeviceWatch:
    """The health of one device (see the module docstring)."""

    offline_after: int
    state: Health | None = None
    reported: Health | None = None
    detail: str = ""
    failed_polls: int = 0

    def observe(self, reads: int, failures: Sequence[Failure]) -> tuple[Health, str] | None:
        """Judge one poll of ``reads`` reads; return the state and detail to report if the
        reported state changes."""
        if not failures:
            self.failed_polls = 0
            self.state, self.detail = Health.ONLINE, ""
        else:
            self.failed_polls += 1
            if self.failed_polls >= self.offline_after:
                every = len(failures) >= reads
                self.state = Health.OFFLINE if every else Health.DEGRADED
                self.detail = _describe(failures, reads)
        return self._report()

    def lost(self, detail: str) -> tuple[Health, str] | None:
        """The connection is gone: the device cannot be reached."""
        self.state, self.detail, self.failed_polls = None, detail, 0
        if self.reported is Health.OFFLINE:
            return None
        self.reported = Health.OFFLINE
        return Health.OFFLINE, detail

    def _report(self) -> tuple[Health, str] | None:
        if self.state is None or self.state is self.reported:
            return None
        self.reported = self.state
        return self.state, self.detail


def _describe(failures: Sequence[Failure], reads: int) -> str:
    codes = sorted({f.code for f in failures})
    first = failures[0]
    return f"{', '.join(codes)}: {len(failures)} of {reads} reads failed; {first.detail}"
