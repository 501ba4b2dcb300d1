"""Short-lived bearer tokens (JWT, HS256) naming the user; roles are looked up per request,
so revoking a role takes effect at once rather than at token expiry."""

from __future__ import annotations

import jwt

from hazwatch.domain.clock import Millis

ALGORITHM = "HS256"


class InvalidTokenError(Exception):
    """The token is malformed, forged or expired."""


def issue_token(username: str, *, secret: str, now: Millis, ttl_s: int) -> str:
    claims = {"sub": username, "iat": now // 1000, "exp": now // 1000 + ttl_s}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def read_token(token: str, *, secret: str, now: Millis) -> str:
    """The username of a valid token; raises ``InvalidTokenError`` otherwise."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"verify_exp": False, "require": ["sub", "exp"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidTokenError(str(exc)) from exc
    # ``now`` is wall-clock time even when a simulation runs the plant clock fast.
    if int(claims["exp"]) * 1000 <= now:
        raise InvalidTokenError("token expired")
    return str(claims["sub"])
