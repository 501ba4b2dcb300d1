"""The gateway's health at a glance: upstream, queue, losses and connectors."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hazwatch.connectors.base import Health


@dataclass(frozen=True, slots=True, kw_only=True)
class GatewayStatus:
    """A snapshot; ``Gateway.status()`` makes a fresh one."""

    name: str
    upstream: Health
    upstream_detail: str
    queued_messages: int
    """messages stored and not yet known delivered (the backlog, plus any in flight)"""
    queued_readings: int
    queued_bytes: int
    replaying: bool
    in_flight: int
    delivered_messages: int
    delivered_readings: int
    rejected_readings: int
    """readings the platform refused (and kept as its dead letters) in delivered messages"""
    refused_messages: int
    """messages the upstream refused for good (kept in the queue file's dead letters)"""
    dropped_readings: int
    """readings evicted from the queue over its quota, since the queue file was made"""
    unreported_dropped: int
    refused_input: int
    """inputs the connectors could not decode (kept in the queue file's dead letters)"""
    connectors: Mapping[str, Health] = field(default_factory=dict)
    devices: Mapping[str, Health] = field(default_factory=dict)
    links: Mapping[str, Health] = field(default_factory=dict)
    """the health of each link sent upstream, by equipment key"""
    links_sent: int = 0
    """links messages the upstream took"""

    @property
    def online(self) -> bool:
        return self.upstream is Health.ONLINE

    def line(self) -> str:
        """One log line."""
        connectors = ", ".join(f"{k} {v}" for k, v in sorted(self.connectors.items()))
        return (
            f"gateway {self.name}: upstream {self.upstream}"
            f"{' (' + self.upstream_detail + ')' if self.upstream_detail else ''}; "
            f"queued {self.queued_messages} messages / {self.queued_readings} readings"
            f" / {self.queued_bytes} bytes{', replaying' if self.replaying else ''}; "
            f"delivered {self.delivered_readings} readings; "
            f"dropped {self.dropped_readings} readings"
            f"{f' ({self.unreported_dropped} not yet reported)' if self.unreported_dropped else ''}"
            f"; refused {self.refused_messages} messages, {self.refused_input} inputs"
            f"; connectors: {connectors or 'none'}"
            f"{self._links_part()}"
        )

    def _links_part(self) -> str:
        if not self.links:
            return ""
        online = sum(1 for h in self.links.values() if h is Health.ONLINE)
        return f"; links: {online} online, {len(self.links) - online} not"
