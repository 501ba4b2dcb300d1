"""Report schedules and produced reports in the database: one row per scheduled period,
claims that only their holder can use, files stored with the ready mark, scoped reads."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import inspect

from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.evaluate.report import ReportFile, ReportFormat, ReportScope
from hazwatch.evaluate.report_period import Period, PeriodKind
from hazwatch.evaluate.report_schedule import parse_schedule
from hazwatch.storage.database import Database
from hazwatch.storage.outcome import PutOutcome
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.report_repository import DeliveryStatus, ReportRepository, ReportStatus

DAY = 86_400_000
T = 1_800_000_000_000


def _east(db: Database) -> ReportScope:
    node = PlantRepository(db).node_by_keys(["jiangsu", "east"])
    assert node is not None
    return ReportScope(
        id=node.id, kind=ScopeKind.PARK, key="jiangsu.east", name="East", path=node.path
    )


def _day(n: int) -> Period:
    return Period(kind=PeriodKind.DAY, zone="UTC", start=T + n * DAY, end=T + (n + 1) * DAY)


def _open(
    repo: ReportRepository,
    scope: ReportScope,
    n: int,
    owner: str,
    *,
    schedule: str | None = "daily",
    recipients: tuple[str, ...] = (),
) -> int | None:
    return repo.open_report(
        schedule=schedule,
        scope=scope,
        period=_day(n),
        formats=[ReportFormat.CSV],
        recipients=recipients,
        channel=None,
        actor="scheduler",
        owner=owner,
        now=T,
    )


def test_a_scheduled_period_has_one_row_and_claims_guard_it(
    db: Database, stored_tags: object, grant_on: Callable[..., Grant]
) -> None:
    repo, east = ReportRepository(db), _east(db)
    first = _open(repo, east, 0, "a")
    assert first is not None
    assert _open(repo, east, 0, "b") is None, "the period has its row"
    on_demand = _open(repo, east, 0, "b", schedule=None)
    assert on_demand is not None, "on demand: never a clash"
    assert repo.produced_periods("daily") == {(T, T + DAY)}

    file = ReportFile(
        format=ReportFormat.CSV, media_type="application/zip", filename="x.csv.zip", data=b"PK"
    )
    assert not repo.finish(first, owner="b", files=[file], now=T + 1), "b holds no claim"
    assert repo.file(first, ReportFormat.CSV) is None
    assert not repo.claim(first, owner="b", now=T + 5, stale_before=T), "a's claim is fresh"
    assert repo.claim(first, owner="b", now=T + 5, stale_before=T + 1), "a's claim is stale"
    assert not repo.finish(first, owner="a", files=[file], now=T + 6), "a lost it"
    assert repo.finish(first, owner="b", files=[file], now=T + 6)
    repo.release(first, owner="b")

    stored = repo.get(first)
    assert stored is not None
    assert (stored.status, stored.attempts, stored.finished_at) == (ReportStatus.READY, 2, T + 6)
    assert stored.delivery is DeliveryStatus.NONE
    assert [(f.format, f.size) for f in stored.files] == [(ReportFormat.CSV, 2)]
    assert repo.file(first, ReportFormat.CSV, grant_on("east")) == file
    assert repo.file(first, ReportFormat.CSV, grant_on("west")) is None
    assert repo.get(first, grant_on("east", "acid")) is None, "a park's report, not an enterprise's"
    assert [r.id for r in repo.list(grant_on("east"), schedule="daily")] == [first]
    assert repo.unfinished(stale_before=T + 10, max_attempts=5) == [on_demand]


def test_failed_and_undelivered_reports_are_left_for_another_try(
    db: Database, stored_tags: object
) -> None:
    repo, east = ReportRepository(db), _east(db)
    failed = _open(repo, east, 1, "a")
    mailed = _open(repo, east, 2, "a", recipients=("x@example.cn",))
    assert failed is not None and mailed is not None
    assert repo.fail(failed, owner="a", error="boom", now=T)
    assert repo.finish(mailed, owner="a", files=[], now=T)
    assert repo.delivered(mailed, owner="a", outcome=DeliveryStatus.PENDING, error="later", now=T)
    repo.release(mailed, owner="a")
    assert repo.unfinished(stale_before=T, max_attempts=5) == [failed, mailed]
    assert repo.unfinished(stale_before=T, max_attempts=1) == [], "tried enough"
    stored = repo.get(mailed)
    assert stored is not None and (stored.delivery_attempts, stored.delivery_error) == (1, "later")


def test_schedules_are_kept_replaced_scoped_and_removed(
    db: Database, stored_tags: object, grant_on: Callable[..., Grant]
) -> None:
    repo, east = ReportRepository(db), _east(db)
    schedule = parse_schedule(
        {"name": "m", "scope": east.id, "period": "month", "recipients": ["a@example.cn"]}, now=T
    )
    assert (
        repo.put_schedule(schedule, scope_path=east.path, actor="admin", now=T)
        is PutOutcome.CREATED
    )
    assert (
        repo.put_schedule(schedule, scope_path=east.path, actor="root", now=T + 1)
        is PutOutcome.REPLACED
    )
    stored = repo.schedule("m")
    assert stored is not None and stored.schedule == schedule and stored.updated_by == "root"
    assert [s.schedule.name for s in repo.schedules(grant_on("east"))] == ["m"]
    assert repo.schedules(grant_on("west")) == []
    assert repo.delete_schedule("m") and not repo.delete_schedule("m")


def test_the_migration_adds_and_removes_the_tables(db: Database) -> None:
    tables = {"report_schedules", "reports", "report_files"}
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= tables
    db.downgrade("0015_risk")
    with db.engine.connect() as conn:
        names = set(inspect(conn).get_table_names())
    assert not tables & names
    assert "risk_history" in names, "only this revision's tables go"
    db.upgrade()
    with db.engine.connect() as conn:
        assert set(inspect(conn).get_table_names()) >= tables
