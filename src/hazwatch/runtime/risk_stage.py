"""The risk stage: the dynamic risk colour of every installation, enterprise and park, kept
current (``evaluate.risk``; docs/evaluation.md, "Dynamic risk colour").

Contract:

* The stage belongs to the engine's worker thread, like the alarm and warning books.
  ``attach`` hooks it to the pipeline's alarm changes and ticks and to the warning book's
  events; each alarm change and warning event re-evaluates every node, and the pipeline's
  tick does so every ``every_ms`` of plant time, for what time alone changes (alarms left
  unacknowledged past their limit). An evaluation walks the nodes and the alarms that count,
  never the tags.
* The structure — scope nodes, each installation's GB 18218 grade from its declared
  inventories and people within 500 m, each enterprise's assessment score, the data tags
  of each enterprise — is read at ``attach`` and again every ``reload_ms`` of plant time
  (a re-imported plant, tags declared by devices).
* A node whose colour differs from the one it had is recorded in ``RiskRepository`` (the
  stage's only write), with the colour before and the assessment that explains it. At
  attach the colour last recorded for each node is the one it had, so a restart records
  nothing when nothing changed.
* The live *online rate* of an enterprise is the share of its data tags (link status tags
  left out) whose OFFLINE condition is not active: what the detector already judges
  (no reading for longer than the tag's ``offline_after_s``), at no extra cost.
* ``snapshot`` may be read from any thread: it is an immutable mapping, replaced whole
  after each evaluation.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from hazwatch.alarms.book import AlarmChange
from hazwatch.domain.alarm import Alarm
from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.link import STATUS_TAG
from hazwatch.domain.plant import InventorySpec
from hazwatch.domain.scope import Grant, ScopeKind, ScopeNode
from hazwatch.domain.tag import ConditionKind
from hazwatch.domain.warning import Colour, EarlyWarning
from hazwatch.evaluate.gb18218 import Gb18218Error
from hazwatch.evaluate.gb18218_document import identify_inventories
from hazwatch.evaluate.risk import RiskAssessment, assess, assess_park
from hazwatch.evaluate.risk_inputs import RiskInputs, counts, tally_alarms, tally_warnings
from hazwatch.evaluate.risk_rules import DEFAULT_RULES, RiskRules
from hazwatch.runtime.clock import Clock
from hazwatch.runtime.pipeline import Pipeline
from hazwatch.runtime.warnings import WarningBook, WarningEvent
from hazwatch.settings import RiskSettings
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.risk_repository import NodeFacts, RiskChange, RiskRepository

log = logging.getLogger(__name__)

KINDS = (ScopeKind.INSTALLATION, ScopeKind.ENTERPRISE, ScopeKind.PARK)
"""The kinds of node that have a colour."""

_ABOVE = {ScopeKind.INSTALLATION: ScopeKind.ENTERPRISE, ScopeKind.ENTERPRISE: ScopeKind.PARK}

_AlarmKey = tuple[int, ConditionKind]


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeRisk:
    """The colour of one node now: its ``key`` (an installation's is
    ``enterprise.site.installation``; an enterprise's and a park's their own), the
    assessment, since when the colour holds and the colour before (``None``: none known)."""

    node: ScopeNode
    key: str
    assessment: RiskAssessment
    since: Millis
    previous: Colour | None

    @property
    def colour(self) -> Colour:
        return self.assessment.colour


@dataclass(frozen=True, slots=True, kw_only=True)
class _Structure:
    nodes: Mapping[int, ScopeNode]
    keys: Mapping[int, str]
    """node id → key, for the kinds that have a colour"""
    by_key: Mapping[str, int]
    """installation key → node id"""
    grades: Mapping[int, RiskInputs]
    """installation id → its grade (the rest of the inputs empty)"""
    above: Mapping[int, int]
    """installation → its enterprise, enterprise → its park"""
    scores: Mapping[int, float]
    data_tags: Mapping[int, frozenset[int]]
    """enterprise id → its data tags"""


_EMPTY = _Structure(nodes={}, keys={}, by_key={}, grades={}, above={}, scores={}, data_tags={})


class RiskStage:
    """See the module docstring."""

    def __init__(
        self,
        *,
        repository: RiskRepository,
        plants: PlantRepository,
        warnings: WarningBook,
        clock: Clock,
        rules: RiskRules = DEFAULT_RULES,
        every_ms: Millis = MINUTE_MS,
        reload_ms: Millis = 10 * MINUTE_MS,
    ) -> None:
        self._repository = repository
        self._plants = plants
        self._warnings = warnings
        self._clock = clock
        self.rules = rules
        self._every_ms = every_ms
        self._reload_ms = reload_ms
        self._pipeline: Pipeline | None = None
        self._structure = _EMPTY
        self._installation_of: dict[int, int | None] = {}
        self._alarms: dict[_AlarmKey, Alarm] = {}
        self._offline: set[int] = set()
        self._current: Mapping[int, NodeRisk] = MappingProxyType({})
        self._due: Millis = 0
        self._reload_due: Millis = 0

    @classmethod
    def open(
        cls,
        db: Database,
        *,
        plants: PlantRepository,
        warnings: WarningBook,
        clock: Clock,
        settings: RiskSettings,
    ) -> RiskStage:
        """The stage of a platform, with the rules of its ``risk:`` settings."""
        return cls(
            repository=RiskRepository(db),
            plants=plants,
            warnings=warnings,
            clock=clock,
            rules=settings.rules(),
            every_ms=int(settings.every_s * 1000),
        )

    def attach(self, pipeline: Pipeline) -> None:
        """Read the structure and the alarms in force, evaluate, and listen from now on."""
        self._pipeline = pipeline
        now = self._clock.now()
        self._reload(now)
        for alarm in pipeline.book.all():
            self._keep(alarm)
        self._evaluate(now, recorded=self._repository.latest())
        pipeline.alarm_listeners.append(self.alarms)
        pipeline.tick_listeners.append(self.tick)
        self._warnings.listeners.append(self.warnings)

    def snapshot(self) -> Mapping[int, NodeRisk]:
        """Node id → its colour now, for installations, enterprises and parks."""
        return self._current

    def history(
        self,
        grant: Grant,
        scope_id: int,
        *,
        start: Millis | None = None,
        end: Millis | None = None,
        limit: int = 1000,
    ) -> list[RiskChange]:
        """The recorded changes of one node (``RiskRepository.history``; any thread)."""
        return self._repository.history(grant, scope_id, start=start, end=end, limit=limit)

    def alarms(self, changes: Sequence[AlarmChange]) -> None:
        """An alarm listener of the pipeline."""
        for change in changes:
            self._keep(change.alarm)
        self._guarded(self._clock.now(), reload=False)

    def warnings(self, events: Sequence[WarningEvent]) -> None:
        """A listener of the warning book."""
        if events:
            self._guarded(self._clock.now(), reload=False)

    def tick(self, now: Millis) -> None:
        """A tick listener of the pipeline: re-evaluate when due, read the plant when due."""
        if now >= self._due or now >= self._reload_due:
            self._guarded(now, reload=now >= self._reload_due)

    def _guarded(self, now: Millis, *, reload: bool) -> None:
        # The listeners run inside the alarm and warning paths: a failure here (the database
        # away) must not stop an alarm from being processed. The next change or tick retries.
        try:
            if reload:
                self._reload(now)
            self._evaluate(now)
        except Exception:
            log.exception("risk colour not re-evaluated")
            self._due = now

    def _keep(self, alarm: Alarm) -> None:
        key = (alarm.tag_id, alarm.condition)
        if counts(alarm):
            self._alarms[key] = alarm
        else:
            self._alarms.pop(key, None)
        if alarm.condition is ConditionKind.OFFLINE:
            if alarm.active:
                self._offline.add(alarm.tag_id)
            else:
                self._offline.discard(alarm.tag_id)

    def _reload(self, now: Millis) -> None:
        self._reload_due = now + self._reload_ms
        nodes = {n.id: n for n in self._plants.nodes(Grant.everything())}
        keys = {n.id: _key(n, nodes) for n in nodes.values() if n.kind in KINDS}
        facts = self._repository.facts()
        inventories: dict[int, list[InventorySpec]] = defaultdict(list)
        for stored in self._plants.inventories(Grant.everything()):
            inventories[stored.scope_id].append(stored.inventory)
        grades = {
            node_id: _grade(key, inventories.get(node_id, []), facts.get(node_id))
            for node_id, key in keys.items()
            if nodes[node_id].kind is ScopeKind.INSTALLATION
        }
        above: dict[int, int] = {}
        for node_id in keys:
            kind = _ABOVE.get(nodes[node_id].kind)
            parent = None if kind is None else _ancestor(nodes, nodes[node_id].path, kind)
            if parent is not None:
                above[node_id] = parent
        data_tags: dict[int, set[int]] = defaultdict(set)
        for tag in self._pipeline.tags.values() if self._pipeline is not None else ():
            enterprise = _ancestor(nodes, tag.scope_path, ScopeKind.ENTERPRISE)
            if enterprise is not None and not tag.key.endswith(f".{STATUS_TAG}"):
                data_tags[enterprise].add(tag.id)
        self._structure = _Structure(
            nodes=nodes,
            keys=keys,
            by_key={keys[i]: i for i in grades},
            grades=grades,
            above=above,
            scores={
                i: f.assessment_score
                for i, f in facts.items()
                if f.assessment_score is not None and i in nodes
            },
            data_tags={e: frozenset(t) for e, t in data_tags.items()},
        )
        self._installation_of = {}

    def _installation(self, tag_id: int) -> int | None:
        if tag_id not in self._installation_of:
            tag = self._pipeline.tags.get(tag_id) if self._pipeline is not None else None
            nodes = self._structure.nodes
            found = (
                None if tag is None else _ancestor(nodes, tag.scope_path, ScopeKind.INSTALLATION)
            )
            self._installation_of[tag_id] = found
        return self._installation_of[tag_id]

    def _evaluate(self, now: Millis, recorded: Mapping[int, RiskChange] | None = None) -> None:
        self._due = now + self._every_ms
        s = self._structure
        tags = self._pipeline.tags if self._pipeline is not None else {}
        labelled: dict[int, list[tuple[str, Alarm]]] = defaultdict(list)
        for alarm in self._alarms.values():
            installation = self._installation(alarm.tag_id)
            tag = tags.get(alarm.tag_id)
            if installation is not None and tag is not None:
                labelled[installation].append((f"{tag.key} {alarm.condition.value}", alarm))
        warned: dict[int, list[EarlyWarning]] = defaultdict(list)
        for stored in self._warnings.open():
            installation = s.by_key.get(stored.warning.key.installation)
            if installation is not None:
                warned[installation].append(stored.warning)
        inputs: dict[int, RiskInputs] = {}
        for node_id, graded in s.grades.items():
            tally = tally_alarms(labelled[node_id], self.rules.unacknowledged_after_ms, now)
            inputs[node_id] = RiskInputs(
                grade=graded.grade,
                grade_of=graded.grade_of,
                graded=graded.graded,
                grade_problem=graded.grade_problem,
                alarms=tally.active,
                unacknowledged=tally.unacknowledged,
                warnings=tally_warnings(warned[node_id]),
            )
        found: dict[int, RiskAssessment] = {i: assess(x, self.rules) for i, x in inputs.items()}
        below: dict[int, list[int]] = defaultdict(list)
        for node_id, parent in s.above.items():
            below[parent].append(node_id)
        kinds = {i: s.nodes[i].kind for i in s.keys}
        for node_id in (i for i, kind in kinds.items() if kind is ScopeKind.ENTERPRISE):
            combined = RiskInputs.combine(
                [inputs[i] for i in below[node_id] if i in inputs],
                score=s.scores.get(node_id),
                online_rate=self._online_rate(node_id),
            )
            found[node_id] = assess(combined, self.rules, kind=ScopeKind.ENTERPRISE)
        for node_id in (i for i, kind in kinds.items() if kind is ScopeKind.PARK):
            members = [(s.keys[e], found[e].colour) for e in below[node_id] if e in found]
            found[node_id] = assess_park(members, self.rules)
        self._settle(found, now, recorded)

    def _online_rate(self, enterprise: int) -> float | None:
        tags = self._structure.data_tags.get(enterprise)
        if not tags:
            return None
        return 1 - len(tags & self._offline) / len(tags)

    def _settle(
        self,
        found: Mapping[int, RiskAssessment],
        now: Millis,
        recorded: Mapping[int, RiskChange] | None,
    ) -> None:
        """Keep the new colours; record the nodes whose colour changed."""
        before = self._current
        current: dict[int, NodeRisk] = {}
        changes: list[RiskChange] = []
        s = self._structure
        for node_id, assessment in found.items():
            known = before.get(node_id)
            last = recorded.get(node_id) if recorded is not None else None
            if known is not None:
                held, since, previous = known.colour, known.since, known.previous
            elif last is not None:
                held, since, previous = last.colour, last.at, last.previous
            else:
                held, since, previous = None, now, None
            if held is not assessment.colour:
                since, previous = now, held
                changes.append(
                    RiskChange(
                        scope_id=node_id,
                        at=now,
                        colour=assessment.colour,
                        previous=held,
                        explanation=assessment.as_json(),
                    )
                )
            current[node_id] = NodeRisk(
                node=s.nodes[node_id],
                key=s.keys[node_id],
                assessment=assessment,
                since=since,
                previous=previous,
            )
        if changes:
            self._repository.record(changes)
        self._current = MappingProxyType(current)


def _key(node: ScopeNode, nodes: Mapping[int, ScopeNode]) -> str:
    """An installation's ``enterprise.site.installation``; any other node's own key."""
    if node.kind is not ScopeKind.INSTALLATION:
        return node.key
    chain = [nodes[int(p)] for p in node.path.strip("/").split("/") if int(p) in nodes]
    start = next((i for i, n in enumerate(chain) if n.kind is ScopeKind.ENTERPRISE), 0)
    return ".".join(n.key for n in chain[start:])


def _grade(key: str, inventories: Sequence[InventorySpec], facts: NodeFacts | None) -> RiskInputs:
    """The GB 18218 grade of one installation (an installation that declares no inventory
    is not a major hazard); a problem with its inventories is kept, not raised."""
    if not inventories:
        return RiskInputs(grade_of=key)
    try:
        graded = identify_inventories(
            id=key,
            people_within_500m=None if facts is None else facts.people_within_500m,
            inventories=inventories,
        )
    except Gb18218Error as exc:
        log.warning("risk colour: cannot grade %s: %s", key, exc)
        return RiskInputs(grade_of=key, graded=False, grade_problem="; ".join(exc.problems))
    return RiskInputs(grade=graded.grade, grade_of=key)


def _ancestor(nodes: Mapping[int, ScopeNode], path: str, kind: ScopeKind) -> int | None:
    """The node of ``kind`` on ``path`` (``/1/4/9/``), if it is among ``nodes``."""
    for part in path.strip("/").split("/"):
        node = nodes.get(int(part)) if part.isdigit() else None
        if node is not None and node.kind is kind:
            return node.id
    return None
