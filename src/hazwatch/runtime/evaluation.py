"""System evaluation read from the database: the alarm-system and data-access KPIs of a
period for a view, and the GB 18218 grading of stored installations — one assembly, used
by the KPI and evaluation routes of the API and by the reports. A stored installation is
graded from its declared quantities, or from the highest levels its tanks' level tags read
over a period (``measured_levels``).

A *view* is a ``Grant``: the caller's, or narrowed to one scope node (``scope_view``).
The period ``[start, end)`` is epoch ms UTC; the data-access KPIs need whole minutes
(rollups count minutes). Definitions: docs/kpi.md, docs/evaluation.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

from hazwatch.domain.clock import DAY_MS, Millis, iso
from hazwatch.domain.scope import Grant, ScopeKind, ScopeNode
from hazwatch.evaluate.access_kpi import (
    DEFAULT_LATE_AFTER_MS,
    DEFAULT_THRESHOLD,
    AccessKpiReport,
    access_kpis,
)
from hazwatch.evaluate.alarm_kpi import AlarmGrouping, AlarmKpiReport, alarm_kpis
from hazwatch.evaluate.alarm_log import AlarmLog
from hazwatch.evaluate.alarm_targets import AlarmTargets
from hazwatch.evaluate.gb18218 import Gb18218Error, Identification, MeasuredLevel
from hazwatch.evaluate.gb18218_document import identify_inventories
from hazwatch.evaluate.report import InstallationGrade
from hazwatch.storage.database import Database
from hazwatch.storage.kpi_source import KpiSource
from hazwatch.storage.plant_repository import PlantRepository, StoredInstallation
from hazwatch.storage.readings.peak import highest_reading
from hazwatch.storage.readings.store import ReadingStore

LATENCY_WINDOW_MS: Millis = DAY_MS
"""Latency is measured over the last day of a period: raw readings are kept per tag and
UTC day, so a day costs about what an hour does, and a month would cost thirty times more."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AlarmEvaluation:
    """The journal of a period as read, and its KPIs."""

    log: AlarmLog
    kpis: AlarmKpiReport


def scope_view(plants: PlantRepository, grant: Grant, scope_id: int | None) -> Grant | None:
    """``grant`` narrowed to the subtree of node ``scope_id`` (``None``: all of it); where
    the node lies above the grant, the grant's own subtrees below it. ``None`` for a node
    that does not exist or that the grant does not reach (the two are not told apart)."""
    if scope_id is None:
        return grant
    node = plants.node(scope_id)
    if node is None:
        return None
    if grant.allows(node.path):
        return Grant((node.path,))
    below = tuple(p for p in grant.prefixes if p.startswith(node.path))
    return Grant(below) if below else None


def evaluate_alarms(
    db: Database,
    view: Grant,
    start: Millis,
    end: Millis,
    *,
    position: ScopeKind = ScopeKind.INSTALLATION,
    grouping: AlarmGrouping = AlarmGrouping.POSITION,
    targets: AlarmTargets | None = None,
) -> AlarmEvaluation:
    """The alarm journal ``view`` sees over ``[start, end)`` and its KPIs."""
    log = KpiSource(db).alarm_log(view, start, end, position=position)
    return AlarmEvaluation(
        log=log, kpis=alarm_kpis(log, start, end, grouping=grouping, targets=targets)
    )


def evaluate_access(
    db: Database,
    view: Grant,
    start: Millis,
    end: Millis,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    late_after_ms: Millis = DEFAULT_LATE_AFTER_MS,
) -> AccessKpiReport:
    """The data-access KPIs of ``view`` over ``[start, end)`` (whole minutes), latency
    over the last ``LATENCY_WINDOW_MS`` of it."""
    inputs = KpiSource(db).access_inputs(
        view, start, end, late_after_ms=late_after_ms, latency_from=end - LATENCY_WINDOW_MS
    )
    return access_kpis(inputs, start, end, threshold=threshold)


def grade_installation(
    found: StoredInstallation,
    *,
    fill_ratio: Fraction | None = None,
    levels: Mapping[int, MeasuredLevel] | None = None,
) -> Identification:
    """GB 18218 identification and grade of a stored installation from its declared
    inventories, or for those in ``levels`` (by index) from the highest level measured
    (``measured_levels``); ``Gb18218Error`` naming each inventory that cannot be classified."""
    return identify_inventories(
        id=found.key,
        people_within_500m=found.people_within_500m,
        inventories=found.inventories,
        fill_ratio=fill_ratio,
        levels=levels,
    )


def measured_levels(
    plants: PlantRepository,
    readings: ReadingStore,
    found: StoredInstallation,
    start: Millis,
    end: Millis,
) -> dict[int, MeasuredLevel]:
    """The highest level each inventory of ``found`` with a ``level_tag`` read over
    ``[start, end)``, by the inventory's index. Raises ``Gb18218Error`` naming each
    inventory whose tag has no reading in the period (a tank not measured is not taken
    as empty)."""
    levels: dict[int, MeasuredLevel] = {}
    problems: list[str] = []
    for j, inventory in enumerate(found.inventories):
        if inventory.level_tag is None:
            continue
        key = f"{found.key}.{inventory.level_tag}"
        where = f"{found.key}: inventories[{j}] ({inventory.chemical}).level_tag"
        tag = plants.tag_by_key(key)
        peak = None if tag is None else highest_reading(readings, tag.id, start, end)
        if peak is None:
            problems.append(
                f"{where}: {key} has no reading from {iso(start)} until {iso(end)}"
                if tag is not None
                else f"{where}: no tag {key} is stored"
            )
            continue
        levels[j] = MeasuredLevel(
            tag=key, level_pct=peak.value, at=peak.at, exact=peak.exact, start=start, end=end
        )
    if problems:
        raise Gb18218Error(problems)
    return levels


def grade_installations(plants: PlantRepository, view: Grant) -> tuple[InstallationGrade, ...]:
    """Every installation ``view`` sees that declares inventories, graded (or with the
    problems that kept it from being graded), by key."""
    nodes = {n.id: n for n in plants.nodes(view)}
    graded: list[InstallationGrade] = []
    for node in nodes.values():
        if node.kind is not ScopeKind.INSTALLATION:
            continue
        key = _installation_key(node, nodes, plants)
        found = plants.installation(key, view)
        if found is None or not found.inventories:
            continue
        enterprise = key.split(".", 1)[0]
        try:
            identification: Identification | None = grade_installation(found)
            problems: tuple[str, ...] = ()
        except Gb18218Error as exc:
            identification, problems = None, exc.problems
        graded.append(
            InstallationGrade(
                key=key,
                name=found.name,
                enterprise=enterprise,
                identification=identification,
                problems=problems,
            )
        )
    return tuple(sorted(graded, key=lambda g: g.key))


def _installation_key(node: ScopeNode, nodes: dict[int, ScopeNode], plants: PlantRepository) -> str:
    """``enterprise.site.installation`` of an installation node (its parents may lie above
    the view: those are read unscoped)."""
    site = _parent(node, nodes, plants)
    enterprise = _parent(site, nodes, plants)
    return f"{enterprise.key}.{site.key}.{node.key}"


def _parent(node: ScopeNode, nodes: dict[int, ScopeNode], plants: PlantRepository) -> ScopeNode:
    if node.parent_id is None:
        raise ValueError(f"scope node {node.id} has no parent")
    parent = nodes.get(node.parent_id) or plants.node(node.parent_id)
    if parent is None:
        raise ValueError(f"scope node {node.parent_id} is missing")
    return parent
