"""Playbooks at work: alarms start runs, runs notify people, silence escalates.

``RespondStage`` belongs to the engine's worker thread, like the alarm and warning books.
An alarm becoming active, or a warning raised or escalated, starts every playbook in force
whose trigger it meets (``respond.trigger``); its acknowledgement ends the runs'
``wait_ack`` steps; the engine's tick times them out. Every change of a run is journaled
(``PlaybookRepository``) *before* its order is carried out, and runs still going are
resumed at start by replaying their journals — an order carried out again keeps its key,
so nothing is sent twice.

What each step does is ``runtime.orders``' business: a ``notify`` (and the warning of a
``park_linkage``) waits until the outbox reports its notice settled (``reported``);
``wait_ack`` waits for the acknowledgement or the tick; the others end at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from hazwatch.alarms.book import AlarmChange
from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState
from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.domain.tag import ConditionKind, Tag
from hazwatch.domain.warning import WarningInput
from hazwatch.respond import run as runs
from hazwatch.respond.directory import Chain, chain_of
from hazwatch.respond.notify.message import SourceKind
from hazwatch.respond.playbook import (
    Close,
    Level,
    Notify,
    ParkLinkage,
    Playbook,
    StepOutcome,
    SuggestResources,
    WaitAck,
)
from hazwatch.respond.run import Change, Order, Run, RunStatus
from hazwatch.respond.trigger import Occurrence, started_by
from hazwatch.runtime.orders import About, Orders, Outcome
from hazwatch.runtime.warnings import WarningEvent
from hazwatch.storage.playbook_repository import PlaybookRepository
from hazwatch.storage.warning_repository import StoredWarning

RELOAD_MS = 30_000
"""How often the playbooks in force are read again (uploads take effect within it)."""

WarningLookup = Callable[[str], StoredWarning | None]


class RespondStage:
    def __init__(
        self,
        *,
        playbooks: PlaybookRepository,
        orders: Orders,
        nodes: Sequence[ScopeNode],
        warning_of: WarningLookup = lambda warning_id: None,
    ) -> None:
        self._repository = playbooks
        self.orders = orders
        self._warning_of = warning_of
        self._nodes = {n.id: n for n in nodes}
        self._books: dict[tuple[str, int], Playbook] = {}
        self._in_force: list[Playbook] = []
        self._runs: dict[str, Run] = {}
        self._about: dict[str, About] = {}
        self._loaded_at: Millis = 0
        self.reload()

    def reload(self, now: Millis = 0) -> None:
        """Take the playbooks in force now (a new version applies to runs started after)."""
        self._loaded_at = now
        newest = [s.playbook for s in self._repository.in_force()]
        for book in newest:
            self._books[(book.name, book.version)] = book
        self._in_force = [book for book in newest if book.enabled]

    def resume(self, tags: Mapping[int, Tag], now: Millis) -> None:
        """Pick up the runs a previous process left going: carry out their current order."""
        for stored in self._repository.running():
            book = self._book(stored.playbook, stored.version)
            if book is None:
                continue
            run = runs.replay(self._repository.journal(stored.id), book)
            self._runs[run.id] = run
            self.orders.resume(run.id)
            self._resume_about(run, tags)
            order = runs.pending(book, run)
            if order is not None:
                self._carry_out(book, order, now)

    def in_force(self) -> list[Playbook]:
        """The playbooks that start runs now."""
        return list(self._in_force)

    def running(self) -> list[Run]:
        return [r for r in self._runs.values() if r.status is RunStatus.RUNNING]

    def alarms(self, changes: Sequence[AlarmChange], tags: Mapping[int, Tag]) -> None:
        """Start runs for alarms that became active; acknowledge runs of acknowledged ones
        (each at the instant of its transition)."""
        for change in changes:
            t = change.transition
            now = t.at
            tag = tags.get(t.tag_id)
            if tag is None:
                continue
            if t.input is AlarmInput.ACTIVATE and t.from_state is AlarmState.NORMAL:
                self._start(change, tag, now)
            elif t.input is AlarmInput.ACKNOWLEDGE:
                prefix = f"{t.tag_id}.{t.condition}@"
                self._acknowledge(prefix, t.actor, now)

    def _acknowledge(self, prefix: str, actor: str, now: Millis) -> None:
        """Acknowledge the running runs whose occurrence starts with ``prefix``."""
        for run in self.running():
            if run.occurrence.startswith(prefix):
                book = self._book(run.playbook, run.version)
                if book is not None:
                    self._apply(book, runs.acknowledge(book, run, actor=actor, now=now), now)

    def warnings(self, events: Sequence[WarningEvent]) -> None:
        """Start runs for warnings raised or escalated (a trigger's ``min_colour`` may be met
        only after an escalation); acknowledge the runs of acknowledged warnings."""
        for event in events:
            t, warning = event.transition, event.stored.warning
            # The scope path travels in the run's occurrence, so a resumed run finds its posts.
            identity = f"w:{warning.id}@{event.stored.scope_path}"
            if t.input in (WarningInput.RAISE, WarningInput.ESCALATE):
                key = warning.key
                about = self._warning_about(event.stored)
                occurrence = Occurrence(
                    kind="warning",
                    key=key.subject or key.installation,
                    installation=key.installation,
                    park=about.chain.get(Level.PARK, ""),
                    colour=warning.colour,
                    detector=key.detector,
                )
                self._start_runs(occurrence, identity, about, t.at)
            elif t.input is WarningInput.ACKNOWLEDGE:
                self._acknowledge(f"w:{warning.id}@", t.actor, t.at)

    def tick(self, now: Millis) -> None:
        """Time out waits; take newly uploaded playbooks every ``RELOAD_MS``."""
        if now - self._loaded_at >= RELOAD_MS:
            self.reload(now)
        for run in self.running():
            book = self._book(run.playbook, run.version)
            if book is not None:
                self._apply(book, runs.tick(book, run, now=now), now)

    def reported(self, key: str, outcome: StepOutcome, detail: str, now: Millis) -> None:
        """The outbox settled the notify order ``key``: end its step (if still current)."""
        run_id = key.split(":", 1)[0]
        run = self._runs.get(run_id)
        if run is None or run.status is not RunStatus.RUNNING:
            return
        book = self._book(run.playbook, run.version)
        if book is None:
            return
        order = runs.pending(book, run)
        if order is None or order.key != key:
            return  # a late report of an order that has since moved on
        detail = self.orders.settled(key, detail)
        self._apply(
            book, runs.finish_step(book, run, order.step.id, outcome, now=now, detail=detail), now
        )

    def _start(self, change: AlarmChange, tag: Tag, now: Millis) -> None:
        alarm = change.alarm
        about = self._alarm_about(tag, alarm.condition, alarm)
        occurrence = Occurrence(
            kind="alarm",
            key=tag.key,
            installation=about.chain.get(Level.INSTALLATION, ""),
            park=about.chain.get(Level.PARK, ""),
            condition=alarm.condition,
            priority=alarm.priority,
        )
        identity = f"{alarm.tag_id}.{alarm.condition}@{change.transition.at}"
        self._start_runs(occurrence, identity, about, now)

    def _start_runs(self, occurrence: Occurrence, identity: str, about: About, now: Millis) -> None:
        for book in started_by(self._in_force, occurrence):
            started = runs.start(book, identity, now=now)
            if started.run.id in self._runs:
                continue  # a replayed activation
            self._about[started.run.id] = about
            self._apply(book, started, now)

    def _apply(self, book: Playbook, change: Change, now: Millis) -> None:
        """Journal the change, then carry out its order; repeat while steps end at once."""
        while True:
            if not change.entries:
                return
            self._repository.record(change.run, change.entries)
            self._runs[change.run.id] = change.run
            about = self._about.get(change.run.id)
            self.orders.record(book, change.run.id, change.entries, about.title if about else "")
            if change.order is None:
                return
            outcome, detail = self._execute(book, change.order, now)
            if outcome is None:
                return
            change = runs.finish_step(
                book, change.run, change.order.step.id, outcome, now=now, detail=detail
            )

    def _carry_out(self, book: Playbook, order: Order, now: Millis) -> None:
        outcome, detail = self._execute(book, order, now)
        if outcome is not None:
            run = self._runs[order.run_id]
            ended = runs.finish_step(book, run, order.step.id, outcome, now=now, detail=detail)
            self._apply(book, ended, now)

    def _execute(self, book: Playbook, order: Order, now: Millis) -> Outcome:
        """Carry out an order; its outcome, or None while the step waits."""
        step = order.step
        if isinstance(step, WaitAck):
            return None, ""
        if isinstance(step, Close):
            return self.orders.close(step, order)
        about = self._about.get(order.run_id)
        if about is None:
            return StepOutcome.FAILED, "what the run is about is no longer known"
        if isinstance(step, Notify):
            return self.orders.notify(book, step, order, about, now)
        if isinstance(step, ParkLinkage):
            return self.orders.park_linkage(book, step, order, about, now)
        if isinstance(step, SuggestResources):
            return self.orders.suggest_resources(step, about)
        journal = self._repository.journal(order.run_id)
        return self.orders.open_incident(book, step, order, about, journal, now)

    def _alarm_about(self, tag: Tag, condition: ConditionKind, alarm: Alarm | None) -> About:
        """An alarm's run: its priority and value from the alarm book, or — when the book
        lost it (the tag was removed and re-added) — from what the plant says."""
        if alarm is not None:
            level = alarm.priority
            value = "" if alarm.value is None else f" {alarm.value:.3g} {tag.unit}".rstrip()
        else:
            limit = tag.limit(condition)
            level = limit.priority if limit is not None else tag.offline_priority
            value = ""
        return About(
            source=SourceKind.ALARM,
            level=level,
            scope=tag.key,
            scope_path=tag.scope_path,
            title=f"{tag.name} {condition}{value}",
            chain=self._chain_of(tag.scope_path),
            ref=f"{tag.id}.{condition}",
            alarm=(tag.id, condition),
        )

    def _warning_about(self, stored: StoredWarning) -> About:
        warning, key = stored.warning, stored.warning.key
        return About(
            source=SourceKind.WARNING,
            level=warning.colour,
            scope=key.subject or key.installation,
            scope_path=stored.scope_path,
            title=warning.explanation.text or f"{key.detector} warning",
            chain=self._chain_of(stored.scope_path),
            ref=warning.id,
        )

    def _resume_about(self, run: Run, tags: Mapping[int, Tag]) -> None:
        """What a resumed run is about: an alarm's from its tag and the alarm book, a
        warning's from the stored warning."""
        occurrence = run.occurrence
        if occurrence.startswith("w:"):
            stored = self._warning_of(occurrence[2:].partition("@")[0])
            if stored is not None:
                self._about[run.id] = self._warning_about(stored)
            return
        tag_id, _, condition = occurrence.partition("@")[0].partition(".")
        tag = tags.get(int(tag_id)) if tag_id.isdigit() else None
        if tag is not None and condition in set(ConditionKind):
            kind = ConditionKind(condition)
            self._about[run.id] = self._alarm_about(tag, kind, self.orders.alarm_of(tag.id, kind))

    def _book(self, name: str, version: int) -> Playbook | None:
        book = self._books.get((name, version))
        if book is None:
            stored = self._repository.get(name, version)
            if stored is not None:
                book = self._books[(name, version)] = stored.playbook
        return book

    def _chain_of(self, scope_path: str) -> Chain:
        """Region and park keys as they are; from the enterprise down, node keys are
        segments, joined into the dotted keys (``chlor.main.cl2``) posts are held at."""
        keys: dict[str, str] = {}
        dotted: list[str] = []
        for part in scope_path.strip("/").split("/"):
            node = self._nodes.get(int(part)) if part.isdigit() else None
            if node is None:
                continue
            if node.kind in (ScopeKind.REGION, ScopeKind.PARK):
                keys[node.kind.value] = node.key
            else:
                dotted.append(node.key)
                keys[node.kind.value] = ".".join(dotted)
        return chain_of(keys)
