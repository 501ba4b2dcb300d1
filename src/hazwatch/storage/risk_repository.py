"""The history of dynamic risk colours, and the stored facts the colour starts from.

``risk_history`` holds one row per change of a node's colour (``runtime.risk_stage``
records only changes): the colour from ``at`` on, the colour before (``None`` for the
first), and the assessment that explains it (``RiskAssessment.as_json``) as JSON text.
Scoped reads filter on the node's path inside SQL (``storage/visibility.py``), like every
other repository; ``latest`` and ``facts`` are unscoped reads for the engine at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import func, select

from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import Grant
from hazwatch.domain.warning import Colour
from hazwatch.storage.database import Database
from hazwatch.storage.schema import risk_history, scope_nodes
from hazwatch.storage.visibility import visible


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskChange:
    """Node ``scope_id`` turned ``colour`` at ``at`` (epoch ms) from ``previous``."""

    scope_id: int
    at: Millis
    colour: Colour
    previous: Colour | None
    explanation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeFacts:
    """What the plant file declares of a node for the colour: an installation's people
    within 500 m (GB 18218 α), an enterprise's assessment score (``None``: not declared)."""

    people_within_500m: int | None = None
    assessment_score: float | None = None


class RiskRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, changes: Sequence[RiskChange]) -> None:
        """Append ``changes`` in one transaction (every node must be stored)."""
        if not changes:
            return
        rows = [
            {
                "scope_id": c.scope_id,
                "at": c.at,
                "colour": c.colour.value,
                "previous": None if c.previous is None else c.previous.value,
                "explanation": orjson.dumps(c.explanation).decode(),
            }
            for c in changes
        ]
        with self._db.engine.begin() as conn:
            conn.execute(risk_history.insert(), rows)

    def history(
        self,
        grant: Grant,
        scope_id: int,
        *,
        start: Millis | None = None,
        end: Millis | None = None,
        limit: int = 1000,
    ) -> list[RiskChange]:
        """The changes of node ``scope_id`` with ``start ≤ at < end`` (either bound may be
        left out), oldest first, at most ``limit``; empty when ``grant`` may not see it."""
        query = (
            select(risk_history)
            .join(scope_nodes, scope_nodes.c.id == risk_history.c.scope_id)
            .where(risk_history.c.scope_id == scope_id, visible(scope_nodes.c.path, grant))
        )
        if start is not None:
            query = query.where(risk_history.c.at >= start)
        if end is not None:
            query = query.where(risk_history.c.at < end)
        query = query.order_by(risk_history.c.at, risk_history.c.id).limit(limit)
        with self._db.engine.connect() as conn:
            return [_change(row) for row in conn.execute(query)]

    def latest(self) -> dict[int, RiskChange]:
        """The newest change of every node that has one (unscoped)."""
        newest = select(func.max(risk_history.c.id)).group_by(risk_history.c.scope_id)
        query = select(risk_history).where(risk_history.c.id.in_(newest))
        with self._db.engine.connect() as conn:
            return {row.scope_id: _change(row) for row in conn.execute(query)}

    def facts(self) -> dict[int, NodeFacts]:
        """The declared facts of every node that has any (unscoped)."""
        query = select(
            scope_nodes.c.id, scope_nodes.c.people_within_500m, scope_nodes.c.assessment_score
        ).where(
            scope_nodes.c.people_within_500m.is_not(None)
            | scope_nodes.c.assessment_score.is_not(None)
        )
        with self._db.engine.connect() as conn:
            return {
                node_id: NodeFacts(people_within_500m=people, assessment_score=score)
                for node_id, people, score in conn.execute(query)
            }


def _change(row: Any) -> RiskChange:
    return RiskChange(
        scope_id=row.scope_id,
        at=row.at,
        colour=Colour(row.colour),
        previous=None if row.previous is None else Colour(row.previous),
        explanation=orjson.loads(row.explanation),
    )
