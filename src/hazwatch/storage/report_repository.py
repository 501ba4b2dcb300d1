"""Report schedules, produced reports and their files.

A produced report is one row of ``reports`` and one row of ``report_files`` per format (the
files live in the database, so every API replica and a restored backup hold them). A row
moves through::

    producing ──▶ ready ──(recipients)──▶ delivery pending ──▶ sent
        │                                        └──────────▶ failed (after the last try)
        └──▶ failed (production; a scheduled one is tried again, up to a limit)

**Claims.** Whoever works on a row holds its claim: a token of its own and the instant it
took it (``claimed_at``). ``open_report`` inserts a row already claimed; the unique
``(schedule, period_start, period_end)`` makes a second insert for the same scheduled
period fail, so two producers (or a restart) never make it twice — the loser gets
``None``. Every later write is conditional on the claim (``… WHERE claim = :mine``), and
``claim`` takes a row only when it is free or its claim is older than the caller's
``stale_before`` — a producer that died is taken over, one that is alive is left alone.
``finish`` stores the files and marks the row ready in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError

from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.evaluate.report import ReportFile, ReportFormat, ReportScope
from hazwatch.evaluate.report_period import Period, PeriodKind
from hazwatch.evaluate.report_schedule import ReportSchedule
from hazwatch.storage.database import Database
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.schema import report_files, report_schedules, reports
from hazwatch.storage.upsert import upsert
from hazwatch.storage.visibility import visible


class ReportStatus(StrEnum):
    PRODUCING = "producing"
    READY = "ready"
    FAILED = "failed"


class DeliveryStatus(StrEnum):
    NONE = "none"
    """no recipients"""
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSchedule:
    schedule: ReportSchedule
    scope_path: str
    updated_at: Millis
    updated_by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FileInfo:
    format: ReportFormat
    media_type: str
    filename: str
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredReport:
    id: int
    schedule: str | None
    scope: ReportScope
    period: Period
    formats: tuple[ReportFormat, ...]
    status: ReportStatus
    error: str
    attempts: int
    created_at: Millis
    created_by: str
    finished_at: Millis | None
    recipients: tuple[str, ...]
    channel: str | None
    delivery: DeliveryStatus
    delivery_attempts: int
    delivered_at: Millis | None
    delivery_error: str
    files: tuple[FileInfo, ...]


class ReportRepository:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- schedules -----------------------------------------------------------------------

    def schedules(self, grant: Grant | None = None) -> list[StoredSchedule]:
        """The schedules of nodes ``grant`` sees (``None``: all), by name."""
        query = select(report_schedules).order_by(report_schedules.c.name)
        if grant is not None:
            query = query.where(visible(report_schedules.c.scope_path, grant))
        with self._db.engine.connect() as conn:
            return [_schedule(row) for row in conn.execute(query)]

    def schedule(self, name: str) -> StoredSchedule | None:
        """The schedule ``name``, unscoped (callers check its ``scope_path``)."""
        query = select(report_schedules).where(report_schedules.c.name == name)
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _schedule(row)

    def put_schedule(
        self, schedule: ReportSchedule, *, scope_path: str, actor: str, now: Millis
    ) -> PutOutcome:
        """Create the schedule or replace the one of the same name."""
        row = {
            "name": schedule.name,
            "scope_id": schedule.scope_id,
            "scope_path": scope_path,
            "period_kind": schedule.kind.value,
            "zone": schedule.zone,
            "formats": _json([f.value for f in schedule.formats]),
            "recipients": _json(list(schedule.recipients)),
            "channel": schedule.channel,
            "enabled": schedule.enabled,
            "since": schedule.since,
            "updated_at": now,
            "updated_by": actor,
        }
        insert = upsert(self._db.dialect, report_schedules)
        statement = insert.on_conflict_do_update(
            index_elements=["name"], set_={k: insert.excluded[k] for k in row if k != "name"}
        )
        with self._db.engine.begin() as conn:
            existed = conn.execute(
                select(report_schedules.c.name).where(report_schedules.c.name == schedule.name)
            ).first()
            conn.execute(statement, row)
        return PutOutcome.CREATED if existed is None else PutOutcome.REPLACED

    def delete_schedule(self, name: str) -> bool:
        """Remove a schedule (its reports stay); False when there was none."""
        with self._db.engine.begin() as conn:
            gone = conn.execute(
                delete(report_schedules).where(report_schedules.c.name == name)
            ).rowcount
        return bool(gone)

    # --- producing -----------------------------------------------------------------------

    def produced_periods(self, schedule: str) -> set[tuple[Millis, Millis]]:
        """``(start, end)`` of every period of ``schedule`` that has a row, whatever its
        status."""
        query = select(reports.c.period_start, reports.c.period_end).where(
            reports.c.schedule == schedule
        )
        with self._db.engine.connect() as conn:
            return {(int(s), int(e)) for s, e in conn.execute(query)}

    def open_report(
        self,
        *,
        schedule: str | None,
        scope: ReportScope,
        period: Period,
        formats: Sequence[ReportFormat],
        recipients: Sequence[str],
        channel: str | None,
        actor: str,
        owner: str,
        now: Millis,
    ) -> int | None:
        """Insert a report row claimed by ``owner`` and return its id; ``None`` when the
        scheduled period has a row already (another producer's, or an earlier run's)."""
        row = {
            "schedule": schedule,
            "scope_id": scope.id,
            "scope_kind": scope.kind.value,
            "scope_key": scope.key,
            "scope_name": scope.name,
            "scope_path": scope.path,
            "period_kind": period.kind.value,
            "zone": period.zone,
            "period_start": period.start,
            "period_end": period.end,
            "formats": _json([f.value for f in formats]),
            "status": ReportStatus.PRODUCING.value,
            "error": "",
            "attempts": 1,
            "created_at": now,
            "created_by": actor,
            "finished_at": None,
            "claim": owner,
            "claimed_at": now,
            "recipients": _json(list(recipients)),
            "channel": channel,
            "delivery": (DeliveryStatus.PENDING if recipients else DeliveryStatus.NONE).value,
            "delivery_attempts": 0,
            "delivered_at": None,
            "delivery_error": "",
        }
        try:
            with self._db.engine.begin() as conn:
                inserted = conn.execute(reports.insert().returning(reports.c.id), row)
                return int(inserted.scalar_one())
        except IntegrityError:
            return None

    def claim(self, report_id: int, *, owner: str, now: Millis, stale_before: Millis) -> bool:
        """Take the row for ``owner`` when it is free or its claim was taken before
        ``stale_before``; a production claim counts as another attempt."""
        free = or_(reports.c.claim.is_(None), reports.c.claimed_at < stale_before)
        producing = reports.c.status != ReportStatus.READY.value
        statement = (
            update(reports)
            .where(reports.c.id == report_id, free)
            .values(
                claim=owner,
                claimed_at=now,
                attempts=reports.c.attempts + producing.cast(reports.c.attempts.type),
            )
        )
        with self._db.engine.begin() as conn:
            return conn.execute(statement).rowcount == 1

    def release(self, report_id: int, *, owner: str) -> None:
        with self._db.engine.begin() as conn:
            conn.execute(_mine(report_id, owner).values(claim=None, claimed_at=None))

    def finish(
        self, report_id: int, *, owner: str, files: Sequence[ReportFile], now: Millis
    ) -> bool:
        """Store ``files`` and mark the report ready, in one transaction; False (and nothing
        stored) when ``owner`` no longer holds the claim."""
        with self._db.engine.begin() as conn:
            done = conn.execute(
                _mine(report_id, owner).values(
                    status=ReportStatus.READY.value, error="", finished_at=now
                )
            ).rowcount
            if done != 1:
                return False
            conn.execute(delete(report_files).where(report_files.c.report_id == report_id))
            if files:
                conn.execute(
                    report_files.insert(),
                    [
                        {
                            "report_id": report_id,
                            "format": f.format.value,
                            "media_type": f.media_type,
                            "filename": f.filename,
                            "size": len(f.data),
                            "data": f.data,
                        }
                        for f in files
                    ],
                )
        return True

    def fail(self, report_id: int, *, owner: str, error: str, now: Millis) -> bool:
        """Mark production failed and release the claim."""
        with self._db.engine.begin() as conn:
            return (
                conn.execute(
                    _mine(report_id, owner).values(
                        status=ReportStatus.FAILED.value,
                        error=error[:2000],
                        finished_at=now,
                        claim=None,
                        claimed_at=None,
                    )
                ).rowcount
                == 1
            )

    def delivered(
        self, report_id: int, *, owner: str, outcome: DeliveryStatus, error: str, now: Millis
    ) -> bool:
        """Record one delivery attempt: ``sent``, ``pending`` (to try again) or ``failed``."""
        values: dict[str, Any] = {
            "delivery": outcome.value,
            "delivery_attempts": reports.c.delivery_attempts + 1,
            "delivery_error": error[:2000],
        }
        if outcome is DeliveryStatus.SENT:
            values["delivered_at"] = now
        with self._db.engine.begin() as conn:
            return conn.execute(_mine(report_id, owner).values(**values)).rowcount == 1

    def unfinished(self, *, stale_before: Millis, max_attempts: int) -> list[int]:
        """Rows with work left whose claim is free or stale, oldest first: a production
        that never finished, a scheduled one that failed fewer than ``max_attempts``
        times, a delivery still pending after fewer than ``max_attempts`` tries."""
        r = reports.c
        free = or_(r.claim.is_(None), r.claimed_at < stale_before)
        work = or_(
            r.status == ReportStatus.PRODUCING.value,
            and_(
                r.status == ReportStatus.FAILED.value,
                r.schedule.is_not(None),
                r.attempts < max_attempts,
            ),
            and_(
                r.status == ReportStatus.READY.value,
                r.delivery == DeliveryStatus.PENDING.value,
                r.delivery_attempts < max_attempts,
            ),
        )
        query = select(r.id).where(free, work).order_by(r.id)
        with self._db.engine.connect() as conn:
            return [int(i) for i in conn.execute(query).scalars()]

    # --- reading -------------------------------------------------------------------------

    def get(self, report_id: int, grant: Grant | None = None) -> StoredReport | None:
        """The report ``report_id`` if ``grant`` (``None``: anyone) sees its node."""
        query = select(reports).where(reports.c.id == report_id)
        if grant is not None:
            query = query.where(visible(reports.c.scope_path, grant))
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
            return None if row is None else _report(row, _files(conn, [report_id]))

    def list(
        self,
        grant: Grant,
        *,
        schedule: str | None = None,
        scope_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[StoredReport]:
        """The reports of nodes ``grant`` sees, newest first."""
        query = select(reports).where(visible(reports.c.scope_path, grant))
        if schedule is not None:
            query = query.where(reports.c.schedule == schedule)
        if scope_id is not None:
            query = query.where(reports.c.scope_id == scope_id)
        query = query.order_by(reports.c.created_at.desc(), reports.c.id.desc())
        with self._db.engine.connect() as conn:
            rows = conn.execute(query.limit(limit).offset(offset)).all()
            files = _files(conn, [int(r.id) for r in rows])
        return [_report(row, files) for row in rows]

    def count(self, grant: Grant) -> int:
        query = (
            select(func.count()).select_from(reports).where(visible(reports.c.scope_path, grant))
        )
        with self._db.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def file(
        self, report_id: int, fmt: ReportFormat, grant: Grant | None = None
    ) -> ReportFile | None:
        """One file of a report whose node ``grant`` sees."""
        query = (
            select(report_files)
            .join(reports, reports.c.id == report_files.c.report_id)
            .where(report_files.c.report_id == report_id, report_files.c.format == fmt.value)
        )
        if grant is not None:
            query = query.where(visible(reports.c.scope_path, grant))
        with self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return ReportFile(
            format=fmt, media_type=row.media_type, filename=row.filename, data=bytes(row.data)
        )

    def files(self, report_id: int) -> tuple[ReportFile, ...]:
        """Every file of a report, in the order of its formats (unscoped)."""
        stored = self.get(report_id)
        if stored is None:
            return ()
        found = [self.file(report_id, f.format) for f in stored.files]
        return tuple(f for f in found if f is not None)


def _mine(report_id: int, owner: str) -> Any:
    return update(reports).where(reports.c.id == report_id, reports.c.claim == owner)


def _json(value: object) -> str:
    return orjson.dumps(value).decode()


def _schedule(row: Any) -> StoredSchedule:
    return StoredSchedule(
        schedule=ReportSchedule(
            name=row.name,
            scope_id=row.scope_id,
            kind=PeriodKind(row.period_kind),
            zone=row.zone,
            formats=tuple(ReportFormat(f) for f in orjson.loads(row.formats)),
            recipients=tuple(orjson.loads(row.recipients)),
            channel=row.channel,
            enabled=bool(row.enabled),
            since=row.since,
        ),
        scope_path=row.scope_path,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _files(conn: Connection, ids: Sequence[int]) -> dict[int, list[FileInfo]]:
    if not ids:
        return {}
    f = report_files.c
    query = select(f.report_id, f.format, f.media_type, f.filename, f.size).where(
        f.report_id.in_(ids)
    )
    found: dict[int, list[FileInfo]] = {}
    for report_id, fmt, media_type, filename, size in conn.execute(query):
        found.setdefault(int(report_id), []).append(
            FileInfo(format=ReportFormat(fmt), media_type=media_type, filename=filename, size=size)
        )
    return found


def _report(row: Any, files: dict[int, list[FileInfo]]) -> StoredReport:
    formats = tuple(ReportFormat(f) for f in orjson.loads(row.formats))
    order = {f: i for i, f in enumerate(formats)}
    return StoredReport(
        id=int(row.id),
        schedule=row.schedule,
        scope=ReportScope(
            id=row.scope_id,
            kind=ScopeKind(row.scope_kind),
            key=row.scope_key,
            name=row.scope_name,
            path=row.scope_path,
        ),
        period=Period(
            kind=PeriodKind(row.period_kind),
            zone=row.zone,
            start=row.period_start,
            end=row.period_end,
        ),
        formats=formats,
        status=ReportStatus(row.status),
        error=row.error,
        attempts=row.attempts,
        created_at=row.created_at,
        created_by=row.created_by,
        finished_at=row.finished_at,
        recipients=tuple(orjson.loads(row.recipients)),
        channel=row.channel,
        delivery=DeliveryStatus(row.delivery),
        delivery_attempts=row.delivery_attempts,
        delivered_at=row.delivered_at,
        delivery_error=row.delivery_error,
        files=tuple(
            sorted(files.get(int(row.id), []), key=lambda i: order.get(i.format, len(order)))
        ),
    )
