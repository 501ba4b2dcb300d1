"""The hot path in one place: validate → store → detect → alarms → warn, one batch at a time.

The warn stage (``warn_stage.WarnStage``) runs where the pipeline is given one: early
warning by time to limit and by the installations' trained process models. The respond
stage (``respond_stage.RespondStage``) starts and moves playbook runs as alarms change.

``Pipeline`` is synchronous and single-threaded: the engine calls it from its one worker
thread, benchmarks call it directly. Python objects are made only for refused readings and
for conditions that change; everything else stays in numpy columns.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from hazwatch.alarms.book import AlarmBook, AlarmChange
from hazwatch.alarms.cause import describe
from hazwatch.detect.detector import ConditionDetector
from hazwatch.detect.link import LinkWatch
from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import DAY_MS, Millis
from hazwatch.domain.link import Health
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.tag import LINK_KINDS, ConditionKind, Priority, Tag
from hazwatch.domain.tagtable import TagTable
from hazwatch.ingest.validation import REASON_CODES, Admission, validate
from hazwatch.runtime.metrics import Metrics
from hazwatch.runtime.respond_stage import RespondStage
from hazwatch.runtime.warn_stage import WarnStage
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.readings.store import ReadingStore

MAX_REPORTED = 20


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedReading:
    tag: str
    ts: Millis
    reason: RejectReason


@dataclass(frozen=True, slots=True, kw_only=True)
class IngestReport:
    """What became of one submitted batch."""

    accepted: int
    rejected: dict[RejectReason, int] = field(default_factory=dict)
    examples: tuple[RejectedReading, ...] = ()

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


AlarmListener = Callable[[Sequence[AlarmChange]], None]


class LatestValues:
    """The newest reading of every tag, as numpy columns indexed by tag id."""

    def __init__(self, size: int) -> None:
        self.ts = np.full(size, -1, dtype=np.int64)
        self.value = np.full(size, np.nan, dtype=np.float64)
        self.quality = np.zeros(size, dtype=np.uint8)

    def resize(self, size: int) -> None:
        if size <= len(self.ts):
            return
        grow = size - len(self.ts)
        self.ts = np.concatenate([self.ts, np.full(grow, -1, dtype=np.int64)])
        self.value = np.concatenate([self.value, np.full(grow, np.nan)])
        self.quality = np.concatenate([self.quality, np.zeros(grow, dtype=np.uint8)])

    def update(self, batch: Batch) -> None:
        if not len(batch):
            return
        order = np.argsort(batch.ts, kind="stable")
        tags, ts = batch.tag[order], batch.ts[order]
        newer = ts > self.ts[tags]
        # With repeated tags, numpy keeps the last assignment: the newest, after the sort.
        tags, order = tags[newer], order[newer]
        self.ts[tags] = batch.ts[order]
        self.value[tags] = batch.value[order]
        self.quality[tags] = batch.quality[order]

    def of(
        self, tag_ids: npt.NDArray[np.int32]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.uint8]]:
        return self.ts[tag_ids].copy(), self.value[tag_ids].copy(), self.quality[tag_ids].copy()


class Pipeline:
    def __init__(
        self,
        *,
        tags: Sequence[Tag],
        store: ReadingStore,
        alarms: AlarmRepository,
        dead_letters: DeadLetterRepository,
        admission: Admission,
        metrics: Metrics,
        now: Millis,
        rollup_retention_ms: Millis,
        max_shelve_ms: Millis = DAY_MS,
        link_delay_ms: Millis = 10_000,
        warn: WarnStage | None = None,
        respond: RespondStage | None = None,
    ) -> None:
        self._store = store
        self._alarm_repo = alarms
        self._dead_letters = dead_letters
        self._admission = admission
        self._raw_retention_ms = admission.retention_ms
        self._rollup_retention_ms = rollup_retention_ms
        self._metrics = metrics
        self.alarm_listeners: list[AlarmListener] = []
        self.tick_listeners: list[Callable[[Millis], None]] = []
        self.tags = {t.id: t for t in tags}
        self.tags_by_key = {t.key: t for t in tags}
        self.table = TagTable.build(tags)
        self.latest = LatestValues(len(self.table.known))
        self.detector = ConditionDetector(self.table, now=now)
        self.book = AlarmBook(
            alarms.load_all(),
            self._priority,
            describe=lambda event: describe(event, self.table),
            max_shelve_ms=max_shelve_ms,
        )
        self.detector.restore((a.tag_id, a.condition) for a in self.book.all() if a.active)
        self.links = LinkWatch(link_delay_ms)
        self.links.restore(
            (a.tag_id, a.condition)
            for a in self.book.all()
            if a.active and a.condition in LINK_KINDS
        )
        self._count_not_normal()
        self.warn = warn
        if warn is not None:
            warn.start(self.tags_by_key, now)
        self.respond = respond
        if respond is not None:
            respond.orders.alarm_of = self.book.get
            respond.resume(self.tags, now)

    def retable(self, tags: Sequence[Tag], *, now: Millis) -> None:
        """Take a new set of tags (after a plant import); state of surviving tags is kept."""
        self.tags = {t.id: t for t in tags}
        self.tags_by_key = {t.key: t for t in tags}
        self.table = TagTable.build(tags)
        gone = self.detector.retable(self.table, now=now)
        self.latest.resize(len(self.table.known))
        if self.warn is not None:
            self.warn.retable(self.tags_by_key, now)
        self._record(self.book.apply(gone, now) if gone else [])

    def latest_of(self, key: str) -> tuple[Millis, float] | None:
        """The newest reading (instant, value) of the tag ``key``; None before the first."""
        tag = self.tags_by_key.get(key)
        if tag is None or tag.id >= len(self.latest.ts) or self.latest.ts[tag.id] < 0:
            return None
        return int(self.latest.ts[tag.id]), float(self.latest.value[tag.id])

    def _priority(self, tag_id: int, condition: ConditionKind) -> Priority:
        return self.table.priority(tag_id, condition)

    def process(
        self,
        batch: Batch,
        *,
        source: str,
        now: Millis,
        scope_path: str = "/",
        enqueued: float | None = None,
    ) -> IngestReport:
        """Run one batch through every stage; refused readings become dead letters.

        ``enqueued`` is the ``time.perf_counter()`` at which the batch arrived, for the lag
        metric (default: now).
        """
        t0 = time.perf_counter()
        arrived = t0 if enqueued is None else enqueued
        verdict = validate(batch, self.table, now, self._admission)
        t1 = self._stage("validate", t0, arrived)
        duplicates = self._store.write(verdict.valid)
        stored = verdict.valid.select(~duplicates) if duplicates.any() else verdict.valid
        t2 = self._stage("store", t1, arrived)
        events = self.detector.evaluate(stored)
        t3 = self._stage("detect", t2, arrived)
        changes = self.book.apply(events, now) if events else []
        self._record(changes)
        t4 = self._stage("alarms", t3, arrived)
        # The monitors sample the latest values, so they include this batch's.
        self.latest.update(stored)
        if self.warn is not None:
            self.warn.process(
                stored,
                self.latest.ts,
                self.latest.value,
                table=self.table,
                tags=self.tags,
                now=now,
            )
            self._stage("warn", t4, arrived)

        rejected = verdict.rejected
        reasons = [REASON_CODES[c - 1] for c in verdict.reasons.tolist()]
        if duplicates.any():
            dup = verdict.valid.select(duplicates)
            rejected = Batch.concat([rejected, dup])
            reasons += [RejectReason.DUPLICATE] * len(dup)
        report = self._reject(rejected, reasons, source=source, now=now, scope_path=scope_path)
        accepted = len(stored)
        self._metrics.readings.labels(source=source).inc(accepted)
        return IngestReport(accepted=accepted, rejected=report[0], examples=report[1])

    def tick(self, now: Millis) -> list[AlarmChange]:
        """Let time pass: delays complete, silent tags and lost links go offline, shelves
        expire, unanswered warnings escalate."""
        events = self.detector.tick(now) + self.links.tick(now)
        changes = self.book.apply(events, now) + self.book.tick(now)
        self._record(changes)
        if self.warn is not None:
            self.warn.tick(self.tags_by_key, now)
        if self.respond is not None:
            self.respond.tick(now)
        for listener in self.tick_listeners:
            listener(now)
        return changes

    def report_link(
        self, tag_id: int, health: Health, detail: str, *, now: Millis
    ) -> list[AlarmChange]:
        """A link's connector reported its health: record it on the link's status tag (a
        reading of ``health.code``) and raise or clear its link conditions."""
        if tag_id not in self.tags:
            return []
        ts = max(now, int(self.latest.ts[tag_id]) + 1)  # two reports in one ms are both kept
        reading = Batch.of(tag=[tag_id], ts=[ts], value=[health.code], received=now)
        self.process(reading, source="link", now=now)
        changes = self.book.apply(self.links.report(tag_id, health, detail, now), now)
        self._record(changes)
        return changes

    def command(
        self,
        tag_id: int,
        condition: ConditionKind,
        command: AlarmInput,
        *,
        actor: str,
        comment: str,
        now: Millis,
        shelve_until: Millis | None = None,
    ) -> Alarm:
        """An operator's command on one alarm; raises ``AlarmCommandError`` if not allowed."""
        change = self.book.command(
            tag_id,
            condition,
            command,
            actor=actor,
            comment=comment,
            now=now,
            shelve_until=shelve_until,
        )
        self._record([change])
        return change.alarm

    def refuse(self, letters: Sequence[DeadLetter]) -> None:
        """Keep payloads refused before they became a batch (bad JSON, oversized…).

        Touches no pipeline state, so any thread may call it."""
        if letters:
            self._dead_letters.add(letters)
            for letter in letters:
                self._metrics.rejected.labels(reason=letter.reason.value).inc()

    def flush(self) -> None:
        self._store.flush()

    def purge(self, now: Millis) -> None:
        """Apply retention: raw readings and rollups older than their settings go."""
        self._store.purge_raw(now - self._raw_retention_ms)
        self._store.purge_rollups(now - self._rollup_retention_ms)

    def _record(self, changes: Sequence[AlarmChange]) -> None:
        if not changes:
            return
        self._alarm_repo.save([c.alarm for c in changes], [c.transition for c in changes])
        for change in changes:
            self._metrics.alarm_transitions.labels(state=change.alarm.state.value).inc()
        self._count_not_normal()
        if self.respond is not None:
            self.respond.alarms(changes, self.tags)
        for listener in self.alarm_listeners:
            listener(changes)

    def _count_not_normal(self) -> None:
        self._metrics.active_alarms.set(
            sum(1 for a in self.book.all() if a.state is not AlarmState.NORMAL)
        )

    def _reject(
        self,
        rejected: Batch,
        reasons: list[RejectReason],
        *,
        source: str,
        now: Millis,
        scope_path: str,
    ) -> tuple[dict[RejectReason, int], tuple[RejectedReading, ...]]:
        if not len(rejected):
            return {}, ()
        letters = []
        counts: dict[RejectReason, int] = {}
        for tag_id, ts, value, reason in zip(
            rejected.tag.tolist(),
            rejected.ts.tolist(),
            rejected.value.tolist(),
            reasons,
            strict=True,
        ):
            tag = self.tags.get(tag_id)
            counts[reason] = counts.get(reason, 0) + 1
            letters.append(
                DeadLetter(
                    received=now,
                    source=source,
                    reason=reason,
                    scope_path=tag.scope_path if tag else scope_path,
                    tag_key=tag.key if tag else f"#{tag_id}",
                    ts=ts,
                    value=value,
                )
            )
        self._dead_letters.add(letters)
        for reason, n in counts.items():
            self._metrics.rejected.labels(reason=reason.value).inc(n)
        examples = tuple(
            RejectedReading(tag=d.tag_key or "", ts=d.ts or 0, reason=d.reason)
            for d in letters[:MAX_REPORTED]
        )
        return counts, examples

    def _stage(self, name: str, started: float, arrived: float) -> float:
        ended = time.perf_counter()
        self._metrics.stage_seconds.labels(stage=name).observe(ended - started)
        self._metrics.stage_lag.labels(stage=name).set(ended - arrived)
        return ended
