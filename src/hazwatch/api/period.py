"""The period a request asks about: ``start`` and ``end`` query parameters (ISO 8601 with a
zone, or epoch milliseconds), by default the 24 hours up to the current minute, at most
``MAX_PERIOD_MS`` long and ending no later than now; otherwise 422 naming the problem."""

from __future__ import annotations

from fastapi import HTTPException, status

from hazwatch.domain.clock import DAY_MS, MINUTE_MS, Millis, iso, parse_millis

MAX_PERIOD_MS: Millis = 366 * DAY_MS


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def period_of(now: Millis, start: str | None, end: str | None) -> tuple[Millis, Millis]:
    """``[start, end)`` in epoch ms."""
    until = now - now % MINUTE_MS if end is None else parse_millis(end)
    if until is None:
        raise _unprocessable("end: expected ISO 8601 with a zone, or epoch milliseconds")
    since = until - DAY_MS if start is None else parse_millis(start)
    if since is None:
        raise _unprocessable("start: expected ISO 8601 with a zone, or epoch milliseconds")
    if until > now:
        raise _unprocessable(f"end ({iso(until)}) lies in the future (now is {iso(now)})")
    if until <= since:
        raise _unprocessable(f"end ({iso(until)}) must lie after start ({iso(since)})")
    if until - since > MAX_PERIOD_MS:
        raise _unprocessable(f"period too long: at most {MAX_PERIOD_MS // DAY_MS} days")
    return since, until
