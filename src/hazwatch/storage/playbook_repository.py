"""Playbooks (every version) and the journals of their runs.

A playbook version is saved once: saving the same name and version again with the same
document changes nothing (a replayed upload), with another document it is refused — a
change needs a new version. The newest version of each name is the one in force.

Runs are saved as a journal: entries keyed ``(run_id, seq)`` (a replayed entry is ignored)
and the run's state, overwritten only by an equal or newer ``seq``, both in one transaction
— the runtime saves them *before* it carries out the step's order (``respond.run``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from sqlalchemy import Row, func, select

from hazwatch.domain.clock import Millis
from hazwatch.respond.playbook import Playbook, StepOutcome
from hazwatch.respond.run import Entry, EntryKind, Run, RunStatus
from hazwatch.storage.database import Database
from hazwatch.storage.schema import playbook_run_entries, playbook_runs, playbooks
from hazwatch.storage.upsert import insert_new, upsert


class PlaybookVersionError(ValueError):
    """This name and version are stored with another document: save a new version."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredPlaybook:
    playbook: Playbook
    created_at: Millis
    created_by: str


class PlaybookRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, playbook: Playbook, *, actor: str, now: Millis) -> StoredPlaybook:
        """Store a version; the stored one when this exact version is stored already."""
        document = playbook.model_dump_json()
        row = {
            "name": playbook.name,
            "version": playbook.version,
            "title": playbook.title,
            "event": playbook.trigger.event,
            "document": document,
            "created_at": now,
            "created_by": actor,
        }
        if not insert_new(self._db, playbooks, row, ("name", "version")):
            stored = self.get(playbook.name, playbook.version)
            if stored is None or stored.playbook != playbook:
                raise PlaybookVersionError(
                    f"playbook {playbook.name} version {playbook.version} is stored with other "
                    "steps or trigger: give the change a new version"
                )
            return stored
        return StoredPlaybook(playbook=playbook, created_at=now, created_by=actor)

    def get(self, name: str, version: int | None = None) -> StoredPlaybook | None:
        """A version of a playbook, the newest when ``version`` is None."""
        query = select(playbooks).where(playbooks.c.name == name)
        if version is not None:
            query = query.where(playbooks.c.version == version)
        query = query.order_by(playbooks.c.version.desc()).limit(1)
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _stored(row)

    def versions(self, name: str) -> list[int]:
        with self._db.engine.connect() as conn:
            found = conn.execute(
                select(playbooks.c.version)
                .where(playbooks.c.name == name)
                .order_by(playbooks.c.version)
            )
            return [int(v) for v in found.scalars()]

    def in_force(self) -> list[StoredPlaybook]:
        """The newest version of every playbook, by name."""
        newest = (
            select(playbooks.c.name, func.max(playbooks.c.version).label("version"))
            .group_by(playbooks.c.name)
            .subquery()
        )
        query = (
            select(playbooks)
            .join(
                newest,
                (playbooks.c.name == newest.c.name) & (playbooks.c.version == newest.c.version),
            )
            .order_by(playbooks.c.name)
        )
        with self._db.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]

    def record(self, run: Run, entries: Sequence[Entry]) -> None:
        """Journal ``entries`` and save ``run``, in one transaction (idempotent)."""
        backend = self._db.dialect
        with self._db.engine.begin() as conn:
            insert = upsert(backend, playbook_runs)
            changed = {c.name: insert.excluded[c.name] for c in playbook_runs.columns}
            conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["id"],
                    set_=changed,
                    where=playbook_runs.c.seq <= insert.excluded.seq,
                ),
                _run_row(run),
            )
            if entries:
                journal = upsert(backend, playbook_run_entries).on_conflict_do_nothing(
                    index_elements=["run_id", "seq"]
                )
                conn.execute(journal, [_entry_row(e) for e in entries])

    def running(self) -> list[Run]:
        """The runs not finished (to resume after a restart)."""
        query = select(playbook_runs).where(playbook_runs.c.status == RunStatus.RUNNING.value)
        with self._db.engine.connect() as conn:
            return [_run(row) for row in conn.execute(query.order_by(playbook_runs.c.started_at))]

    def journal(self, run_id: str) -> list[Entry]:
        query = (
            select(playbook_run_entries)
            .where(playbook_run_entries.c.run_id == run_id)
            .order_by(playbook_run_entries.c.seq)
        )
        with self._db.engine.connect() as conn:
            return [_entry(row) for row in conn.execute(query)]


def _stored(row: Row[tuple[object, ...]]) -> StoredPlaybook:
    data = row._mapping
    return StoredPlaybook(
        playbook=Playbook.model_validate(orjson.loads(str(data["document"]))),
        created_at=int(data["created_at"]),
        created_by=str(data["created_by"]),
    )


def _run_row(run: Run) -> dict[str, object]:
    return {
        "id": run.id,
        "playbook": run.playbook,
        "version": run.version,
        "occurrence": run.occurrence,
        "status": run.status.value,
        "step": run.step,
        "step_since": run.step_since,
        "started_at": run.started_at,
        "seq": run.seq,
        "acknowledged_at": run.acknowledged_at,
        "acknowledged_by": run.acknowledged_by,
    }


def _run(row: Row[tuple[object, ...]]) -> Run:
    data = row._mapping
    acknowledged = data["acknowledged_at"]
    return Run(
        id=str(data["id"]),
        playbook=str(data["playbook"]),
        version=int(data["version"]),
        occurrence=str(data["occurrence"]),
        status=RunStatus(data["status"]),
        step=str(data["step"]),
        step_since=int(data["step_since"]),
        started_at=int(data["started_at"]),
        seq=int(data["seq"]),
        acknowledged_at=None if acknowledged is None else int(acknowledged),
        acknowledged_by=str(data["acknowledged_by"]),
    )


def _entry_row(entry: Entry) -> dict[str, object]:
    return {
        "run_id": entry.run_id,
        "seq": entry.seq,
        "at": entry.at,
        "kind": entry.kind.value,
        "step": entry.step,
        "outcome": None if entry.outcome is None else entry.outcome.value,
        "actor": entry.actor,
        "detail": entry.detail,
    }


def _entry(row: Row[tuple[object, ...]]) -> Entry:
    data = row._mapping
    outcome = data["outcome"]
    return Entry(
        run_id=str(data["run_id"]),
        seq=int(data["seq"]),
        at=int(data["at"]),
        kind=EntryKind(data["kind"]),
        step=str(data["step"]),
        outcome=None if outcome is None else StepOutcome(outcome),
        actor=str(data["actor"]),
        detail=str(data["detail"]),
    )
