"""The configured connectors, run inside the platform.

``Sources`` gives every connector a ``Link`` onto the platform and runs it: its batches go
into the engine (waiting, never dropping, while the engine is busy), what it refuses
becomes dead letters, the tags its sources announce are created, and the health of the
connector and of every device behind it becomes link conditions (device offline, degraded)
on their status tags. A connector that fails in an unforeseen way is restarted; it never
takes the others down.

Stopping is graceful: each connector stops reading, and the batches it had already read are
handed to the engine before ``run`` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hazwatch.connectors.base import Connector, Link
from hazwatch.connectors.config_file import ConnectorEntry
from hazwatch.connectors.registry import build_connector
from hazwatch.domain.batch import Batch
from hazwatch.domain.link import Health, status_key
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.tag import TagDeclaration
from hazwatch.runtime.engine import EngineBusyError
from hazwatch.runtime.pipeline import IngestReport
from hazwatch.runtime.platform import Platform

log = logging.getLogger(__name__)

T = TypeVar("T")

RESTART_S = 5.0
BUSY_WAIT_S = 0.005
REFUSE_EVERY_S = 0.5


@dataclass(slots=True, kw_only=True)
class LinkStatus:
    """The last reported health of a device behind a connector."""

    key: str
    health: Health
    detail: str = ""


@dataclass(slots=True, kw_only=True)
class SourceStatus:
    """What the API shows of one connector."""

    entry: ConnectorEntry
    connector: Connector | None = None
    devices: dict[str, LinkStatus] = field(default_factory=dict)
    batches: int = 0
    readings: int = 0
    restarts: int = 0

    @property
    def health(self) -> Health:
        return self.connector.health.state if self.connector else Health.CONNECTING

    @property
    def detail(self) -> str:
        return self.connector.health.detail if self.connector else ""


class Sources:
    def __init__(self, platform: Platform, entries: Sequence[ConnectorEntry]) -> None:
        self._platform = platform
        self.status = [SourceStatus(entry=e) for e in entries]
        self._stopping = asyncio.Event()
        self._letters: list[DeadLetter] = []
        self._declaring = asyncio.Lock()
        self._background: set[asyncio.Task[None]] = set()
        self._region_path = "/"  # where refusals that name no known place go
        self.reported: dict[str, LinkStatus] = {}
        """links reported from outside (``report_device``), by equipment key"""

    async def run(self) -> None:
        """Run every connector until ``stop()``; then hand over what was read, and return."""
        region = await asyncio.to_thread(self._platform.plants.node_by_keys)
        if region is not None:
            self._region_path = region.path
        refuser = asyncio.create_task(self._refuse_periodically())
        try:
            async with asyncio.TaskGroup() as group:
                for status in self.status:
                    group.create_task(self._keep_running(status))
            await self._stopping.wait()  # without connectors too: links reported from outside
            if self._background:  # health reports still on their way
                await asyncio.gather(*self._background, return_exceptions=True)
        finally:
            refuser.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await refuser
            await self._refuse_now()

    def stop(self) -> None:
        self._stopping.set()

    def report_device(self, key: str, health: Health, detail: str = "") -> bool:
        """A link the platform does not run (a device behind an edge gateway) has this
        health: handled like a connector's device, on the link's status tag. Call it from
        the event loop; True when its health changed (only a change is recorded)."""
        before = self.reported.get(key)
        self.reported[key] = LinkStatus(key=key, health=health, detail=detail)
        if before is not None and before.health is health:
            return False
        self._spawn(self._report(key, health, detail))
        return True

    # -- one connector --------------------------------------------------------------

    async def _keep_running(self, status: SourceStatus) -> None:
        while not self._stopping.is_set():
            try:
                await self._run_one(status)
            except Exception:
                log.exception(
                    "connector %s failed; restarting in %.0f s", status.entry.name, RESTART_S
                )
                status.restarts += 1
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), RESTART_S)

    async def _run_one(self, status: SourceStatus) -> None:
        entry = status.entry
        connector = build_connector(entry.config, self._link(status))
        status.connector = connector
        watcher = asyncio.create_task(self._watch(status, connector))
        try:
            async with connector:
                pump = asyncio.create_task(self._pump(status, connector))
                stopping = asyncio.create_task(self._stopping.wait())
                await asyncio.wait({pump, stopping}, return_when=asyncio.FIRST_COMPLETED)
                stopping.cancel()
                if pump.done():
                    pump.result()  # the pump only ends by failing while the connector runs
            await pump  # the connector is closed: take over what it had read, then end
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _pump(self, status: SourceStatus, connector: Connector) -> None:
        source = f"{status.entry.kind}:{status.entry.name}"
        async for batch in connector:
            await self._submit(batch, source)
            status.batches += 1
            status.readings += len(batch)

    async def _submit(self, batch: Batch, source: str) -> None:
        engine = self._platform.engine
        while True:
            try:
                future = engine.submit(batch, source=source)
            except EngineBusyError:
                await asyncio.sleep(BUSY_WAIT_S)
                continue
            future.add_done_callback(_log_failure)
            return

    async def _watch(self, status: SourceStatus, connector: Connector) -> None:
        """Report the connector's own health on its status tag, each change once."""
        if status.entry.equipment is None:
            return
        reported: Health | None = None
        while True:
            version = connector.health.version
            state, detail = connector.health.state, connector.health.detail
            if state is not reported:
                await self._report(status.entry.equipment, state, detail)
                reported = state
            await connector.health.changed_since(version)

    # -- the link a connector gets ----------------------------------------------------

    def _link(self, status: SourceStatus) -> Link:
        clock = self._platform.clock

        def resolve(key: str) -> int | None:
            tag = self._platform.pipeline.tags_by_key.get(key)
            return None if tag is None else tag.id

        def device(key: str, health: Health, detail: str) -> None:
            status.devices[key] = LinkStatus(key=key, health=health, detail=detail)
            self._spawn(self._report(key, health, detail))

        source = f"{status.entry.kind}:{status.entry.name}"

        def refuse(letter: DeadLetter) -> None:
            """Keep a refusal under the connector's name, placed where those who look after
            it see it: at its tag if known, else at the connector's equipment, else at the
            region."""
            path = letter.scope_path
            if path == "/":
                tags = self._platform.pipeline.tags_by_key
                near = tags.get(letter.tag_key or "") or tags.get(
                    status_key(status.entry.equipment or "")
                )
                path = near.scope_path if near is not None else self._region_path
            self._letters.append(dataclasses.replace(letter, source=source, scope_path=path))

        return Link(
            resolve=resolve,
            refuse=refuse,
            device=device,
            now=clock.now,
            declare=self._declare,
        )

    async def _report(self, equipment: str, health: Health, detail: str) -> None:
        tag_id = await self._status_tag(equipment)
        if tag_id is None:
            return
        now = self._platform.clock.now()
        await _result(
            self._platform.engine.call(lambda p: p.report_link(tag_id, health, detail, now=now))
        )

    async def _status_tag(self, equipment: str) -> int | None:
        key = status_key(equipment)
        tag = self._platform.pipeline.tags_by_key.get(key)
        if tag is None:
            await self._declare(
                [
                    TagDeclaration(
                        key=key,
                        name="link status (0 online, 1 degraded, 2 offline)",
                        range_lo=0,
                        range_hi=2,
                        period_s=60,
                        offline_after_s=0,  # written on change only: silence is not offline
                    )
                ]
            )
            tag = self._platform.pipeline.tags_by_key.get(key)
        return None if tag is None else tag.id

    async def _declare(self, declarations: Sequence[TagDeclaration]) -> None:
        platform = self._platform
        async with self._declaring:
            missing = [d for d in declarations if d.key not in platform.pipeline.tags_by_key]
            if not missing:
                return
            declared = await asyncio.to_thread(platform.plants.declare, missing)
            if declared.created:
                tags = await asyncio.to_thread(platform.plants.tags)
                now = platform.clock.now()
                await _result(platform.engine.call(lambda p: p.retable(tags, now=now)))
                log.info(
                    "declared %d tags: %s", len(declared.created), ", ".join(declared.created[:5])
                )
            for key, why in declared.refused.items():
                self._letters.append(
                    DeadLetter(
                        received=platform.clock.now(),
                        source="declare",
                        reason=RejectReason.UNKNOWN_TAG,
                        detail=f"tag {key} cannot be created: {why}",
                        tag_key=key,
                    )
                )

    # -- housekeeping -----------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_task_failure)

    async def _refuse_periodically(self) -> None:
        while True:
            await asyncio.sleep(REFUSE_EVERY_S)
            await self._refuse_now()

    async def _refuse_now(self) -> None:
        if self._letters:
            letters, self._letters[:] = list(self._letters), []
            await asyncio.to_thread(self._platform.pipeline.refuse, letters)


async def _result(future: Future[T]) -> T:
    return await asyncio.wrap_future(future)


def _log_failure(future: Future[IngestReport]) -> None:
    if future.exception() is not None:
        log.error("a connector batch failed in the pipeline: %s", future.exception())


def _log_task_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("link report failed: %s", task.exception())
