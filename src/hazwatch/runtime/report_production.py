"""Reports made from the database: the content of one scope node over one period
(``evaluate.report``), rendered to files (``render.report_document``).

``ReportMaker.make(node, period, formats, now=…)`` reads the alarm journal, the readings'
rollups, the dead letters, the link outages and the declared inventories of the node's
subtree — the whole subtree, whoever asks: a report is of a node, and who may read it is
decided by the node — and returns the report and its files. It blocks (database, PDF
layout): call it off the event loop.

Risk colours come from a ``RiskSource``: ``RecordedRisk`` reads the colour changes the
risk stage records (``storage/risk_repository.py``) — each node's colour at the period's
end and every change within it. Without one (``risk=None``) the report says the platform
keeps no risk colours.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import Grant, ScopeKind, ScopeNode
from hazwatch.evaluate.report import (
    REPORT_LEVELS,
    Report,
    ReportFile,
    ReportFormat,
    ReportScope,
    RiskChange,
    RiskSection,
    RiskStanding,
    alarm_grouping,
    build_report,
)
from hazwatch.evaluate.report_period import Period
from hazwatch.render.report_document import report_files
from hazwatch.runtime.evaluation import evaluate_access, evaluate_alarms, grade_installations
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.risk_repository import RiskChange as RecordedChange
from hazwatch.storage.risk_repository import RiskRepository

RISK_LEVELS = (ScopeKind.REGION, ScopeKind.PARK, ScopeKind.ENTERPRISE, ScopeKind.INSTALLATION)
"""The nodes that carry a risk colour."""


class RiskSource(Protocol):
    """Where a report reads risk colours: the standings at ``end`` and the changes within
    ``[start, end)`` of the nodes ``view`` sees."""

    def section(self, view: Grant, start: Millis, end: Millis) -> RiskSection | None: ...


class RecordedRisk:
    """The risk colours the risk stage recorded, as a report shows them."""

    def __init__(self, *, risk: RiskRepository, plants: PlantRepository) -> None:
        self._risk, self._plants = risk, plants

    def section(self, view: Grant, start: Millis, end: Millis) -> RiskSection | None:
        nodes = {n.id: n for n in self._plants.nodes(view)}
        latest = self._risk.latest()
        standings: list[RiskStanding] = []
        changes: list[RiskChange] = []
        for node in nodes.values():
            if node.kind not in RISK_LEVELS or node.id not in latest:
                continue
            key = self._key(node, nodes)
            within = self._risk.history(view, node.id, start=start, end=end)
            changes += [_change(key, c) for c in within]
            standing = within[-1] if within else self._before(view, node.id, start, latest)
            if standing is not None:
                standings.append(
                    RiskStanding(
                        scope_key=key,
                        scope_name=node.name or node.key,
                        colour=standing.colour,
                        since=standing.at,
                    )
                )
        changes.sort(key=lambda c: (c.at, c.scope_key))
        return RiskSection(
            standings=tuple(sorted(standings, key=lambda s: (-s.colour.rank, s.scope_key))),
            changes=tuple(changes),
        )

    def _before(
        self, view: Grant, node_id: int, start: Millis, latest: Mapping[int, RecordedChange]
    ) -> RecordedChange | None:
        """The node's newest change before ``start``."""
        newest = latest.get(node_id)
        if newest is None or newest.at < start:
            return newest
        earlier = self._risk.history(view, node_id, end=start, limit=1_000_000)
        return earlier[-1] if earlier else None

    def _key(self, node: ScopeNode, nodes: dict[int, ScopeNode]) -> str:
        keys: list[str] = []
        for part in node.path.strip("/").split("/"):
            found = nodes.get(int(part)) or self._plants.node(int(part))
            keys.append(found.key if found is not None else part)
        return ".".join(keys)


def _change(key: str, change: RecordedChange) -> RiskChange:
    return RiskChange(
        scope_key=key,
        at=change.at,
        before=change.previous,
        after=change.colour,
        reason=_reason(change.explanation),
    )


def _reason(explanation: Mapping[str, Any]) -> str:
    """The texts of the contributions that moved the colour, or the baseline."""
    moved = [
        str(c.get("text", ""))
        for c in explanation.get("contributions", [])
        if isinstance(c, dict) and (c.get("steps") or c.get("floor") or c.get("sets"))
    ]
    if moved:
        return "; ".join(t for t in moved if t)
    baseline = explanation.get("baseline")
    return f"baseline {baseline}" if baseline else ""


class NotReportableError(ValueError):
    """A scope node a report is not made for (only regions, parks and enterprises)."""


class ReportMaker:
    def __init__(
        self, *, db: Database, plants: PlantRepository, risk: RiskSource | None = None
    ) -> None:
        self._db, self._plants, self._risk = db, plants, risk

    def scope_of(self, node: ScopeNode) -> ReportScope:
        """The node as a report names it, with its dotted key path from the region (and
        its key for a name where it has none)."""
        if node.kind not in REPORT_LEVELS:
            levels = ", ".join(k.value for k in REPORT_LEVELS)
            raise NotReportableError(f"a report is made for a {levels}, not for a {node.kind}")
        keys: list[str] = []
        for part in node.path.strip("/").split("/"):
            found = node if int(part) == node.id else self._plants.node(int(part))
            keys.append(found.key if found is not None else part)
        return ReportScope(
            id=node.id,
            kind=node.kind,
            key=".".join(keys),
            name=node.name or node.key,
            path=node.path,
        )

    def content(self, node: ScopeNode, period: Period, *, now: Millis) -> Report:
        """The report of ``node`` over ``period``, made at ``now``."""
        scope = self.scope_of(node)
        view = Grant((node.path,))
        alarms = evaluate_alarms(
            self._db, view, period.start, period.end, grouping=alarm_grouping(node.kind)
        )
        return build_report(
            scope=scope,
            period=period,
            log=alarms.log,
            alarms=alarms.kpis,
            access=evaluate_access(self._db, view, period.start, period.end),
            installations=grade_installations(self._plants, view),
            risk=None if self._risk is None else self._risk.section(view, period.start, period.end),
            now=now,
        )

    def make(
        self, node: ScopeNode, period: Period, formats: Sequence[ReportFormat], *, now: Millis
    ) -> tuple[Report, tuple[ReportFile, ...]]:
        """The report and its files in ``formats``."""
        report = self.content(node, period, now=now)
        return report, report_files(report, formats)
