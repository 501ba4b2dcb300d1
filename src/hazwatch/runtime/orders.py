"""Carrying out the orders of playbook runs: notify, park linkage, resources.

``Orders`` belongs to the engine's worker thread with ``RespondStage``, which decides
*when* a step runs; this module says *what* it does. Each method returns the step's
outcome and the journal's detail, or ``None`` while the step waits for the outbox to
report its notice delivered (``settled``).

* ``notify``: muted (``skipped``) while the alarm is shelved, suppressed or out of
  service; otherwise the step's recipients resolved to people (``respond.directory``, the
  chain of scope keys above the occurrence) are handed to the ``Outbox`` as one notice
  keyed by the order: ``done`` once someone was told, ``failed`` otherwise, naming who
  could not be told.
* ``park_linkage``: the plume of the step's chemical from the release's position, with the
  wind read from the weather tags (or given), over the park's places
  (``respond.linkage.assess``); the summary goes in the journal, and the step's ``warn``
  recipients of every place reached — its enterprise's posts, the park's — are told like
  a ``notify`` step's. ``done`` with nobody reached; ``failed`` without wind or position.
* ``suggest_resources``: the nearest available resources of each kind, in the journal.
* ``close``: ends the run, naming the report of the incident it opened.
* ``open_incident``: an incident from the step's emergency plan (``respond.plan``), keyed
  by the run and step so a re-issued order opens nothing twice; the run's journal so far
  is copied into its timeline, and every later entry follows it there (``record``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from hazwatch.domain.alarm import Alarm, AlarmState
from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.domain.warning import Colour
from hazwatch.respond.chemicals import UnknownChemicalError, find_chemical
from hazwatch.respond.directory import Chain, resolve
from hazwatch.respond.incident import SYSTEM, ScopeRef, Source, incident_key, open_from_plan
from hazwatch.respond.incident import SourceKind as IncidentSource
from hazwatch.respond.linkage import Assessment, assess
from hazwatch.respond.notify.message import Notice, Recipient, SourceKind
from hazwatch.respond.playbook import (
    Close,
    Level,
    Notify,
    OpenIncident,
    ParkLinkage,
    Playbook,
    StepOutcome,
    SuggestResources,
)
from hazwatch.respond.plume import Release, Stability, estimate_rate_g_s, ppm_to_mg_m3
from hazwatch.respond.record import timeline_of
from hazwatch.respond.resources import nearest
from hazwatch.respond.run import Entry, Order
from hazwatch.respond.weather import stability_class
from hazwatch.runtime.dispatcher import NotifyRequest
from hazwatch.runtime.surroundings import Surroundings
from hazwatch.storage.contact_repository import ContactRepository
from hazwatch.storage.incident_repository import IncidentRepository
from hazwatch.storage.plan_repository import PlanRepository

MUTED_STATES = (AlarmState.SHELVED, AlarmState.SUPPRESSED, AlarmState.OUT_OF_SERVICE)
"""ISA-18.2 states in which an alarm is not annunciated, so nobody is told of it."""

Outcome = tuple[StepOutcome | None, str]
"""A step's outcome (None: it waits) and the journal's detail."""


class Outbox(Protocol):
    """Where notices go to be delivered (``runtime.dispatcher.Dispatcher``)."""

    def post(self, request: NotifyRequest) -> None: ...


AlarmLookup = Callable[[int, ConditionKind], Alarm | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class About:
    """What a run is about, as its notices tell it, and where it happened."""

    source: SourceKind
    level: Priority | Colour
    scope: str
    """the dotted key of the tag or installation"""
    scope_path: str
    title: str
    chain: Chain
    ref: str = ""
    """the alarm (``42.HH``) or warning id"""
    alarm: tuple[int, ConditionKind] | None = None


class Orders:
    def __init__(
        self,
        *,
        contacts: ContactRepository,
        outbox: Outbox,
        surroundings: Surroundings | None = None,
        incidents: IncidentRepository | None = None,
        plans: PlanRepository | None = None,
    ) -> None:
        self._contacts = contacts
        self._outbox = outbox
        self._surroundings = surroundings
        self._incidents = incidents
        self._plans = plans
        self._incident_of: dict[str, str] = {}
        self._pending: dict[str, str] = {}
        self.alarm_of: AlarmLookup = lambda tag_id, condition: None
        """The alarm book's current alarm (set by the pipeline that owns the book)."""

    def open_incident(
        self,
        book: Playbook,
        step: OpenIncident,
        order: Order,
        about: About,
        journal: Sequence[Entry],
        now: Millis,
    ) -> Outcome:
        if self._incidents is None or self._plans is None:
            return StepOutcome.FAILED, "incidents are not kept here"
        stored = self._plans.get(step.plan)
        if stored is None:
            return StepOutcome.FAILED, f"no emergency plan {step.plan!r}"
        key = incident_key(order.run_id, step.id)
        kind = IncidentSource.ALARM if about.source is SourceKind.ALARM else IncidentSource.WARNING
        opening = open_from_plan(
            stored.plan,
            key=key,
            scope=ScopeRef(key=_scope_key(about), path=about.scope_path),
            source=Source(kind=kind, ref=about.ref, run=order.run_id),
            now=now,
            actor=SYSTEM,
            title=f"{stored.plan.title}: {about.title}",
        )
        opened = self._incidents.open(opening)
        self._incident_of[order.run_id] = key
        self._incidents.record(key, timeline_of(journal, book, about=about.title))
        verb = "opened" if opened else "already open:"
        return StepOutcome.DONE, f"{verb} incident {key} from plan {step.plan}"

    def close(self, step: Close, order: Order) -> Outcome:
        """The run ends; the incident it opened (if any) stays open for people to close,
        its report named in the journal."""
        key = self._incident_of.get(order.run_id)
        if key is None or not step.report:
            return StepOutcome.DONE, ""
        links = ", ".join(f"/api/v1/incidents/{key}/report.{kind}" for kind in step.report)
        return StepOutcome.DONE, f"incident {key} stays open; report: {links}"

    def resume(self, run_id: str) -> None:
        """After a restart: find the incident a resumed run opened, to keep recording."""
        if self._incidents is not None:
            opened = self._incidents.for_run(run_id)
            if opened:
                self._incident_of[run_id] = opened[-1].key

    def record(self, book: Playbook, run_id: str, entries: Sequence[Entry], about: str) -> None:
        """Copy journal entries of a run into the timeline of the incident it opened."""
        key = self._incident_of.get(run_id)
        if key is not None and self._incidents is not None:
            self._incidents.record(key, timeline_of(entries, book, about=about))

    def settled(self, key: str, detail: str) -> str:
        """The journal's detail of the order ``key`` whose notice the outbox settled:
        what the step found out before posting, then the outbox's report."""
        found = self._pending.pop(key, "")
        return "; ".join(p for p in (found, detail) if p)

    def notify(
        self, book: Playbook, step: Notify, order: Order, about: About, now: Millis
    ) -> Outcome:
        muted = self._muted(about)
        if muted:
            return StepOutcome.SKIPPED, f"muted: the alarm is {muted}"
        found = resolve(step.to, about.chain, self._contacts.all())
        title = step.message or f"{book.title or book.name}: {about.title}"
        text = f"playbook {book.name} v{book.version}, step {step.id}"
        return self._post(
            book, order, about, found.recipients, found.unresolved, title, text, now, step.channels
        )

    def _post(
        self,
        book: Playbook,
        order: Order,
        about: About,
        recipients: Sequence[Recipient],
        unresolved: Sequence[str],
        title: str,
        text: str,
        now: Millis,
        channels: tuple[str, ...] = (),
        done: str = "",
    ) -> Outcome:
        """Hand one notice to the outbox (the step then waits for its report)."""
        missing = "nobody for " + ", ".join(unresolved) if unresolved else ""
        if not recipients:
            return StepOutcome.FAILED, "; ".join(p for p in (done, missing) if p)
        self._pending[order.key] = "; ".join(p for p in (done, missing) if p)
        notice = Notice(
            source=about.source,
            id=order.key,
            scope=about.scope,
            level=about.level,
            title=title,
            text=text,
            at=now,
            # the same step for the same alarm (or warning): a chattering alarm's runs tell once
            dedup_key=f"{book.name}:{order.step.id}:{about.ref or order.key}",
        )
        self._outbox.post(
            NotifyRequest(notice=notice, recipients=tuple(recipients), channels=channels)
        )
        return None, ""

    def park_linkage(
        self, book: Playbook, step: ParkLinkage, order: Order, about: About, now: Millis
    ) -> Outcome:
        around = self._surroundings
        if around is None:
            return StepOutcome.FAILED, "the park model is not available"
        assessed = self._assess(step, about, around, now)
        if isinstance(assessed, str):
            return StepOutcome.FAILED, assessed
        summary = assessed.summary()
        if not assessed.exposures:
            return StepOutcome.DONE, summary
        found: dict[str, Recipient] = {}
        unresolved: list[str] = []
        for exposure in assessed.exposures:
            place = exposure.place
            around_place: dict[Level, str] = {
                k: v for k, v in about.chain.items() if k in (Level.PARK, Level.REGION)
            }
            if place.enterprise:
                around_place[Level.ENTERPRISE] = place.enterprise
            resolution = resolve(step.warn, around_place, self._contacts.all())
            for person in resolution.recipients:
                found.setdefault(person.user, person)
            unresolved += [f"{n} ({place.key})" for n in resolution.unresolved]
        title = (
            f"{book.title or book.name}: {assessed.chemical.name} release — "
            f"{len(assessed.exposures)} place(s) inside the footprint"
        )
        return self._post(
            book, order, about, list(found.values()), unresolved, title, summary, now, done=summary
        )

    def _assess(
        self, step: ParkLinkage, about: About, around: Surroundings, now: Millis
    ) -> Assessment | str:
        """The plume over the park, or why it cannot be computed."""
        try:
            chemical = find_chemical(step.chemical)
        except UnknownChemicalError as exc:
            return str(exc)
        wind = step.wind_m_s
        if step.wind_speed_tag is not None:
            wind = around.reading(step.wind_speed_tag, now)
        wind_from = step.wind_from_deg
        if step.wind_direction_tag is not None:
            wind_from = around.reading(step.wind_direction_tag, now)
        if wind is None or wind_from is None:
            return "no recent wind reading: " + ", ".join(
                t for t in (step.wind_speed_tag, step.wind_direction_tag) if t
            )
        wind = max(wind, 0.5)  # calm: the model needs some transport; 0.5 m/s is its floor
        source = around.source(about.scope_path)
        park = around.park(about.scope_path)
        if source is None or park is None:
            return "the release's position or park is not in the plant model"
        stability = self._stability(step, wind, around, now)
        if not isinstance(stability, Stability):  # a StrEnum is a str too: test the class
            return stability
        rate = step.rate_g_s
        if rate == "estimate":
            reading = self._reading_of(about)
            if reading is None:
                return "no reading to estimate the release rate from"
            mg = float(ppm_to_mg_m3(reading, chemical.molar_mass_g_mol))
            rate = estimate_rate_g_s(
                mg, distance_m=step.detector_distance_m, wind_m_s=wind, stability=stability
            )
        release = Release(
            rate_g_s=float(rate), wind_m_s=wind, stability=stability, height_m=step.height_m
        )
        return assess(
            release,
            chemical,
            source_lat=source.lat,
            source_lon=source.lon,
            wind_from_deg=wind_from % 360.0,
            places=around.places(park),
        )

    @staticmethod
    def _stability(
        step: ParkLinkage, wind_m_s: float, around: Surroundings, now: Millis
    ) -> Stability | str:
        """The step's class, or with ``auto`` Pasquill's from the wind and the weather tags
        (``respond.weather``); a missing reading is said."""
        if step.stability != "auto":
            return Stability(step.stability)
        assert step.solar_radiation_tag is not None  # the playbook's validation
        solar = around.reading(step.solar_radiation_tag, now)
        if solar is None:
            return f"no recent solar radiation reading: {step.solar_radiation_tag}"
        cloud = around.reading(step.cloud_cover_tag, now) if step.cloud_cover_tag else None
        return stability_class(wind_m_s=wind_m_s, solar_w_m2=solar, cloud_oktas=cloud)

    def _reading_of(self, about: About) -> float | None:
        if about.alarm is None:
            return None
        alarm = self.alarm_of(*about.alarm)
        return None if alarm is None else alarm.value

    def suggest_resources(self, step: SuggestResources, about: About) -> Outcome:
        around = self._surroundings
        source = around.source(about.scope_path) if around is not None else None
        park = around.park(about.scope_path) if around is not None else None
        if around is None or source is None or park is None:
            return StepOutcome.FAILED, "the release's position or park is not in the plant model"
        found = nearest(
            around.resources(park),
            kinds=step.kinds,
            lat=source.lat,
            lon=source.lon,
            count=step.count,
        )
        if not found:
            return StepOutcome.DONE, "no available resource of " + ", ".join(step.kinds)
        units = around.units(park)
        lines = []
        for s in found:
            r = s.resource
            capacity = f"{r.capacity:g} {units.get(r.key, '')}".rstrip()
            line = f"{r.kind}: {r.name or r.key} {s.distance_m / 1000:.1f} km, {capacity}"
            lines.append(line + (f" ({r.contact})" if r.contact else ""))
        return StepOutcome.DONE, "; ".join(lines)

    def _muted(self, about: About) -> str:
        if about.alarm is None:
            return ""
        alarm = self.alarm_of(*about.alarm)
        if alarm is None or alarm.state not in MUTED_STATES:
            return ""
        return alarm.state.value.replace("_", " ")


def _scope_key(about: About) -> str:
    """The key of the most specific node above the occurrence, as people write it."""
    for level in (Level.INSTALLATION, Level.SITE, Level.ENTERPRISE, Level.PARK, Level.REGION):
        if level in about.chain:
            return about.chain[level]
    return about.scope
