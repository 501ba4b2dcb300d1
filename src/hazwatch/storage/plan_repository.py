"""Emergency-plan templates (预案): uploaded versions, and the plans shipped with hazwatch.

Stored like playbooks (``playbook_repository``): a version is saved once — the same document
again changes nothing, another document under a stored version is refused
(``PlanVersionError``). The plans shipped with hazwatch (``respond.plan.builtin_plans``)
are always available; once any version of a name is uploaded, the uploads take over that
name: the newest upload is the plan in force. A built-in version is still found by its
number when no upload has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Row, func, select

from hazwatch.domain.clock import Millis
from hazwatch.respond.plan import Plan, builtin_plans
from hazwatch.storage.database import Database
from hazwatch.storage.schema import emergency_plans
from hazwatch.storage.upsert import insert_new

BUILTIN = "hazwatch"
"""``created_by`` of the plans shipped with hazwatch."""


class PlanVersionError(ValueError):
    """This name and version are stored with another document: save a new version."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlan:
    """A plan version; ``builtin``: shipped with hazwatch (then ``created_at`` is None)."""

    plan: Plan
    created_at: Millis | None
    created_by: str
    builtin: bool = False


class PlanRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, plan: Plan, *, actor: str, now: Millis) -> StoredPlan:
        """Store an uploaded version; the stored one when this exact version is stored."""
        row = {
            "name": plan.name,
            "version": plan.version,
            "title": plan.title,
            "severity": plan.severity.value,
            "document": plan.model_dump_json(),
            "created_at": now,
            "created_by": actor,
        }
        if not insert_new(self._db, emergency_plans, row, ("name", "version")):
            stored = self._stored(plan.name, plan.version)
            if stored is None or stored.plan != plan:
                raise PlanVersionError(
                    f"plan {plan.name} version {plan.version} is stored with another document:"
                    " give the change a new version"
                )
            return stored
        return StoredPlan(plan=plan, created_at=now, created_by=actor)

    def get(self, name: str, version: int | None = None) -> StoredPlan | None:
        """A version of a plan — the one in force when ``version`` is None — uploaded or
        built in (None when there is none)."""
        stored = self._stored(name, version)
        if stored is not None:
            return stored
        shipped = builtin_plans().get(name)
        if shipped is None or (version is not None and version != shipped.version):
            return None
        return _builtin(shipped)

    def versions(self, name: str, *, builtin: bool = True) -> list[int]:
        """The versions of plan ``name``: uploaded, and the built-in one if ``builtin``."""
        with self._db.engine.connect() as conn:
            found = {
                int(v)
                for v in conn.execute(
                    select(emergency_plans.c.version).where(emergency_plans.c.name == name)
                ).scalars()
            }
        shipped = builtin_plans().get(name) if builtin else None
        if shipped is not None:
            found.add(shipped.version)
        return sorted(found)

    def in_force(self) -> list[StoredPlan]:
        """The plan in force of every name, by name: the newest upload, else the built-in."""
        newest = (
            select(emergency_plans.c.name, func.max(emergency_plans.c.version).label("version"))
            .group_by(emergency_plans.c.name)
            .subquery()
        )
        query = select(emergency_plans).join(
            newest,
            (emergency_plans.c.name == newest.c.name)
            & (emergency_plans.c.version == newest.c.version),
        )
        with self._db.engine.connect() as conn:
            uploaded = {s.plan.name: s for s in (_stored(row) for row in conn.execute(query))}
        shipped = {n: _builtin(p) for n, p in builtin_plans().items() if n not in uploaded}
        merged = uploaded | shipped
        return [merged[name] for name in sorted(merged)]

    def _stored(self, name: str, version: int | None) -> StoredPlan | None:
        query = select(emergency_plans).where(emergency_plans.c.name == name)
        if version is not None:
            query = query.where(emergency_plans.c.version == version)
        query = query.order_by(emergency_plans.c.version.desc()).limit(1)
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _stored(row)


def _builtin(plan: Plan) -> StoredPlan:
    return StoredPlan(plan=plan, created_at=None, created_by=BUILTIN, builtin=True)


def _stored(row: Row[Any]) -> StoredPlan:
    return StoredPlan(
        plan=Plan.model_validate(orjson.loads(row.document)),
        created_at=int(row.created_at),
        created_by=row.created_by,
    )
