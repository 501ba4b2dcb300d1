"""Alarms: list, inspect, and the operator's commands (acknowledge, shelve, out of service)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from hazwatch.alarms.errors import AlarmCommandError
from hazwatch.api.deps import OperatorGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.api.schemas import AlarmOut, CommentIn, ShelveIn, TransitionOut
from hazwatch.domain.alarm import Alarm, AlarmInput, AlarmState
from hazwatch.domain.scope import Grant
from hazwatch.domain.tag import ConditionKind, Priority, Tag
from hazwatch.runtime.engine import EngineBusyError
from hazwatch.runtime.platform import Platform

router = APIRouter(tags=["alarms"])

NOT_NORMAL = [s for s in AlarmState if s is not AlarmState.NORMAL]
COMMAND_TIMEOUT_S = 30


def _parse_id(alarm_id: str) -> tuple[int, ConditionKind]:
    tag, _, condition = alarm_id.partition(".")
    try:
        return int(tag), ConditionKind(condition)
    except ValueError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            detail=f"no alarm {alarm_id!r}: ids look like '42.HH' (tag id . condition)",
        ) from None


def _out(platform: Platform, alarm: Alarm) -> AlarmOut:
    return AlarmOut.of(alarm, platform.pipeline.tags.get(alarm.tag_id))


@router.get("/alarms", operation_id="list_alarms", response_model=list[AlarmOut])
def list_alarms(
    platform: PlatformDep,
    grant: ViewerGrant,
    state: Annotated[list[AlarmState] | None, Query()] = None,
    priority: Annotated[list[Priority] | None, Query()] = None,
    active: bool | None = None,
    include_normal: bool = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[AlarmOut]:
    """Alarms the caller may see; by default those not in the normal state."""
    states = state or (None if include_normal else NOT_NORMAL)
    alarms = platform.alarms.list(
        grant, states=states, active=active, priorities=priority, limit=limit
    )
    return [_out(platform, a) for a in alarms]


@router.get("/alarms/journal", operation_id="alarm_journal", response_model=list[TransitionOut])
def alarm_journal(
    platform: PlatformDep,
    grant: ViewerGrant,
    tag_id: int | None = None,
    condition: ConditionKind | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[TransitionOut]:
    """Every transition, newest first: when, from which state to which, who or what, why."""
    return [
        TransitionOut.of(t)
        for t in platform.alarms.journal(grant, tag_id=tag_id, condition=condition, limit=limit)
    ]


@router.get("/alarms/{alarm_id}", operation_id="get_alarm", response_model=AlarmOut)
def get_alarm(alarm_id: str, platform: PlatformDep, grant: ViewerGrant) -> AlarmOut:
    tag_id, condition = _parse_id(alarm_id)
    _visible(platform, grant, tag_id, alarm_id)
    found = platform.alarms.list(grant, tag_id=tag_id, condition=condition, limit=1)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"alarm {alarm_id} never raised")
    return _out(platform, found[0])


@router.get(
    "/alarms/{alarm_id}/journal",
    operation_id="get_alarm_journal",
    response_model=list[TransitionOut],
)
def get_alarm_journal(
    alarm_id: str, platform: PlatformDep, grant: ViewerGrant
) -> list[TransitionOut]:
    tag_id, condition = _parse_id(alarm_id)
    _visible(platform, grant, tag_id, alarm_id)
    return [
        TransitionOut.of(t)
        for t in platform.alarms.journal(grant, tag_id=tag_id, condition=condition)
    ]


def _visible(platform: Platform, grant: Grant, tag_id: int, alarm_id: str) -> Tag:
    tag = platform.plants.tag(tag_id, grant)
    if tag is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no alarm {alarm_id}")
    return tag


def _command(
    platform: Platform,
    principal_name: str,
    grant: Grant,
    viewer: Grant,
    alarm_id: str,
    command: AlarmInput,
    comment: str,
    duration_s: float | None = None,
) -> AlarmOut:
    tag_id, condition = _parse_id(alarm_id)
    _visible(platform, viewer, tag_id, alarm_id)
    if platform.plants.tag(tag_id, grant) is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"{command.value} on {alarm_id} needs an operator role",
        )
    now = platform.clock.now()
    until = None if duration_s is None else now + int(duration_s * 1000)
    try:
        alarm = platform.engine.call(
            lambda p: p.command(
                tag_id,
                condition,
                command,
                actor=principal_name,
                comment=comment,
                now=platform.clock.now(),
                shelve_until=until,
            )
        ).result(timeout=COMMAND_TIMEOUT_S)
    except AlarmCommandError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=str(exc)) from None
    except EngineBusyError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None
    return _out(platform, alarm)


def _route(path: str, command: AlarmInput, op: str) -> None:
    @router.post(f"/alarms/{{alarm_id}}/{path}", operation_id=op, response_model=AlarmOut)
    def handler(
        alarm_id: str,
        platform: PlatformDep,
        principal: PrincipalDep,
        grant: OperatorGrant,
        viewer: ViewerGrant,
        body: CommentIn | None = None,
    ) -> AlarmOut:
        comment = body.comment if body else ""
        return _command(platform, principal.name, grant, viewer, alarm_id, command, comment)

    handler.__name__ = op
    handler.__doc__ = f"{command.value.replace('_', ' ').capitalize()} an alarm (operator role)."


_route("acknowledge", AlarmInput.ACKNOWLEDGE, "acknowledge_alarm")
_route("unshelve", AlarmInput.UNSHELVE, "unshelve_alarm")
_route("remove-from-service", AlarmInput.REMOVE_FROM_SERVICE, "remove_alarm_from_service")
_route("return-to-service", AlarmInput.RETURN_TO_SERVICE, "return_alarm_to_service")


@router.post("/alarms/{alarm_id}/shelve", operation_id="shelve_alarm", response_model=AlarmOut)
def shelve_alarm(
    alarm_id: str,
    body: ShelveIn,
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> AlarmOut:
    """Shelve an alarm for a time (it unshelves itself); a reason is required."""
    if not body.comment.strip():
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail="shelving needs a reason in 'comment'"
        )
    return _command(
        platform,
        principal.name,
        grant,
        viewer,
        alarm_id,
        AlarmInput.SHELVE,
        body.comment,
        duration_s=body.duration_s,
    )
