"""Early warnings: list, inspect, their journal, and people's commands (acknowledge, close).

Reads filter to the caller's subtrees in the repository; commands run on the engine's
worker thread (``Engine.call``), which owns the ``WarningBook``, as alarm commands do. A
refused command answers 409 (not allowed in this state, still active) or 422 (a cause or
actor is missing), with a sentence saying what to do and the refusal's code.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status

from hazwatch.api.deps import OperatorGrant, PlatformDep, PrincipalDep, ViewerGrant
from hazwatch.api.schemas import CloseWarningIn, CommentIn, WarningOut, WarningTransitionOut
from hazwatch.domain.scope import Grant
from hazwatch.domain.warning import Colour, WarningInput, WarningState
from hazwatch.runtime.engine import EngineBusyError
from hazwatch.runtime.platform import Platform
from hazwatch.runtime.warnings import UnknownWarningError
from hazwatch.storage.warning_repository import StoredWarning
from hazwatch.warn.lifecycle import Refusal, WarningTransitionError

router = APIRouter(tags=["warnings"])

OPEN = [WarningState.RAISED, WarningState.ACKNOWLEDGED]
COMMAND_TIMEOUT_S = 30

_STATUS: Mapping[Refusal, int] = MappingProxyType(
    {
        Refusal.NOT_ALLOWED: status.HTTP_409_CONFLICT,
        Refusal.STILL_ACTIVE: status.HTTP_409_CONFLICT,
        Refusal.NOT_HIGHER: status.HTTP_409_CONFLICT,
        Refusal.ACTOR_MISSING: status.HTTP_422_UNPROCESSABLE_CONTENT,
        Refusal.CAUSE_MISSING: status.HTTP_422_UNPROCESSABLE_CONTENT,
    }
)


@router.get("/warnings", operation_id="list_warnings", response_model=list[WarningOut])
def list_warnings(
    platform: PlatformDep,
    grant: ViewerGrant,
    state: Annotated[list[WarningState] | None, Query()] = None,
    colour: Annotated[list[Colour] | None, Query()] = None,
    detector: str | None = None,
    installation: Annotated[
        str | None, Query(description="installation key: enterprise.site.installation")
    ] = None,
    scope_id: Annotated[int | None, Query(description="warnings at or below this node")] = None,
    active: bool | None = None,
    include_closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[WarningOut]:
    """Warnings the caller may see, most severe colour first; by default the open ones."""
    states = state or (None if include_closed else OPEN)
    found = platform.warnings.list(
        grant,
        states=states,
        colours=colour,
        detector=detector,
        installation=installation,
        scope_id=scope_id,
        active=active,
        limit=limit,
    )
    return [WarningOut.of(s) for s in found]


@router.get(
    "/warnings/journal", operation_id="warning_journal", response_model=list[WarningTransitionOut]
)
def warning_journal(
    platform: PlatformDep,
    grant: ViewerGrant,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[WarningTransitionOut]:
    """Every transition of the warnings the caller may see, newest first."""
    return [WarningTransitionOut.of(t) for t in platform.warnings.journal(grant, limit=limit)]


@router.get("/warnings/{warning_id}", operation_id="get_warning", response_model=WarningOut)
def get_warning(warning_id: str, platform: PlatformDep, grant: ViewerGrant) -> WarningOut:
    return WarningOut.of(_visible(platform, grant, warning_id))


@router.get(
    "/warnings/{warning_id}/journal",
    operation_id="get_warning_journal",
    response_model=list[WarningTransitionOut],
)
def get_warning_journal(
    warning_id: str, platform: PlatformDep, grant: ViewerGrant
) -> list[WarningTransitionOut]:
    """One warning's transitions, newest first: raised, observed, escalated, acknowledged,
    closed — when, by whom or what, and why."""
    _visible(platform, grant, warning_id)
    return [
        WarningTransitionOut.of(t)
        for t in platform.warnings.journal(grant, warning_id=warning_id, limit=5000)
    ]


@router.post(
    "/warnings/{warning_id}/acknowledge",
    operation_id="acknowledge_warning",
    response_model=WarningOut,
)
def acknowledge_warning(
    warning_id: str,
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
    body: CommentIn | None = None,
) -> WarningOut:
    """Take charge of a raised warning (operator role)."""
    comment = body.comment if body else ""
    book = platform.warning_book
    return _command(
        platform,
        grant,
        viewer,
        warning_id,
        WarningInput.ACKNOWLEDGE,
        lambda now: book.acknowledge(warning_id, actor=principal.name, now=now, comment=comment),
    )


@router.post(
    "/warnings/{warning_id}/close", operation_id="close_warning", response_model=WarningOut
)
def close_warning(
    warning_id: str,
    body: CloseWarningIn,
    platform: PlatformDep,
    principal: PrincipalDep,
    grant: OperatorGrant,
    viewer: ViewerGrant,
) -> WarningOut:
    """Close (消警) an acknowledged warning whose condition has subsided (operator role).

    Needs a non-empty ``cause`` and ``feedback``; refused (409) while unacknowledged or while
    the detector still sees the condition.
    """
    book = platform.warning_book
    return _command(
        platform,
        grant,
        viewer,
        warning_id,
        WarningInput.CLOSE,
        lambda now: book.close(
            warning_id,
            actor=principal.name,
            cause=body.cause,
            feedback=body.feedback,
            now=now,
            comment=body.comment,
        ),
    )


def _visible(platform: Platform, grant: Grant, warning_id: str) -> StoredWarning:
    found = platform.warnings.get(grant, warning_id)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no warning {warning_id}")
    return found


def _command(
    platform: Platform,
    grant: Grant,
    viewer: Grant,
    warning_id: str,
    command: WarningInput,
    apply: Callable[[int], StoredWarning],
) -> WarningOut:
    stored = _visible(platform, viewer, warning_id)
    if not grant.allows(stored.scope_path):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            detail=f"{command.value} on warning {warning_id} needs an operator role",
        )
    try:
        done = platform.engine.call(lambda _: apply(platform.clock.now())).result(
            timeout=COMMAND_TIMEOUT_S
        )
    except WarningTransitionError as exc:
        raise HTTPException(_STATUS[exc.code], detail=_refusal(exc)) from None
    except UnknownWarningError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no warning {warning_id}") from None
    except EngineBusyError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, detail=str(exc)) from None
    return WarningOut.of(done)


def _refusal(exc: WarningTransitionError) -> str:
    """What the caller can do about a refusal, then its code (a stable key)."""
    doing = exc.input.value
    if exc.code is Refusal.NOT_ALLOWED:
        if exc.state is WarningState.CLOSED:
            why = "the warning is closed already"
        elif exc.input is WarningInput.CLOSE:
            why = "acknowledge the warning before closing it"
        elif exc.input is WarningInput.ACKNOWLEDGE:
            why = "the warning is acknowledged already"
        else:
            why = f"not allowed while the warning is {exc.state.value}"
    elif exc.code is Refusal.STILL_ACTIVE:
        why = "the detector still sees the condition: close it after the condition subsides"
    elif exc.code is Refusal.CAUSE_MISSING:
        why = "closing a warning needs a cause: what it was and what was done"
    elif exc.code is Refusal.ACTOR_MISSING:
        why = "the command must name who gives it"
    else:
        why = exc.detail or "the colour would not rise"
    return f"cannot {doing} warning {exc.warning_id}: {why} ({exc.code.value})"
