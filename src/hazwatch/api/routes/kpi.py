"""System-evaluation KPIs: the alarm system (EEMUA 191 / ISA-18.2) and data access.

Both take a period ``[start, end)`` (ISO 8601 with a zone, or epoch milliseconds; by
default the last 24 hours up to the current minute) of at most ``MAX_PERIOD_MS``, ending
no later than now (figures "at the end" describe that instant), and an
optional ``scope`` node id that narrows the caller's view to that subtree. A bad parameter
answers 422 naming it; a scope node the caller cannot see answers like an unknown one.
Definitions: docs/kpi.md.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, BeforeValidator, ConfigDict

from hazwatch.api.deps import PlatformDep, ViewerGrant
from hazwatch.api.period import period_of
from hazwatch.domain.clock import MINUTE_MS, iso
from hazwatch.domain.reject import RejectReason
from hazwatch.domain.scope import Grant, ScopeKind
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.evaluate.access_kpi import DEFAULT_THRESHOLD, ReviewReason
from hazwatch.evaluate.alarm_kpi import AlarmGrouping
from hazwatch.evaluate.alarm_targets import RateVerdict
from hazwatch.runtime.evaluation import evaluate_access, evaluate_alarms, scope_view
from hazwatch.runtime.platform import Platform

router = APIRouter(tags=["kpi"])


IsoTime = Annotated[str, BeforeValidator(lambda v: iso(v) if isinstance(v, int) else v)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class RateOut(_Out):
    value: float
    acceptable: float
    manageable: float
    verdict: RateVerdict


class WindowOut(_Out):
    start: IsoTime
    annunciations: int


class BadActorOut(_Out):
    alarm: str
    tag_key: str
    condition: ConditionKind
    priority: Priority
    annunciations: int
    share: float


class ChatteringOut(_Out):
    alarm: str
    tag_key: str
    condition: ConditionKind
    activations: int
    most_in_window: int


class StaleAlarmOut(_Out):
    alarm: str
    tag_key: str
    condition: ConditionKind
    priority: Priority
    standing_since: IsoTime
    standing_until: IsoTime | None
    at_end: bool


class PriorityShareOut(_Out):
    priority: Priority
    annunciations: int
    share: float | None
    target: float


class LifecycleCountOut(_Out):
    actions: int
    alarms: int
    at_end: int


class AlarmKpiOut(_Out):
    enterprise: str
    position: str
    alarms: int
    annunciations: int
    activations: int
    per_10min: RateOut
    per_hour: RateOut
    per_day: RateOut
    peak_10min: WindowOut
    flood_windows: list[WindowOut]
    flood_share: float
    busy_hours: list[WindowOut]
    busy_hour_share: float
    bad_actors: list[BadActorOut]
    top10_share: float | None
    chattering: list[ChatteringOut]
    stale: list[StaleAlarmOut]
    stale_at_end: int
    most_stale_in_a_day: int
    priorities: list[PriorityShareOut]
    shelved: LifecycleCountOut
    out_of_service: LifecycleCountOut
    suppressed: LifecycleCountOut


class RateTargetOut(_Out):
    acceptable: float
    manageable: float


class AlarmTargetsOut(_Out):
    per_10min: RateTargetOut
    per_hour: RateTargetOut
    per_day: RateTargetOut
    flood_above: int
    peak_10min_max: int
    flood_share_max: float
    busy_hour_above: int
    busy_hour_share_max: float
    top10_share_max: float
    chatter_activations: int
    chatter_window_ms: int
    stale_after_ms: int
    stale_per_day_max: int
    priority_shares: dict[Priority, float]


class AlarmKpiReportOut(_Out):
    start: IsoTime
    end: IsoTime
    grouping: AlarmGrouping
    targets: AlarmTargetsOut
    overall: AlarmKpiOut
    groups: list[AlarmKpiOut]


class LatencyOut(_Out):
    readings: int
    mean_ms: float | None
    max_ms: int
    late: int
    ahead: int
    timeliness: float | None


class RejectedOut(_Out):
    reason: RejectReason
    count: int


class AccessKpiOut(_Out):
    enterprise: str
    tags: int
    expected: int
    received: int
    counted: int
    online_rate: float | None
    slots: int
    filled: int
    completeness: float | None
    latency: LatencyOut
    rejected: list[RejectedOut]
    rejected_total: int
    devices: int
    devices_offline: int
    devices_offline_at_end: int
    offline_ms: int
    device_availability: float | None
    rank: int | None
    review: ReviewReason | None


class AccessKpiReportOut(_Out):
    start: IsoTime
    end: IsoTime
    threshold: float
    late_after_s: float
    latency_from: IsoTime
    overall: AccessKpiOut
    enterprises: list[AccessKpiOut]
    flagged: list[str]


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _scope(platform: Platform, grant: Grant, scope: int | None) -> Grant:
    """The caller's view narrowed to the subtree of node ``scope``."""
    view = scope_view(platform.plants, grant, scope)
    if view is None:
        raise _unprocessable(f"scope: unknown scope node {scope}")
    return view


ScopeQuery = Annotated[int | None, Query(description="a scope node id: KPIs of its subtree")]
StartQuery = Annotated[str | None, Query(description="default: end − 24 h")]
EndQuery = Annotated[str | None, Query(description="default: the current minute")]


@router.get("/kpi/alarms", operation_id="alarm_kpis", response_model=AlarmKpiReportOut)
def get_alarm_kpis(
    platform: PlatformDep,
    grant: ViewerGrant,
    scope: ScopeQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    group: AlarmGrouping = AlarmGrouping.POSITION,
    position: Annotated[
        Literal["installation", "site"],
        Query(description="the scope level that stands for an operator position"),
    ] = "installation",
) -> AlarmKpiReportOut:
    """Alarm-system KPIs (EEMUA 191 / ISA-18.2) per operator position or enterprise and
    overall, with the targets they are judged by."""
    since, until = period_of(platform.clock.now(), start, end)
    view = _scope(platform, grant, scope)
    found = evaluate_alarms(
        platform.db, view, since, until, position=ScopeKind(position), grouping=group
    )
    return AlarmKpiReportOut.model_validate(found.kpis)


@router.get("/kpi/access", operation_id="access_kpis", response_model=AccessKpiReportOut)
def get_access_kpis(
    platform: PlatformDep,
    grant: ViewerGrant,
    scope: ScopeQuery = None,
    start: StartQuery = None,
    end: EndQuery = None,
    threshold: Annotated[
        float, Query(gt=0, le=1, description="online rate below which to flag")
    ] = DEFAULT_THRESHOLD,
    late_after_s: Annotated[
        float, Query(ge=0, le=86_400, description="latency above which a reading is late")
    ] = 60.0,
) -> AccessKpiReportOut:
    """Data-access KPIs per enterprise (online rate, completeness, timeliness, rejected
    readings, devices offline), ranked, with the enterprises for review."""
    since, until = period_of(platform.clock.now(), start, end)
    for name, value in (("start", since), ("end", until)):
        if value % MINUTE_MS:
            raise _unprocessable(
                f"{name}: must be a whole minute (readings are counted per minute)"
            )
    view = _scope(platform, grant, scope)
    report = evaluate_access(
        platform.db,
        view,
        since,
        until,
        threshold=threshold,
        late_after_ms=round(late_after_s * 1000),
    )
    return AccessKpiReportOut.model_validate(
        {
            "start": report.start,
            "end": report.end,
            "threshold": report.threshold,
            "late_after_s": late_after_s,
            "latency_from": report.latency_from,
            "overall": report.overall,
            "enterprises": report.enterprises,
            "flagged": report.flagged,
        }
    )
