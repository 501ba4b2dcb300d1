"""Short human texts saying why a condition changed, for the alarm journal and message.

With the ``TagTable`` at hand the text names the limit (``value 92.1 ≥ HH 90``,
``value 84.9 < H 90 − deadband 5``); without it, it names the condition and value only.
"""

from __future__ import annotations

import math

from hazwatch.domain.alarm import ConditionEvent
from hazwatch.domain.tag import LIMIT_KINDS, ConditionKind
from hazwatch.domain.tagtable import TagTable


def number(x: float) -> str:
    """A value as an operator reads it: ``90``, ``92.1``, ``NaN``."""
    if math.isnan(x):
        return "NaN"
    return f"{x:.6g}"  # six significant digits: more than any field instrument resolves


def describe(event: ConditionEvent, table: TagTable | None = None) -> str:
    """Why ``event`` happened, in a few words."""
    kind, value = event.condition, number(event.value)
    known = table is not None and table.has_condition(event.tag_id, kind)
    if kind.is_limit:
        if table is None or not known:
            return f"{kind} {'active' if event.active else 'cleared'}, value {value}"
        column = LIMIT_KINDS.index(kind)
        limit = number(float(table.limit_value[event.tag_id, column]))
        deadband = float(table.deadband[event.tag_id, column])
        if event.active:
            return f"value {value} {'≥' if kind.is_high else '≤'} {kind} {limit}"
        sign = ("<", "−") if kind.is_high else (">", "+")
        band = f" {sign[1]} deadband {number(deadband)}" if deadband else ""
        return f"value {value} {sign[0]} {kind} {limit}{band}"
    if kind is ConditionKind.DEVICE_OFFLINE:
        what = "link lost" if event.active else "link restored"
        return f"{what}: {event.detail}" if event.detail else what
    if kind is ConditionKind.DEGRADED:
        what = "link degraded" if event.active else "link healthy again"
        return f"{what}: {event.detail}" if event.detail else what
    if kind is ConditionKind.OFFLINE:
        if not event.active:
            return f"reading received, value {value}"
        if table is None or not known:
            return "no reading"
        return f"no reading for {number(table.offline_after_ms[event.tag_id] / 1000)} s"
    if kind is ConditionKind.FROZEN:
        if not event.active:
            return f"value changed to {value}"
        if table is None or not known:
            return f"value {value} frozen"
        seconds = number(table.frozen_after_ms[event.tag_id] / 1000)
        return f"value {value} unchanged for {seconds} s"
    return "bad quality reading" if event.active else f"good quality reading, value {value}"
