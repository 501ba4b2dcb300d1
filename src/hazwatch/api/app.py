"""The FastAPI application factory.

``create_app(settings)`` builds nothing at import time: the platform (database, pipeline,
engine), the live hub and the optional simulator start in the app's lifespan and stop with
it. The built web UI, when present, is served at ``/``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path

from fastapi import APIRouter, FastAPI, HTTPException, status
from fastapi.responses import FileResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from hazwatch import __version__
from hazwatch.alarms.book import AlarmChange
from hazwatch.api.routes import (
    alarms,
    contacts,
    health,
    inbox,
    ingest,
    parks,
    playbooks,
    scope,
    session,
    stream,
    tags,
    warnings,
)
from hazwatch.api.routes import channels as channels_routes
from hazwatch.api.routes import connectors as connectors_routes
from hazwatch.api.routes import evaluation as evaluation_routes
from hazwatch.api.routes import incidents as incidents_routes
from hazwatch.api.routes import kpi as kpi_routes
from hazwatch.api.routes import links as links_routes
from hazwatch.api.routes import plans as plans_routes
from hazwatch.api.routes import reports as reports_routes
from hazwatch.api.routes import risk as risk_routes
from hazwatch.api.schemas import AlarmOut, WarningOut
from hazwatch.connectors.config_file import ConnectorEntry
from hazwatch.connectors.simulator.demo import select_incidents
from hazwatch.connectors.simulator.simulator import ParkSimulator
from hazwatch.domain.clock import iso
from hazwatch.runtime.clock import Clock, WallClock
from hazwatch.runtime.hub import Hub
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.report_scheduler import ReportScheduler
from hazwatch.runtime.simulation import run_simulator
from hazwatch.runtime.sources import Sources
from hazwatch.settings import Settings

API_PREFIX = "/api/v1"
ROUTES = (
    session,
    scope,
    tags,
    alarms,
    ingest,
    connectors_routes,
    links_routes,
    stream,
    warnings,
    playbooks,
    parks,
    contacts,
    inbox,
    kpi_routes,
    evaluation_routes,
    channels_routes,
    incidents_routes,
    plans_routes,
    risk_routes,
    reports_routes,
)
"""The API's route modules, each with a ``router``, mounted under ``API_PREFIX``."""
VALUES_EVERY_S = 1.0


def _operation_id(route: APIRoute) -> str:
    return route.name


def webui_dir() -> Path:
    return Path(str(resources.files("hazwatch"))) / "webui"


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    connectors: Sequence[ConnectorEntry] = (),
) -> FastAPI:
    """The API and UI of one platform; ``connectors`` run while the app does."""
    the_clock = clock or WallClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform = await asyncio.to_thread(Platform.open, settings, the_clock)
        hub = Hub(asyncio.get_running_loop())
        app.state.platform = platform
        app.state.hub = hub

        def publish(changes: Sequence[AlarmChange]) -> None:
            tags_by_id = platform.pipeline.tags
            hub.publish_alarms(
                [
                    (
                        t.scope_path if (t := tags_by_id.get(c.alarm.tag_id)) else "/",
                        AlarmOut.of(c.alarm, t).model_dump(mode="json"),
                    )
                    for c in changes
                ]
            )

        platform.pipeline.alarm_listeners.append(publish)
        platform.warning_book.listeners.append(
            lambda events: hub.publish_warnings(
                [
                    (e.stored.scope_path, WarningOut.of(e.stored).model_dump(mode="json"))
                    for e in events
                ]
            )
        )
        platform.engine.start()
        tasks = [
            asyncio.create_task(_sample_values(platform, hub)),
            asyncio.create_task(platform.dispatcher.run()),
            asyncio.create_task(ReportScheduler.for_platform(platform).run()),
        ]
        if settings.simulator.enabled:
            spec = await asyncio.to_thread(platform.plants.export)
            ids = {t.key: t.id for t in platform.pipeline.tags.values()}
            start = settings.simulator.epoch_ms or the_clock.now()
            chosen = settings.simulator.incidents
            sim = ParkSimulator(
                spec,
                ids,
                start=start,
                seed=settings.simulator.seed,
                incidents=None if chosen is None else select_incidents(chosen),
            )
            # a restart of the same simulation does not send again what is stored
            stored = await asyncio.to_thread(platform.readings.last_timestamps)
            tasks.append(
                asyncio.create_task(
                    run_simulator(
                        sim,
                        platform.engine,
                        the_clock,
                        settings.simulator.step_s,
                        after=max(stored.values(), default=start - 1),
                    )
                )
            )
        sources = Sources(platform, connectors)
        app.state.sources = sources
        pumping = asyncio.create_task(sources.run())
        try:
            yield
        finally:
            sources.stop()
            await pumping
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # A cancelled task's worker thread may still hold a database connection: let
            # every one finish before the pool closes (no thread work is started after).
            await asyncio.get_running_loop().shutdown_default_executor()
            await platform.channels.close()
            platform.close()

    app = FastAPI(
        title="hazwatch",
        version=__version__,
        description="Industrial internet + safety production supervision API",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
    )
    api = APIRouter(prefix=API_PREFIX)
    for module in ROUTES:
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    _mount_webui(app)
    return app


async def _sample_values(platform: Platform, hub: Hub) -> None:
    """Once a second, send subscribers the tags whose newest reading changed."""

    def path_of(tag_id: int) -> str:
        tag = platform.pipeline.tags.get(tag_id)
        return tag.scope_path if tag else ""

    while True:
        await asyncio.sleep(VALUES_EVERY_S)
        if hub.subscribers:
            latest = platform.pipeline.latest
            hub.sample_values(
                latest.ts.copy(),
                latest.value.copy(),
                latest.quality.copy(),
                path_of,
                iso(platform.clock.now()),
            )


def _mount_webui(app: FastAPI) -> None:
    root = webui_dir()
    index = root / "index.html"
    if not index.exists():
        return
    if (root / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=root / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def spa(path: str) -> FileResponse:
        """Files of the built UI; any other path is a page of the single-page app."""
        if path.startswith("api/"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no endpoint /{path}")
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root.resolve()):
            return FileResponse(candidate)
        return FileResponse(index)
