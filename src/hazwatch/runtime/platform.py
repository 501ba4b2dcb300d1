"""One running hazwatch: database, repositories, pipeline, engine and live hub, wired.

``Platform.open`` is the single place where the pieces are built from settings; the API
and the CLI receive the platform and never build parts of it themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazwatch.domain.scope import Grant
from hazwatch.ingest.validation import Admission
from hazwatch.respond.playbook import StepOutcome
from hazwatch.runtime.channel_set import ChannelSet
from hazwatch.runtime.clock import Clock
from hazwatch.runtime.dispatcher import Dispatcher
from hazwatch.runtime.engine import Engine
from hazwatch.runtime.metrics import Metrics
from hazwatch.runtime.models import ModelLoader
from hazwatch.runtime.orders import Orders
from hazwatch.runtime.pipeline import Pipeline
from hazwatch.runtime.respond_stage import RespondStage
from hazwatch.runtime.risk_stage import RiskStage
from hazwatch.runtime.surroundings import Surroundings
from hazwatch.runtime.warn_stage import WarnStage
from hazwatch.runtime.warnings import WarningBook
from hazwatch.settings import Settings
from hazwatch.storage.alarm_repository import AlarmRepository
from hazwatch.storage.channel_repository import ChannelRepository
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.database import Database
from hazwatch.storage.dead_letter_repository import DeadLetterRepository
from hazwatch.storage.delivery_repository import DatabaseDeliveryLog
from hazwatch.storage.inbox_repository import DatabaseInbox
from hazwatch.storage.incident_repository import IncidentRepository
from hazwatch.storage.park_repository import ParkRepository
from hazwatch.storage.plan_repository import PlanRepository
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.playbook_repository import PlaybookRepository
from hazwatch.storage.readings.store import ReadingStore, open_reading_store
from hazwatch.storage.user_repository import UserRepository
from hazwatch.storage.warn_model_repository import WarnModelRepository
from hazwatch.storage.warning_repository import WarningRepository


@dataclass(eq=False, kw_only=True)
class Platform:
    settings: Settings
    clock: Clock
    db: Database
    plants: PlantRepository
    alarms: AlarmRepository
    warnings: WarningRepository
    warn_models: WarnModelRepository
    dead_letters: DeadLetterRepository
    users: UserRepository
    readings: ReadingStore
    metrics: Metrics
    pipeline: Pipeline
    engine: Engine
    warning_book: WarningBook
    """Owned by the engine's worker thread: commands go through ``engine.call``."""
    playbooks: PlaybookRepository
    contacts: ContactRepository
    parks: ParkRepository
    inbox: DatabaseInbox
    dispatcher: Dispatcher
    """Delivers the runs' notifications; its ``run()`` goes on the app's event loop."""
    channels: ChannelSet
    """The notification channels configured now (closed with the app)."""
    risk: RiskStage
    """The dynamic risk colours; ``risk.snapshot()`` may be read from any thread."""

    @classmethod
    def open(cls, settings: Settings, clock: Clock) -> Platform:
        """Open (and migrate) the database and build every stage; the engine is not started."""
        db = Database.open(settings.resolved_database_url)
        db.upgrade()
        plants = PlantRepository(db)
        alarms = AlarmRepository(db)
        warnings = WarningRepository(db)
        warn_models = WarnModelRepository(db)
        dead_letters = DeadLetterRepository(db)
        readings = open_reading_store(db.engine)
        metrics = Metrics()
        warning_book = WarningBook(warnings, policy=settings.warnings.policy())
        playbook_repository = PlaybookRepository(db)
        contact_repository = ContactRepository(db)
        inbox = DatabaseInbox(db)
        channels = ChannelSet(ChannelRepository(db), inbox)
        dispatcher = Dispatcher(channels=channels, log=DatabaseDeliveryLog(db), clock=clock)
        parks = ParkRepository(db)
        nodes = plants.nodes(Grant.everything())
        surroundings = Surroundings(
            parks=parks, nodes=nodes, locations=plants.locations(Grant.everything())
        )
        pipeline = Pipeline(
            tags=plants.tags(),
            store=readings,
            alarms=alarms,
            dead_letters=dead_letters,
            admission=Admission(
                future_ms=settings.future_tolerance_ms, retention_ms=settings.raw_retention_ms
            ),
            rollup_retention_ms=settings.rollup_retention_ms,
            link_delay_ms=int(settings.link_alarm_delay_s * 1000),
            metrics=metrics,
            now=clock.now(),
            warn=WarnStage(
                warning_book,
                trend=settings.warnings.trend(),
                models=ModelLoader(
                    warn_models, check_every_ms=int(settings.warn_model_check_s * 1000)
                ),
            ),
            respond=RespondStage(
                playbooks=playbook_repository,
                orders=Orders(
                    contacts=contact_repository,
                    outbox=dispatcher,
                    surroundings=surroundings,
                    incidents=IncidentRepository(db),
                    plans=PlanRepository(db),
                ),
                nodes=nodes,
                warning_of=warnings.find,
            ),
        )
        respond = pipeline.respond
        if respond is not None:
            warning_book.listeners.append(respond.warnings)
        surroundings.value_of = pipeline.latest_of
        risk = RiskStage.open(
            db, plants=plants, warnings=warning_book, clock=clock, settings=settings.risk
        )
        risk.attach(pipeline)
        engine = Engine(
            pipeline, clock, metrics, queue_size=settings.queue_batches, tick_s=settings.tick_s
        )

        def report(key: str, outcome: StepOutcome, detail: str) -> None:
            def settle(p: Pipeline) -> None:
                if p.respond is not None:
                    p.respond.reported(key, outcome, detail, clock.now())

            engine.call(settle)

        dispatcher.report = report
        return cls(
            settings=settings,
            clock=clock,
            db=db,
            plants=plants,
            alarms=alarms,
            warnings=warnings,
            warn_models=warn_models,
            dead_letters=dead_letters,
            users=UserRepository(db),
            readings=readings,
            metrics=metrics,
            pipeline=pipeline,
            engine=engine,
            warning_book=warning_book,
            playbooks=playbook_repository,
            contacts=contact_repository,
            parks=parks,
            inbox=inbox,
            dispatcher=dispatcher,
            channels=channels,
            risk=risk,
        )

    def close(self) -> None:
        self.engine.stop()
        self.readings.close()
        self.db.close()
