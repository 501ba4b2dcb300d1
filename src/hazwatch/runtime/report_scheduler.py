"""The report scheduler: makes every scheduled report whose period is over, once, and mails
it; and finishes on-demand reports the same way.

``run()`` is an asyncio task (started with the API): at start and then every ``every_s``
seconds it makes one pass (``run_once``):

1. For each enabled schedule, every period that is over — its end at least ``settle_ms``
   before now on the platform clock (plant time), so the last minute's rollups are
   written — and that has no report row yet gets one, claimed by this scheduler (the
   unique ``(schedule, period_start, period_end)`` lets only one producer have it), then is
   produced and mailed. Periods are taken from the schedule's first (``since``) on, oldest
   first, so a restart after downtime makes every period it missed and none twice.
2. Rows with work left — a production nobody finished (a claim older than ``lease_ms``:
   its producer died), a scheduled production that failed fewer than ``max_attempts``
   times, a delivery still pending — are claimed and finished.

Production (database reads, PDF layout) runs in a worker thread (``asyncio.to_thread``); a
failing pass is logged and the next one runs as usual. The lease is measured on the
platform clock: a simulation run faster than the wall clock shortens it, which can only
make a second producer repeat work whose result it then cannot store (every write checks
the claim) — never a second report.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence

from hazwatch.domain.clock import MINUTE_MS, Millis
from hazwatch.domain.scope import ScopeNode
from hazwatch.evaluate.report import ReportFormat
from hazwatch.evaluate.report_period import Period
from hazwatch.evaluate.report_schedule import due_periods
from hazwatch.respond.notify.channel import ChannelError
from hazwatch.runtime.clock import Clock
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.report_mail import ReportMailer
from hazwatch.runtime.report_production import RecordedRisk, ReportMaker
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.report_repository import (
    DeliveryStatus,
    ReportRepository,
    ReportStatus,
    StoredReport,
)
from hazwatch.storage.risk_repository import RiskRepository

log = logging.getLogger(__name__)

EVERY_S = 60.0
SETTLE_MS: Millis = 2 * MINUTE_MS
LEASE_MS: Millis = 15 * MINUTE_MS
MAX_ATTEMPTS = 5
SCHEDULER = "scheduler"
"""Who ``created_by`` names for a scheduled report."""


class ReportScheduler:
    def __init__(
        self,
        *,
        reports: ReportRepository,
        plants: PlantRepository,
        maker: ReportMaker,
        mailer: ReportMailer | None,
        clock: Clock,
        every_s: float = EVERY_S,
        settle_ms: Millis = SETTLE_MS,
        lease_ms: Millis = LEASE_MS,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._reports, self._plants, self._maker = reports, plants, maker
        self._mailer, self._clock = mailer, clock
        self.every_s, self.settle_ms, self.lease_ms = every_s, settle_ms, lease_ms
        self.max_attempts = max_attempts
        self.owner = uuid.uuid4().hex
        """This scheduler's claim token."""

    @classmethod
    def for_platform(cls, platform: Platform, *, every_s: float = EVERY_S) -> ReportScheduler:
        """A scheduler on ``platform``'s database and clock, mailing through its channels."""
        plants = platform.plants
        return cls(
            reports=ReportRepository(platform.db),
            plants=plants,
            maker=ReportMaker(
                db=platform.db,
                plants=plants,
                risk=RecordedRisk(risk=RiskRepository(platform.db), plants=plants),
            ),
            mailer=ReportMailer(channels=ChannelRepository(platform.db)),
            clock=platform.clock,
            every_s=every_s,
        )

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("a report pass failed")
            await asyncio.sleep(self.every_s)

    async def run_once(self) -> list[int]:
        """One pass (see the module docstring); the ids of the reports worked on."""
        now = self._clock.now()
        worked: list[int] = []
        for stored in await asyncio.to_thread(self._reports.schedules):
            schedule = stored.schedule
            if not schedule.enabled:
                continue
            due = due_periods(schedule, now - self.settle_ms)
            if not due:
                continue
            done = await asyncio.to_thread(self._reports.produced_periods, schedule.name)
            for period in due:
                if (period.start, period.end) in done:
                    continue
                node = await asyncio.to_thread(self._plants.node, schedule.scope_id)
                if node is None:
                    break  # the node is gone; its schedule goes with it
                opened = await asyncio.to_thread(
                    self._open,
                    schedule=schedule.name,
                    node=node,
                    period=period,
                    formats=schedule.formats,
                    recipients=schedule.recipients,
                    channel=schedule.channel,
                    actor=SCHEDULER,
                )
                if opened is not None:
                    await self.complete(opened)
                    worked.append(opened)
        stale_before = self._clock.now() - self.lease_ms
        left = await asyncio.to_thread(
            self._reports.unfinished, stale_before=stale_before, max_attempts=self.max_attempts
        )
        for report_id in left:
            if report_id in worked:
                continue  # tried in this pass already: the next pass tries again
            taken = await asyncio.to_thread(
                self._reports.claim,
                report_id,
                owner=self.owner,
                now=self._clock.now(),
                stale_before=stale_before,
            )
            if taken:
                await self.complete(report_id)
                worked.append(report_id)
        return worked

    async def request(
        self,
        *,
        node: ScopeNode,
        period: Period,
        formats: Sequence[ReportFormat],
        recipients: Sequence[str] = (),
        channel: str | None = None,
        actor: str,
    ) -> StoredReport:
        """Make a report on demand now (and mail it when it has recipients)."""
        opened = await asyncio.to_thread(
            self._open,
            schedule=None,
            node=node,
            period=period,
            formats=formats,
            recipients=recipients,
            channel=channel,
            actor=actor,
        )
        if opened is None:  # pragma: no cover - only a scheduled period can collide
            raise RuntimeError("an on-demand report could not be opened")
        stored = await self.complete(opened)
        if stored is None:  # pragma: no cover - the row was opened just now
            raise RuntimeError(f"report {opened} vanished")
        return stored

    async def complete(self, report_id: int) -> StoredReport | None:
        """Finish the work on a report this scheduler holds the claim of: produce it unless
        it is ready, mail it when its delivery is pending; then release the claim. The
        report as stored afterwards."""
        try:
            stored = await asyncio.to_thread(self._reports.get, report_id)
            if stored is None:
                return None
            if stored.status is not ReportStatus.READY and not await self._produce(stored):
                return await asyncio.to_thread(self._reports.get, report_id)
            if stored.delivery is DeliveryStatus.PENDING and self._mailer is not None:
                await self._deliver(report_id)
        finally:
            await asyncio.to_thread(self._reports.release, report_id, owner=self.owner)
        return await asyncio.to_thread(self._reports.get, report_id)

    def _open(
        self,
        *,
        schedule: str | None,
        node: ScopeNode,
        period: Period,
        formats: Sequence[ReportFormat],
        recipients: Sequence[str],
        channel: str | None,
        actor: str,
    ) -> int | None:
        return self._reports.open_report(
            schedule=schedule,
            scope=self._maker.scope_of(node),
            period=period,
            formats=formats,
            recipients=recipients,
            channel=channel,
            actor=actor,
            owner=self.owner,
            now=self._clock.now(),
        )

    async def _produce(self, stored: StoredReport) -> bool:
        """Make the files and store them; False when production failed or the claim was
        lost."""
        try:
            node = await asyncio.to_thread(self._plants.node, stored.scope.id)
            if node is None:
                raise LookupError(f"scope node {stored.scope.id} no longer exists")
            _, files = await asyncio.to_thread(
                self._maker.make, node, stored.period, stored.formats, now=self._clock.now()
            )
        except Exception as exc:
            log.exception("report %d could not be made", stored.id)
            await asyncio.to_thread(
                self._reports.fail,
                stored.id,
                owner=self.owner,
                error=f"{type(exc).__name__}: {exc}",
                now=self._clock.now(),
            )
            return False
        return await asyncio.to_thread(
            self._reports.finish, stored.id, owner=self.owner, files=files, now=self._clock.now()
        )

    async def _deliver(self, report_id: int) -> None:
        if self._mailer is None:
            return
        stored = await asyncio.to_thread(self._reports.get, report_id)
        if stored is None or stored.delivery is not DeliveryStatus.PENDING:
            return
        files = await asyncio.to_thread(self._reports.files, report_id)
        outcome, error = DeliveryStatus.SENT, ""
        try:
            await self._mailer.send(stored, files)
        except ChannelError as exc:
            last = stored.delivery_attempts + 1 >= self.max_attempts
            outcome = (
                DeliveryStatus.PENDING if exc.retryable and not last else DeliveryStatus.FAILED
            )
            error = exc.detail
            log.warning("report %d was not mailed: %s", report_id, error)
        await asyncio.to_thread(
            self._reports.delivered,
            report_id,
            owner=self.owner,
            outcome=outcome,
            error=error,
            now=self._clock.now(),
        )
