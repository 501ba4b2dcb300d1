"""Playbooks at work: alarms start runs, runs notify people, silence escalates.

``RespondStage`` belongs to the engine's worker thread, like the alarm and warning books.
An alarm becoming active, or a warning raised or escalated, starts every playbook in force
whose trigger it meets (``respond.trigger``); its acknowledgement ends the runs'
``wait_ack`` steps; the
engine's tick times them out. Every change of a run is journaled (``PlaybookRepository``)
*before* its order is carried out, and runs still going are resumed at start by replaying
their journals — an order carried out again keeps its key, so nothing is sent twice.

Orders carried out here, synchronously:

* ``notify``: the step's recipients resolved to people (``respond.directory``, the chain of
  scope keys above the alarm's tag) each get an in-app notification keyed by the order
  and the person; ``done`` when someone was told, ``failed`` (with who was not) otherwise.
  External channels (webhook, e-mail, …) are not wired to runs yet.
* ``wait_ack``: nothing; acknowledgement or the tick ends it.
* ``open_incident``, ``park_linkage``, ``suggest_resources``: not carried out yet; they end
  ``skipped`` with that said in the journal, and the run goes on.
* ``close``: ``done``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hazwatch.alarms.book import AlarmChange
from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.clock import Millis
from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.domain.tag import Tag
from hazwatch.domain.warning import WarningInput
from hazwatch.respond import run as runs
from hazwatch.respond.directory import Chain, chain_of, resolve
from hazwatch.respond.notify.channels.inapp import Inbox, InboxEntry
from hazwatch.respond.playbook import Close, Level, Notify, Playbook, StepOutcome, WaitAck
from hazwatch.respond.run import Change, Order, Run, RunStatus
from hazwatch.respond.trigger import Occurrence, started_by
from hazwatch.runtime.warnings import WarningEvent
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.playbook_repository import PlaybookRepository

RELOAD_MS = 30_000
"""How often the playbooks in force are read again (uploads take effect within it)."""


class RespondStage:
    def __init__(
        self,
        *,
        playbooks: PlaybookRepository,
        contacts: ContactRepository,
        inbox: Inbox,
        nodes: Sequence[ScopeNode],
    ) -> None:
        self._repository = playbooks
        self._contacts = contacts
        self._inbox = inbox
        self._nodes = {n.id: n for n in nodes}
        self._books: dict[tuple[str, int], Playbook] = {}
        self._in_force: list[Playbook] = []
        self._runs: dict[str, Run] = {}
        self._chains: dict[str, Chain] = {}
        self._loaded_at: Millis = 0
        self.reload()

    def reload(self, now: Millis = 0) -> None:
        """Take the playbooks in force now (a new version applies to runs started after)."""
        self._loaded_at = now
        self._in_force = [s.playbook for s in self._repository.in_force()]
        for book in self._in_force:
            self._books[(book.name, book.version)] = book

    def resume(self, tags: Mapping[int, Tag], now: Millis) -> None:
        """Pick up the runs a previous process left going: carry out their current order."""
        for stored in self._repository.running():
            book = self._book(stored.playbook, stored.version)
            if book is None:
                continue
            run = runs.replay(self._repository.journal(stored.id), book)
            self._runs[run.id] = run
            self._chains[run.id] = self._chain_of_occurrence(run.occurrence, tags)
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
                occurrence = Occurrence(
                    kind="warning",
                    key=key.subject or key.installation,
                    installation=key.installation,
                    colour=warning.colour,
                    detector=key.detector,
                )
                self._start_runs(
                    occurrence, identity, self._chain_of(event.stored.scope_path), t.at
                )
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

    def _start(self, change: AlarmChange, tag: Tag, now: Millis) -> None:
        chain = self._chain(tag)
        occurrence = Occurrence(
            kind="alarm",
            key=tag.key,
            installation=chain.get(Level.INSTALLATION, ""),
            condition=change.alarm.condition,
            priority=change.alarm.priority,
        )
        identity = f"{change.alarm.tag_id}.{change.alarm.condition}@{change.transition.at}"
        self._start_runs(occurrence, identity, chain, now)

    def _start_runs(self, occurrence: Occurrence, identity: str, chain: Chain, now: Millis) -> None:
        for book in started_by(self._in_force, occurrence):
            started = runs.start(book, identity, now=now)
            if started.run.id in self._runs:
                continue  # a replayed activation
            self._chains[started.run.id] = chain
            self._apply(book, started, now)

    def _apply(self, book: Playbook, change: Change, now: Millis) -> None:
        """Journal the change, then carry out its order; repeat while steps end at once."""
        while True:
            if not change.entries:
                return
            self._repository.record(change.run, change.entries)
            self._runs[change.run.id] = change.run
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

    def _execute(self, book: Playbook, order: Order, now: Millis) -> tuple[StepOutcome | None, str]:
        """Carry out an order; its outcome, or None while the step waits."""
        step = order.step
        if isinstance(step, WaitAck):
            return None, ""
        if isinstance(step, Close):
            return StepOutcome.DONE, ""
        if not isinstance(step, Notify):
            return StepOutcome.SKIPPED, f"{step.kind} is not carried out yet"
        chain = self._chains.get(order.run_id, {})
        found = resolve(step.to, chain, self._contacts.all())
        run = self._runs[order.run_id]
        for recipient in found.recipients:
            self._inbox.put(
                recipient.user,
                InboxEntry(
                    key=f"{order.key}:{recipient.user}",
                    title=step.message or f"{book.title or book.name}: {run.occurrence}",
                    text=f"playbook {book.name} v{book.version}, step {step.id}",
                    rank=3,
                    at=now,
                    notice_ids=(run.occurrence,),
                ),
            )
        parts = []
        if found.recipients:
            parts.append("told " + ", ".join(r.user for r in found.recipients))
        if found.unresolved:
            parts.append("nobody for " + ", ".join(found.unresolved))
        detail = "; ".join(parts)
        return (StepOutcome.DONE if found.recipients else StepOutcome.FAILED), detail

    def _book(self, name: str, version: int) -> Playbook | None:
        book = self._books.get((name, version))
        if book is None:
            stored = self._repository.get(name, version)
            if stored is not None:
                book = self._books[(name, version)] = stored.playbook
        return book

    def _chain(self, tag: Tag) -> Chain:
        return self._chain_of(tag.scope_path)

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

    def _chain_of_occurrence(self, occurrence: str, tags: Mapping[int, Tag]) -> Chain:
        """The chain of a resumed run: an alarm's from its tag, a warning's from the scope
        path its occurrence carries."""
        if occurrence.startswith("w:"):
            return self._chain_of(occurrence.partition("@")[2])
        tag_id = occurrence.split(".", 1)[0]
        tag = tags.get(int(tag_id)) if tag_id.isdigit() else None
        return self._chain(tag) if tag is not None else {}
