"""Early warnings (the current state of each) and their journal of transitions.

Saving is idempotent under replay, like alarms' (``alarm_repository``): a journal row is
identified by ``(warning_id, seq)`` and a replayed one is ignored; a warning row is
overwritten only by a state of equal or newer ``seq``, so a late replay never rolls a
warning back.

A warning belongs to one scope node (``StoredWarning.scope_id``/``scope_path``): the node of
its subject's tag when the subject is a stored tag, else its installation (``place``). The
path is stored on the row, and every scoped read filters on it inside SQL
(``storage/visibility.py``), journal reads through the warning they belong to.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, Row, and_, case, func, select

from hazwatch.domain.clock import Millis
from hazwatch.domain.keys import TAG_KEY
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.warning import (
    Closure,
    Colour,
    Contribution,
    EarlyWarning,
    Escalation,
    Explanation,
    Feedback,
    WarningInput,
    WarningKey,
    WarningState,
    WarningTransition,
)
from hazwatch.storage.database import Database
from hazwatch.storage.schema import scope_nodes, tags, warning_journal, warnings
from hazwatch.storage.upsert import upsert
from hazwatch.storage.visibility import visible

Transitions = list[WarningTransition]

# Level 1 (red) … 4 (blue): ascending puts the most severe first.
_SEVERITY = case({c.value: c.level for c in Colour}, value=warnings.c.colour, else_=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class Placement:
    """The scope node a warning belongs to: its id and materialised path (``/1/4/9/``)."""

    scope_id: int
    scope_path: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredWarning:
    """A warning and the scope node it belongs to."""

    warning: EarlyWarning
    scope_id: int
    scope_path: str

    @classmethod
    def at(cls, warning: EarlyWarning, placement: Placement) -> StoredWarning:
        return cls(warning=warning, scope_id=placement.scope_id, scope_path=placement.scope_path)

    @property
    def placement(self) -> Placement:
        return Placement(scope_id=self.scope_id, scope_path=self.scope_path)


class WarningRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(
        self, warnings_: Sequence[StoredWarning], transitions: Sequence[WarningTransition]
    ) -> None:
        """Upsert ``warnings_`` and journal ``transitions``, in one transaction.

        A transition whose ``(warning_id, seq)`` is journaled already is skipped; a warning
        whose stored ``seq`` is newer than the given one is left as it is. Every transition's
        warning must be stored already or be among ``warnings_`` (``IntegrityError``).
        """
        latest: dict[str, StoredWarning] = {}
        for stored in warnings_:
            found = latest.get(stored.warning.id)
            if found is None or found.warning.seq <= stored.warning.seq:
                latest[stored.warning.id] = stored
        steps = {(t.warning_id, t.seq): t for t in transitions}
        backend = self._db.dialect
        with self._db.engine.begin() as conn:
            if latest:
                insert = upsert(backend, warnings)
                changed = {
                    c.name: insert.excluded[c.name] for c in warnings.columns if c.name != "id"
                }
                statement = insert.on_conflict_do_update(
                    index_elements=["id"],
                    set_=changed,
                    where=warnings.c.seq <= insert.excluded.seq,
                )
                conn.execute(statement, [_warning_row(s) for s in latest.values()])
            if steps:
                journal = upsert(backend, warning_journal).on_conflict_do_nothing(
                    index_elements=["warning_id", "seq"]
                )
                conn.execute(journal, [_transition_row(t) for t in steps.values()])

    def place(self, key: WarningKey) -> Placement | None:
        """The node a warning of ``key`` belongs to; ``None`` when it is not stored.

        A subject that is a stored tag's key places the warning on that tag's node; any other
        subject (a group of variables, none) on the installation of ``key``.
        """
        with self._db.engine.connect() as conn:
            if TAG_KEY.fullmatch(key.subject):
                row = conn.execute(
                    select(tags.c.scope_id, tags.c.scope_path).where(tags.c.key == key.subject)
                ).first()
                if row is not None:
                    return Placement(scope_id=row.scope_id, scope_path=row.scope_path)
            return _installation(conn, key.installation)

    def latest(self) -> list[StoredWarning]:
        """The newest warning of every key, open or closed, unscoped (for the runtime at
        start-up: a closed one still recognises a replayed observation)."""
        newest = (
            select(warnings.c.key, func.max(warnings.c.raised_at).label("raised_at"))
            .group_by(warnings.c.key)
            .subquery()
        )
        query = (
            select(warnings)
            .join(
                newest,
                and_(warnings.c.key == newest.c.key, warnings.c.raised_at == newest.c.raised_at),
            )
            .order_by(warnings.c.key)
        )
        with self._db.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def find(self, warning_id: str) -> StoredWarning | None:
        """The warning ``warning_id``, unscoped (for the runtime)."""
        with self._db.engine.connect() as conn:
            row = conn.execute(select(warnings).where(warnings.c.id == warning_id)).first()
        return None if row is None else _stored(row)

    def get(self, grant: Grant, warning_id: str) -> StoredWarning | None:
        """The warning ``warning_id`` if ``grant`` may see it (``None`` when absent or hidden)."""
        query = select(warnings).where(
            warnings.c.id == warning_id, visible(warnings.c.scope_path, grant)
        )
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _stored(row)

    def list(
        self,
        grant: Grant,
        *,
        states: Collection[WarningState] | None = None,
        colours: Collection[Colour] | None = None,
        detector: str | None = None,
        installation: str | None = None,
        scope_id: int | None = None,
        active: bool | None = None,
        limit: int = 500,
    ) -> list[StoredWarning]:
        """The warnings ``grant`` may see, most severe colour first, then newest change first.

        ``installation``: an installation key; ``scope_id``: warnings at or below that node.
        Each filter left ``None`` does not filter.
        """
        where: list[ColumnElement[bool]] = [visible(warnings.c.scope_path, grant)]
        if states is not None:
            where.append(warnings.c.state.in_([s.value for s in states]))
        if colours is not None:
            where.append(warnings.c.colour.in_([c.value for c in colours]))
        if detector is not None:
            where.append(warnings.c.detector == detector)
        if installation is not None:
            where.append(warnings.c.installation == installation)
        if scope_id is not None:
            below = select(scope_nodes.c.path).where(scope_nodes.c.id == scope_id)
            where.append(warnings.c.scope_path.startswith(below.scalar_subquery()))
        if active is not None:
            where.append(warnings.c.active.is_(active))
        query = (
            select(warnings)
            .where(*where)
            .order_by(_SEVERITY, warnings.c.updated_at.desc(), warnings.c.id)
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def journal(
        self,
        grant: Grant,
        *,
        warning_id: str | None = None,
        since: Millis | None = None,
        limit: int = 500,
    ) -> Transitions:
        """Journaled transitions ``grant`` may see, newest first (``since``: ``at >= since``).

        One warning's journal is ordered by ``seq``, newest first: an escalation is stamped
        when it fell due, which may lie before an observation journaled ahead of it.
        """
        where: list[ColumnElement[bool]] = [visible(warnings.c.scope_path, grant)]
        order: list[ColumnElement[Any]] = [
            warning_journal.c.at.desc(),
            warning_journal.c.warning_id,
            warning_journal.c.seq.desc(),
        ]
        if warning_id is not None:
            where.append(warning_journal.c.warning_id == warning_id)
            order = [warning_journal.c.seq.desc()]
        if since is not None:
            where.append(warning_journal.c.at >= since)
        query = (
            select(warning_journal)
            .join(warnings, warnings.c.id == warning_journal.c.warning_id)
            .where(*where)
            .order_by(*order)
            .limit(limit)
        )
        with self._db.engine.connect() as conn:
            return [_transition(row) for row in conn.execute(query)]


def _installation(conn: Connection, key: str) -> Placement | None:
    enterprise, site, installation = (
        scope_nodes.alias("enterprise"),
        scope_nodes.alias("site"),
        scope_nodes.alias("installation"),
    )
    parts = key.split(".")
    query = (
        select(installation.c.id, installation.c.path)
        .select_from(enterprise)
        .join(site, site.c.parent_id == enterprise.c.id)
        .join(installation, installation.c.parent_id == site.c.id)
        .where(
            enterprise.c.kind == ScopeKind.ENTERPRISE.value,
            enterprise.c.key == parts[0],
            site.c.key == parts[1],
            installation.c.key == parts[2],
        )
    )
    row = conn.execute(query).first()
    return None if row is None else Placement(scope_id=row.id, scope_path=row.path)


def _warning_row(stored: StoredWarning) -> dict[str, object]:
    w = stored.warning
    closure = w.closure
    return {
        "id": w.id,
        "key": w.key.text,
        "detector": w.key.detector,
        "installation": w.key.installation,
        "subject": w.key.subject,
        "scope_id": stored.scope_id,
        "scope_path": stored.scope_path,
        "state": w.state.value,
        "seq": w.seq,
        "colour": w.colour.value,
        "raised_colour": w.raised_colour.value,
        "colour_since": w.colour_since,
        "explanation": _explanation_json(w.explanation),
        "raised_at": w.raised_at,
        "updated_at": w.updated_at,
        "last_observed_at": w.last_observed_at,
        "observations": w.observations,
        "active": w.active,
        "active_since": w.active_since,
        "acknowledged_at": w.acknowledged_at,
        "acknowledged_by": w.acknowledged_by,
        "closed_at": closure.at if closure else None,
        "closed_by": closure.actor if closure else None,
        "close_cause": closure.cause if closure else None,
        "feedback": closure.feedback.value if closure else None,
        "escalations": _escalations_json(w.escalations),
    }


def _stored(row: Row[Any]) -> StoredWarning:
    closure = None
    if row.closed_at is not None:
        closure = Closure(
            at=row.closed_at,
            actor=row.closed_by,
            cause=row.close_cause,
            feedback=Feedback(row.feedback),
        )
    warning = EarlyWarning(
        id=row.id,
        key=WarningKey(detector=row.detector, installation=row.installation, subject=row.subject),
        state=WarningState(row.state),
        seq=row.seq,
        colour=Colour(row.colour),
        raised_colour=Colour(row.raised_colour),
        colour_since=row.colour_since,
        explanation=_explanation(row.explanation),
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        last_observed_at=row.last_observed_at,
        observations=row.observations,
        active=bool(row.active),
        active_since=row.active_since,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        closure=closure,
        escalations=_escalations(row.escalations),
    )
    return StoredWarning(warning=warning, scope_id=row.scope_id, scope_path=row.scope_path)


def _explanation_json(explanation: Explanation) -> str:
    return orjson.dumps(
        {
            "text": explanation.text,
            "contributions": [
                {"variable": c.variable, "share": c.share} for c in explanation.contributions
            ],
        }
    ).decode()


def _explanation(text: str) -> Explanation:
    data = orjson.loads(text)
    return Explanation(
        text=data["text"],
        contributions=tuple(
            Contribution(variable=c["variable"], share=c["share"]) for c in data["contributions"]
        ),
    )


def _escalations_json(escalations: Sequence[Escalation]) -> str:
    return orjson.dumps(
        [
            {
                "at": e.at,
                "from_colour": e.from_colour.value,
                "to_colour": e.to_colour.value,
                "rule": e.rule,
                "cause": e.cause,
            }
            for e in escalations
        ]
    ).decode()


def _escalations(text: str) -> tuple[Escalation, ...]:
    return tuple(
        Escalation(
            at=e["at"],
            from_colour=Colour(e["from_colour"]),
            to_colour=Colour(e["to_colour"]),
            rule=e["rule"],
            cause=e["cause"],
        )
        for e in orjson.loads(text)
    )


def _transition_row(t: WarningTransition) -> dict[str, object]:
    return {
        "warning_id": t.warning_id,
        "seq": t.seq,
        "at": t.at,
        "input": t.input.value,
        "from_state": None if t.from_state is None else t.from_state.value,
        "to_state": t.to_state.value,
        "from_colour": None if t.from_colour is None else t.from_colour.value,
        "to_colour": t.to_colour.value,
        "actor": t.actor,
        "cause": t.cause,
        "comment": t.comment,
        "rule": t.rule,
        "feedback": None if t.feedback is None else t.feedback.value,
    }


def _transition(row: Row[Any]) -> WarningTransition:
    return WarningTransition(
        warning_id=row.warning_id,
        seq=row.seq,
        at=row.at,
        input=WarningInput(row.input),
        from_state=None if row.from_state is None else WarningState(row.from_state),
        to_state=WarningState(row.to_state),
        from_colour=None if row.from_colour is None else Colour(row.from_colour),
        to_colour=Colour(row.to_colour),
        actor=row.actor,
        cause=row.cause,
        comment=row.comment,
        rule=row.rule,
        feedback=None if row.feedback is None else Feedback(row.feedback),
    )
