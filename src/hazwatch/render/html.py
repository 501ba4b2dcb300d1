"""HTML from the Jinja2 templates shipped in ``render/templates``.

``render_html(name, context)`` renders one template with autoescaping on (every value from
a plant or a person is escaped) and undefined names refused (a template that names a value
the context lacks fails loudly rather than printing nothing). Filters for templates:

* ``when(ms, zone, offset=True)`` — an instant (epoch ms) as ``2027-01-15 08:00:00+08:00``
  in the IANA ``zone`` (without ``+08:00`` when ``offset`` is False); empty for None;
* ``zone_label(ms, zone)`` — ``Asia/Shanghai (UTC+08:00)``, the offset at ``ms``;
* ``duration(ms)`` — a span as ``1 h 05 min`` / ``4 min 10 s`` / ``12 s``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from functools import cache
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from hazwatch.domain.clock import Millis


def render_html(template_name: str, context: Mapping[str, object]) -> str:
    """The HTML of template ``template_name`` (a file in ``render/templates``) with
    ``context``; ``jinja2.TemplateNotFound`` for an unknown name."""
    return _environment().get_template(template_name).render(context)


def when(ms: Millis | None, zone: str = "UTC", *, offset: bool = True) -> str:
    """``ms`` as local time in ``zone``, to the second, with its UTC offset unless
    ``offset`` is False (a table whose zone is stated once)."""
    if ms is None:
        return ""
    moment = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(zone))
    if not offset:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.isoformat(sep=" ", timespec="seconds")


def zone_label(ms: Millis, zone: str) -> str:
    """``Asia/Shanghai (UTC+08:00)``: the zone and its offset at ``ms``."""
    moment = datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(zone))
    return f"{zone} (UTC{moment.isoformat()[-6:]})"


def duration(ms: Millis) -> str:
    """A span of time for people: hours and minutes, minutes and seconds, or seconds."""
    seconds = max(ms, 0) // 1000
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {seconds:02d} s"
    return f"{seconds} s"


@cache
def _environment() -> Environment:
    # Built on first use, not at import time.
    environment = Environment(
        loader=PackageLoader("hazwatch.render", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = when
    environment.filters["duration"] = duration
    environment.filters["zone_label"] = zone_label
    return environment
