"""The report scheduler with a manual clock: every period that is over gets exactly one
report — across restarts, after downtime, with two producers at once, after a producer
died mid-way — and the report is mailed, with its files attached, to an SMTP server on
loopback."""

from __future__ import annotations

import asyncio
import io
import itertools
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from openpyxl import load_workbook
from ports import free_port

from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS, Millis, to_millis
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.scope import Grant, ScopeNode
from hazwatch.evaluate.report import Report, ReportFile, ReportFormat
from hazwatch.evaluate.report_period import Period, PeriodKind
from hazwatch.evaluate.report_schedule import parse_schedule
from hazwatch.respond.notify.channel_config import parse_channel
from hazwatch.runtime.clock import ManualClock
from hazwatch.runtime.report_mail import ReportMailer
from hazwatch.runtime.report_production import ReportMaker
from hazwatch.runtime.report_scheduler import ReportScheduler
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.report_repository import (
    DeliveryStatus,
    ReportRepository,
    ReportStatus,
    StoredReport,
)

# 2027-01-01 00:00 in Asia/Shanghai (UTC+08:00) is 2026-12-31 16:00 UTC
JAN1 = to_millis(datetime(2026, 12, 31, 16, tzinfo=UTC))
SETTLED = 5 * MINUTE_MS  # past the scheduler's settle delay (2 min)

PLANT = {
    "region": "r",
    "parks": [
        {
            "key": "p",
            "name": "Park P",
            "enterprises": [
                {
                    "key": "e",
                    "sites": [
                        {
                            "key": "s",
                            "installations": [
                                {
                                    "key": "i",
                                    "equipment": [
                                        {
                                            "key": "q",
                                            "tags": [{"key": "t", "unit": "u", "range": [0, 1]}],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
    ],
}


class CountingMaker(ReportMaker):
    """Counts the reports made, per scope and period."""

    def __init__(self, db: Database, plants: PlantRepository) -> None:
        super().__init__(db=db, plants=plants)
        self.made: list[tuple[int, int]] = []
        self._lock = threading.Lock()

    def make(
        self, node: ScopeNode, period: Period, formats: Sequence[ReportFormat], *, now: Millis
    ) -> tuple[Report, tuple[ReportFile, ...]]:
        with self._lock:
            self.made.append((period.start, period.end))
        return super().make(node, period, formats, now=now)


@dataclass
class Setup:
    db: Database
    clock: ManualClock
    plants: PlantRepository
    reports: ReportRepository
    park: ScopeNode
    makers: list[CountingMaker] = field(default_factory=list)

    def scheduler(self, *, mail: bool = False) -> ReportScheduler:
        """A new scheduler on the same database: what a restarted process builds."""
        maker = CountingMaker(self.db, self.plants)
        self.makers.append(maker)
        return ReportScheduler(
            reports=self.reports,
            plants=self.plants,
            maker=maker,
            mailer=ReportMailer(channels=ChannelRepository(self.db)) if mail else None,
            clock=self.clock,
        )

    def schedule(self, name: str, period: str, **more: Any) -> None:
        document = {"name": name, "scope": self.park.id, "period": period, "formats": ["csv"]}
        schedule = parse_schedule(document | more, now=self.clock.now())
        self.reports.put_schedule(
            schedule, scope_path=self.park.path, actor="admin", now=self.clock.now()
        )

    def produced(self, schedule: str) -> list[StoredReport]:
        found = self.reports.list(Grant.everything(), schedule=schedule, limit=500)
        return sorted(found, key=lambda r: r.period.start)

    @property
    def made(self) -> list[tuple[int, int]]:
        return [m for maker in self.makers for m in maker.made]


@pytest.fixture
def setup(db: Database) -> Setup:
    plants = PlantRepository(db)
    plants.save(PlantSpec.model_validate(PLANT))
    park = plants.node_by_keys(["r", "p"])
    assert park is not None
    clock = ManualClock(JAN1 + 10 * HOUR_MS)  # 2027-01-01 10:00 Shanghai
    return Setup(db=db, clock=clock, plants=plants, reports=ReportRepository(db), park=park)


async def test_a_restart_neither_skips_nor_doubles_a_period(setup: Setup) -> None:
    setup.schedule("daily", "day")
    first = setup.scheduler()
    assert await first.run_once() == []  # 2027-01-01 is not over
    setup.clock.current = JAN1 + DAY_MS + MINUTE_MS  # 00:01: over, but within the settle delay
    assert await first.run_once() == []
    setup.clock.current = JAN1 + DAY_MS + SETTLED
    assert len(await first.run_once()) == 1
    assert [r.period.label for r in setup.produced("daily")] == ["2027-01-01"]

    restarted = setup.scheduler()  # same database, new process
    assert await restarted.run_once() == []
    setup.clock.advance(2 * DAY_MS)  # across two more periods, with nothing running
    worked = await restarted.run_once()
    assert len(worked) == 2
    reports = setup.produced("daily")
    assert [r.period.label for r in reports] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert all(r.status is ReportStatus.READY for r in reports)
    assert all(a.period.end == b.period.start for a, b in itertools.pairwise(reports))
    assert [f.format for f in reports[0].files] == [ReportFormat.CSV]
    assert sorted(setup.made) == [(r.period.start, r.period.end) for r in reports]
    assert await setup.scheduler().run_once() == []
    assert len(setup.made) == 3, "nothing is made twice"


async def test_downtime_is_caught_up_oldest_first(setup: Setup) -> None:
    setup.clock.current = JAN1 + 14 * DAY_MS  # 2027-01-15
    setup.schedule("monthly", "month")
    setup.schedule("weekly", "week", enabled=False)
    setup.clock.current = JAN1 + 90 * DAY_MS + SETTLED  # 2027-04-01 00:05: three months later
    await setup.scheduler().run_once()
    assert [r.period.label for r in setup.produced("monthly")] == [
        "2027-01",
        "2027-02",
        "2027-03",
    ]
    assert setup.produced("weekly") == [], "a disabled schedule makes nothing"


async def test_two_producers_at_once_make_each_period_once(setup: Setup) -> None:
    setup.schedule("daily", "day")
    setup.clock.current = JAN1 + 3 * DAY_MS + SETTLED  # three days over
    a, b = setup.scheduler(), setup.scheduler()
    worked_a, worked_b = await asyncio.gather(a.run_once(), b.run_once())
    reports = setup.produced("daily")
    assert [r.period.label for r in reports] == ["2027-01-01", "2027-01-02", "2027-01-03"]
    assert sorted(worked_a + worked_b) == sorted(r.id for r in reports)
    assert len(setup.made) == 3, "no period is produced by both"


async def test_a_producer_that_died_is_taken_over_after_its_lease(setup: Setup) -> None:
    setup.schedule("daily", "day")
    setup.clock.current = JAN1 + DAY_MS + SETTLED
    maker = CountingMaker(setup.db, setup.plants)
    dead = setup.reports.open_report(
        schedule="daily",
        scope=maker.scope_of(setup.park),
        period=Period(kind=PeriodKind.DAY, zone="Asia/Shanghai", start=JAN1, end=JAN1 + DAY_MS),
        formats=[ReportFormat.CSV],
        recipients=[],
        channel=None,
        actor="scheduler",
        owner="a-process-that-died",
        now=setup.clock.now(),
    )
    assert dead is not None
    survivor = setup.scheduler()
    assert await survivor.run_once() == [], "the claim is young: its producer may be alive"
    setup.clock.advance(survivor.lease_ms + 1)
    assert await survivor.run_once() == [dead]
    [report] = setup.produced("daily")[:1]
    assert report.id == dead and report.status is ReportStatus.READY
    assert report.attempts == 2


@dataclass
class SmtpServer:
    port: int
    mails: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller

    state = SmtpServer(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
            mail = message_from_bytes(envelope.original_content, policy=policy.default)
            assert isinstance(mail, EmailMessage)
            state.mails.append(mail)
            state.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=state.port)
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


def _email_channel(db: Database, port: int) -> None:
    entry = parse_channel(
        {
            "name": "mail",
            "kind": "email",
            "config": {
                "host": "127.0.0.1",
                "port": port,
                "tls": "none",
                "sender": "hazwatch <hazwatch@park.example.cn>",
                "timeout_s": 5,
            },
        }
    )
    ChannelRepository(db).put(entry, actor="admin", now=0)


async def test_a_report_is_mailed_with_its_files_attached(
    setup: Setup, smtp_server: SmtpServer
) -> None:
    recipients = ["anquan@park.example.cn", "jianguan@region.example.cn"]
    setup.schedule("daily", "day", formats=["pdf", "xlsx"], recipients=recipients)
    setup.clock.current = JAN1 + DAY_MS + SETTLED
    scheduler = setup.scheduler(mail=True)

    # no e-mail channel yet: the report is made, its delivery waits
    await scheduler.run_once()
    [report] = setup.produced("daily")
    assert report.status is ReportStatus.READY
    assert report.delivery is DeliveryStatus.PENDING and report.delivery_attempts == 1
    assert "no enabled e-mail channel" in report.delivery_error
    assert smtp_server.mails == []

    _email_channel(setup.db, smtp_server.port)
    await scheduler.run_once()
    [report] = setup.produced("daily")
    assert report.delivery is DeliveryStatus.SENT and report.delivered_at == setup.clock.now()
    [mail] = smtp_server.mails
    assert smtp_server.envelopes == [("hazwatch@park.example.cn", recipients)]
    assert mail["Message-ID"] == f"<report-{report.id}@hazwatch>"
    assert "Park P" in str(mail["Subject"]) and "2027-01-01" in str(mail["Subject"])
    attached = {part.get_filename(): part for part in mail.iter_attachments()}
    assert set(attached) == {"hazwatch-r.p-2027-01-01.pdf", "hazwatch-r.p-2027-01-01.xlsx"}
    pdf = attached["hazwatch-r.p-2027-01-01.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content().startswith(b"%PDF-")
    xlsx = attached["hazwatch-r.p-2027-01-01.xlsx"].get_content()
    assert "summary" in load_workbook(io.BytesIO(xlsx)).sheetnames
    assert xlsx == setup.reports.file(report.id, ReportFormat.XLSX).data  # type: ignore[union-attr]

    await scheduler.run_once()
    assert len(smtp_server.mails) == 1, "a delivered report is not mailed again"
