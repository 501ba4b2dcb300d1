"""Sign-in (OAuth2 password flow), the caller, and the platform clock."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordRequestForm

from hazwatch.api.deps import PlatformDep, PrincipalDep
from hazwatch.api.schemas import ClockOut, MeOut, RoleOut, TokenOut
from hazwatch.auth.password import verify_password
from hazwatch.auth.token import issue_token
from hazwatch.domain.clock import iso
from hazwatch.runtime.clock import wall_now

router = APIRouter(tags=["session"])


@router.post("/auth/token", operation_id="login", response_model=TokenOut)
def login(platform: PlatformDep, form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> TokenOut:
    user = platform.users.get(form.username)
    if user is None or user.disabled or not verify_password(user.password_hash, form.password):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="wrong user name or password",
            headers={"WWW-Authenticate": "Bearer"},
        )
    ttl = platform.settings.token_ttl_s
    token = issue_token(
        user.username, secret=platform.settings.signing_key(), now=wall_now(), ttl_s=ttl
    )
    return TokenOut(access_token=token, expires_in=ttl)


@router.get("/me", operation_id="me", response_model=MeOut)
def me(principal: PrincipalDep) -> MeOut:
    return MeOut(
        username=principal.name,
        roles=[
            RoleOut(role=b.role.value, scope_id=b.scope_id, scope_path=b.scope_path)
            for b in principal.bindings
        ],
    )


@router.get("/clock", operation_id="clock", response_model=ClockOut)
def clock(platform: PlatformDep, _: PrincipalDep) -> ClockOut:
    """The plant clock: a simulation may run it faster than the wall clock."""
    now = platform.clock.now()
    return ClockOut(
        now=iso(now),
        now_ms=now,
        speed=platform.settings.simulator.speed if platform.settings.simulator.enabled else 1.0,
    )
