"""Request dependencies: the platform, the caller, and the grants of the caller's roles."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import OAuth2PasswordBearer

from hazwatch.api.principal import Binding, Principal
from hazwatch.auth.apikey import hash_api_key
from hazwatch.auth.token import InvalidTokenError, read_token
from hazwatch.domain.role import Role
from hazwatch.domain.scope import Grant
from hazwatch.runtime.clock import wall_now
from hazwatch.runtime.platform import Platform

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)

UNAUTHORIZED = HTTPException(
    status.HTTP_401_UNAUTHORIZED,
    detail="not signed in or the token has expired",
    headers={"WWW-Authenticate": "Bearer"},
)


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


PlatformDep = Annotated[Platform, Depends(get_platform)]


def principal_of_token(platform: Platform, token: str) -> Principal:
    try:
        username = read_token(token, secret=platform.settings.signing_key(), now=wall_now())
    except InvalidTokenError:
        raise UNAUTHORIZED from None
    user = platform.users.get(username)
    if user is None or user.disabled:
        raise UNAUTHORIZED
    return Principal(
        name=user.username,
        bindings=tuple(
            Binding(role=Role(b.role), scope_id=b.scope_id, scope_path=b.scope_path)
            for b in user.bindings
        ),
    )


def current_principal(
    platform: PlatformDep,
    token: Annotated[str | None, Depends(oauth2)],
    access_token: Annotated[str | None, Query(include_in_schema=False)] = None,
) -> Principal:
    """The signed-in user (bearer header; the live stream may pass ``access_token``)."""
    found = token or access_token
    if not found:
        raise UNAUTHORIZED
    return principal_of_token(platform, found)


def sender(
    platform: PlatformDep,
    token: Annotated[str | None, Depends(oauth2)],
    x_api_key: Annotated[str | None, Header()] = None,
) -> Principal:
    """Who sends readings: a device API key (``X-API-Key``) or a signed-in admin."""
    if x_api_key:
        key = platform.users.api_key(hash_api_key(x_api_key))
        if key is None or key.revoked:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="unknown or revoked API key")
        return Principal(
            name=f"key:{key.name}",
            bindings=(Binding(role=Role.ADMIN, scope_id=key.scope_id, scope_path=key.scope_path),),
            is_device=True,
        )
    if not token:
        raise UNAUTHORIZED
    principal = principal_of_token(platform, token)
    if not principal.grant(Role.ADMIN).prefixes:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail="sending readings needs an admin role or an API key"
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]
SenderDep = Annotated[Principal, Depends(sender)]


def viewer_grant(principal: PrincipalDep) -> Grant:
    return principal.grant(Role.VIEWER)


def operator_grant(principal: PrincipalDep) -> Grant:
    grant = principal.grant(Role.OPERATOR)
    if not grant.prefixes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this needs an operator role")
    return grant


def admin_grant(principal: PrincipalDep) -> Grant:
    grant = principal.grant(Role.ADMIN)
    if not grant.prefixes:
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="this needs an admin role")
    return grant


ViewerGrant = Annotated[Grant, Depends(viewer_grant)]
OperatorGrant = Annotated[Grant, Depends(operator_grant)]
AdminGrant = Annotated[Grant, Depends(admin_grant)]
