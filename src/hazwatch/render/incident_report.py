"""The incident report (事件报告): header, tasks, full timeline and summary counts, in Chinese
and English, as HTML (``incident_report_html``) — PDF through ``pdf.html_to_pdf``.

Times are shown in the IANA ``zone`` given (default ``Asia/Shanghai``) with their UTC
offset; ``now`` is when the report is made, which decides which open tasks are overdue.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hazwatch.domain.clock import Millis
from hazwatch.domain.warning import Colour
from hazwatch.render.html import render_html
from hazwatch.respond.checklist import summary
from hazwatch.respond.incident import (
    EntryKind,
    Incident,
    IncidentStatus,
    Task,
    TaskStatus,
    TimelineEntry,
)

TEMPLATE = "incident.html"
DEFAULT_ZONE = "Asia/Shanghai"

STATUS_LABELS: Mapping[IncidentStatus, str] = MappingProxyType(
    {
        IncidentStatus.OPEN: "已开启 / open",
        IncidentStatus.RESPONDING: "处置中 / responding",
        IncidentStatus.CONTAINED: "已控制 / contained",
        IncidentStatus.CLOSED: "已关闭 / closed",
    }
)
TASK_LABELS: Mapping[TaskStatus, str] = MappingProxyType(
    {
        TaskStatus.OPEN: "待办 / open",
        TaskStatus.DONE: "已完成 / done",
        TaskStatus.SKIPPED: "已跳过 / skipped",
    }
)
KIND_LABELS: Mapping[EntryKind, str] = MappingProxyType(
    {
        EntryKind.EVENT: "事件 / event",
        EntryKind.ACTION: "行动 / action",
        EntryKind.MESSAGE: "通知 / message",
        EntryKind.STATUS: "状态 / status",
        EntryKind.TASK: "任务 / task",
        EntryKind.NOTE: "备注 / note",
    }
)
_LEVELS = ("一", "二", "三", "四")


class UnknownZoneError(ValueError):
    """Not an IANA time zone name."""


def check_zone(zone: str) -> str:
    """``zone`` when it names an IANA time zone; ``UnknownZoneError`` otherwise."""
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownZoneError(f"{zone!r} is not an IANA time zone") from exc
    return zone


def severity_label(colour: Colour) -> str:
    """``红色（一级）/ red (level 1)``."""
    level = colour.level
    return f"{colour.chinese}色（{_LEVELS[level - 1]}级）/ {colour.value} (level {level})"


def incident_report(
    incident: Incident,
    tasks: Sequence[Task],
    timeline: Sequence[TimelineEntry],
    *,
    now: Millis,
    zone: str = DEFAULT_ZONE,
) -> dict[str, object]:
    """The context of the report template."""
    check_zone(zone)
    return {
        "incident": incident,
        "status": STATUS_LABELS[incident.status],
        "severity": severity_label(incident.severity),
        "tasks": [
            {
                "task": t,
                "status": TASK_LABELS[t.status],
                "overdue": t.status is TaskStatus.OPEN and t.due_at is not None and t.due_at < now,
            }
            for t in tasks
        ],
        "timeline": [{"entry": e, "kind": KIND_LABELS[e.kind]} for e in timeline],
        "summary": summary(incident, tasks, timeline, now=now),
        "kind_labels": KIND_LABELS,
        "generated_at": now,
        "zone": zone,
    }


def incident_report_html(
    incident: Incident,
    tasks: Sequence[Task],
    timeline: Sequence[TimelineEntry],
    *,
    now: Millis,
    zone: str = DEFAULT_ZONE,
) -> str:
    """The report as a whole HTML document (inline CSS, no external resources)."""
    return render_html(TEMPLATE, incident_report(incident, tasks, timeline, now=now, zone=zone))
