"""The JSON shapes of the API (Pydantic models at the edge; domain values stay dataclasses)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState, AlarmTransition
from hazwatch.domain.clock import Millis, iso
from hazwatch.domain.link import Health
from hazwatch.domain.plant import Location
from hazwatch.domain.reject import DeadLetter, RejectReason
from hazwatch.domain.scope import ScopeKind, ScopeNode
from hazwatch.domain.tag import ConditionKind, Priority, Tag
from hazwatch.domain.warning import (
    Colour,
    Feedback,
    WarningInput,
    WarningState,
    WarningTransition,
)
from hazwatch.storage.warning_repository import StoredWarning


def _iso(ms: Millis | None) -> str | None:
    return None if ms is None else iso(ms)


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class RoleOut(BaseModel):
    role: str
    scope_id: int
    scope_path: str


class MeOut(BaseModel):
    username: str
    roles: list[RoleOut]


class ClockOut(BaseModel):
    now: str
    now_ms: int
    speed: float


class ScopeNodeOut(BaseModel):
    id: int
    kind: ScopeKind
    key: str
    name: str
    parent_id: int | None
    path: str
    lat: float | None = None
    lon: float | None = None

    @classmethod
    def of(cls, node: ScopeNode, location: Location | None = None) -> ScopeNodeOut:
        return cls(
            id=node.id,
            kind=node.kind,
            key=node.key,
            name=node.name,
            parent_id=node.parent_id,
            path=node.path,
            lat=location.lat if location else None,
            lon=location.lon if location else None,
        )


class InventoryOut(BaseModel):
    """A hazardous chemical held in an installation (the basis of GB 18218 identification)."""

    id: int
    installation_id: int
    installation_path: str
    chemical: str
    cas: str | None
    quantity_t: float = Field(description="tonnes, or volume × density")
    tonnes: float | None
    volume_m3: float | None
    density_t_per_m3: float | None
    category: str | None = Field(
        default=None, description="GB 18218 Table 2 category of an unlisted chemical or mixture"
    )


class LimitOut(BaseModel):
    kind: ConditionKind
    value: float
    priority: Priority
    deadband: float
    on_delay_s: float
    off_delay_s: float


class TagOut(BaseModel):
    id: int
    key: str
    name: str
    unit: str
    range_lo: float
    range_hi: float
    period_s: float
    scope_id: int
    scope_path: str
    limits: list[LimitOut]

    @classmethod
    def of(cls, tag: Tag) -> TagOut:
        return cls(
            id=tag.id,
            key=tag.key,
            name=tag.name,
            unit=tag.unit,
            range_lo=tag.range_lo,
            range_hi=tag.range_hi,
            period_s=tag.period_s,
            scope_id=tag.scope_id,
            scope_path=tag.scope_path,
            limits=[
                LimitOut(
                    kind=lim.kind,
                    value=lim.value,
                    priority=lim.priority,
                    deadband=lim.deadband,
                    on_delay_s=lim.on_delay_s,
                    off_delay_s=lim.off_delay_s,
                )
                for lim in tag.limits
            ],
        )


class LatestOut(BaseModel):
    tag_id: int
    tag_key: str
    ts: str | None
    value: float | None
    quality: Literal["good", "uncertain", "bad"] | None


class PointOut(BaseModel):
    ts: str
    value: float | None
    min: float | None = None
    max: float | None = None
    count: int | None = None
    server_ts: str | None = Field(
        default=None, description="raw points: when the OPC UA server stamped the reading"
    )


class HistoryOut(BaseModel):
    tag_id: int
    mode: Literal["raw", "rollup"]
    start: str
    end: str
    points: list[PointOut]


def alarm_id(tag_id: int, condition: ConditionKind) -> str:
    return f"{tag_id}.{condition.value}"


class AlarmOut(BaseModel):
    id: str = Field(description="stable alarm id: '<tag id>.<condition>'")
    tag_id: int
    tag_key: str
    tag_name: str
    unit: str
    condition: ConditionKind
    state: AlarmState
    active: bool
    priority: Priority
    value: float | None
    activated_at: str | None
    acknowledged_at: str | None
    shelved_until: str | None
    updated_at: str
    seq: int
    message: str

    @classmethod
    def of(cls, alarm: Alarm, tag: Tag | None) -> AlarmOut:
        return cls(
            id=alarm_id(alarm.tag_id, alarm.condition),
            tag_id=alarm.tag_id,
            tag_key=tag.key if tag else f"#{alarm.tag_id}",
            tag_name=(tag.name or tag.key) if tag else "",
            unit=tag.unit if tag else "",
            condition=alarm.condition,
            state=alarm.state,
            active=alarm.active,
            priority=alarm.priority,
            value=alarm.value,
            activated_at=_iso(alarm.activated_at),
            acknowledged_at=_iso(alarm.acknowledged_at),
            shelved_until=_iso(alarm.shelved_until),
            updated_at=iso(alarm.updated_at),
            seq=alarm.seq,
            message=alarm.message,
        )


class CommentIn(BaseModel):
    comment: str = Field(default="", max_length=2000)


class ShelveIn(CommentIn):
    duration_s: float = Field(gt=0, description="how long the alarm stays shelved")


class TransitionOut(BaseModel):
    alarm_id: str
    tag_id: int
    condition: ConditionKind
    seq: int
    at: str
    from_state: AlarmState
    to_state: AlarmState
    input: AlarmInput
    actor: str
    cause: str
    comment: str
    value: float | None

    @classmethod
    def of(cls, t: AlarmTransition) -> TransitionOut:
        return cls(
            alarm_id=alarm_id(t.tag_id, t.condition),
            tag_id=t.tag_id,
            condition=t.condition,
            seq=t.seq,
            at=iso(t.at),
            from_state=t.from_state,
            to_state=t.to_state,
            input=t.input,
            actor=t.actor,
            cause=t.cause,
            comment=t.comment,
            value=t.value,
        )


class DeadLetterOut(BaseModel):
    id: int
    received: str
    source: str
    reason: RejectReason
    detail: str
    tag_key: str | None
    ts: str | None
    value: float | None
    payload: str | None

    @classmethod
    def of(cls, letter_id: int, d: DeadLetter) -> DeadLetterOut:
        return cls(
            id=letter_id,
            received=iso(d.received),
            source=d.source,
            reason=d.reason,
            detail=d.detail,
            tag_key=d.tag_key,
            ts=_iso(d.ts),
            value=d.value,
            payload=d.payload,
        )


class RejectOut(BaseModel):
    tag: str | None
    reason: RejectReason
    detail: str


class IngestOut(BaseModel):
    accepted: int
    rejected: int
    rejected_by_reason: dict[RejectReason, int]
    examples: list[RejectOut]


class ApiKeyIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scope_id: int


class ApiKeyOut(BaseModel):
    id: int
    name: str
    scope_id: int
    key: str = Field(description="shown once; only its hash is stored")


class ProblemOut(BaseModel):
    detail: str


class LinkOut(BaseModel):
    """A device behind a connector, as its connector last reported it."""

    key: str = Field(description="equipment key of the device")
    health: Health
    detail: str = ""
    status_tag_id: int | None = Field(
        default=None, description="the device's status tag, which carries its link alarms"
    )


class ConnectorOut(BaseModel):
    name: str
    kind: str
    equipment: str | None = Field(description="where the connector's own status tag lives")
    health: Health
    detail: str = Field(description="the last error, with the protocol's code")
    batches: int
    readings: int
    restarts: int = Field(description="times the connector was restarted after a failure")
    devices: list[LinkOut]


class ContributionOut(BaseModel):
    variable: str
    share: float = Field(ge=0, le=1, description="the variable's share of the score, 0 … 1")


class ExplanationOut(BaseModel):
    text: str
    contributions: list[ContributionOut] = Field(
        description="the top contributing variables, largest share first"
    )


class EscalationOut(BaseModel):
    at: str
    from_colour: Colour
    to_colour: Colour
    rule: str
    cause: str


class WarningOut(BaseModel):
    """An early warning (超前预警): a detector's graded verdict, distinct from alarms."""

    id: str = Field(description="stable warning id: 16 hex digits")
    key: str = Field(description="'detector:installation[:subject]', what deduplicates it")
    detector: str
    installation: str = Field(description="installation key: enterprise.site.installation")
    subject: str = Field(description="a tag key, or '' for the installation as a whole")
    scope_id: int = Field(description="the scope node the warning belongs to")
    scope_path: str
    state: WarningState
    colour: Colour = Field(description="red (level 1, major) … blue (level 4, low)")
    level: int = Field(ge=1, le=4, description="the colour's official level: 1 red … 4 blue")
    raised_colour: Colour
    colour_since: str
    explanation: ExplanationOut
    raised_at: str
    updated_at: str
    last_observed_at: str
    observations: int = Field(description="observations deduplicated into this warning")
    active: bool = Field(description="the detector still sees the condition")
    active_since: str
    acknowledged_at: str | None
    acknowledged_by: str | None
    closed_at: str | None
    closed_by: str | None
    close_cause: str | None
    feedback: Feedback | None
    escalations: list[EscalationOut]
    seq: int

    @classmethod
    def of(cls, stored: StoredWarning) -> WarningOut:
        w = stored.warning
        closure = w.closure
        return cls(
            id=w.id,
            key=w.key.text,
            detector=w.key.detector,
            installation=w.key.installation,
            subject=w.key.subject,
            scope_id=stored.scope_id,
            scope_path=stored.scope_path,
            state=w.state,
            colour=w.colour,
            level=w.colour.level,
            raised_colour=w.raised_colour,
            colour_since=iso(w.colour_since),
            explanation=ExplanationOut(
                text=w.explanation.text,
                contributions=[
                    ContributionOut(variable=c.variable, share=c.share)
                    for c in w.explanation.contributions
                ],
            ),
            raised_at=iso(w.raised_at),
            updated_at=iso(w.updated_at),
            last_observed_at=iso(w.last_observed_at),
            observations=w.observations,
            active=w.active,
            active_since=iso(w.active_since),
            acknowledged_at=_iso(w.acknowledged_at),
            acknowledged_by=w.acknowledged_by,
            closed_at=_iso(closure.at) if closure else None,
            closed_by=closure.actor if closure else None,
            close_cause=closure.cause if closure else None,
            feedback=closure.feedback if closure else None,
            escalations=[
                EscalationOut(
                    at=iso(e.at),
                    from_colour=e.from_colour,
                    to_colour=e.to_colour,
                    rule=e.rule,
                    cause=e.cause,
                )
                for e in w.escalations
            ],
            seq=w.seq,
        )


class WarningTransitionOut(BaseModel):
    warning_id: str
    seq: int
    at: str
    input: WarningInput
    from_state: WarningState | None = Field(description="null for the transition that raised it")
    to_state: WarningState
    from_colour: Colour | None
    to_colour: Colour
    actor: str = Field(description="'system' or the user who gave the command")
    cause: str
    comment: str
    rule: str = Field(description="the escalation rule, 'grading' for an observation's own grade")
    feedback: Feedback | None

    @classmethod
    def of(cls, t: WarningTransition) -> WarningTransitionOut:
        return cls(
            warning_id=t.warning_id,
            seq=t.seq,
            at=iso(t.at),
            input=t.input,
            from_state=t.from_state,
            to_state=t.to_state,
            from_colour=t.from_colour,
            to_colour=t.to_colour,
            actor=t.actor,
            cause=t.cause,
            comment=t.comment,
            rule=t.rule,
            feedback=t.feedback,
        )


class CloseWarningIn(CommentIn):
    """Closing (消警) needs a cause and says what the warning turned out to be."""

    cause: str = Field(max_length=2000, description="what it was and what was done; not empty")
    feedback: Feedback = Field(
        description="true_positive (real), false_positive (detector, model or data error) or "
        "expected (a planned deviation: start-up, shut-down, maintenance)"
    )
