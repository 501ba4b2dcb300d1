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
