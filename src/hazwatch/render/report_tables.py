"""A report's figures as tables: what the HTML and PDF show, one CSV file each, and one
XLSX sheet each — so every format holds the same numbers.

A ``Table`` has a ``name`` (the CSV file and sheet name, ``bad_actors``), a bilingual
``title`` and typed ``Column``s; a cell holds ``None`` (empty), text, an integer or a float.
Column kinds say how a value reads: ``share`` is a fraction 0–1 (``0.953`` = 95.3 %),
``time`` an instant in epoch ms shown in the table's ``zone``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from hazwatch.domain.clock import Millis
from hazwatch.domain.tag import Priority
from hazwatch.evaluate.alarm_kpi import AlarmGrouping, AlarmKpi
from hazwatch.evaluate.alarm_targets import RateVerdict
from hazwatch.evaluate.report import Report
from hazwatch.evaluate.report_period import zone_info

Cell = str | int | float | None


class ColumnKind(StrEnum):
    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    SHARE = "share"
    TIME = "time"


@dataclass(frozen=True, slots=True, kw_only=True)
class Column:
    title: str
    kind: ColumnKind = ColumnKind.TEXT


@dataclass(frozen=True, slots=True, kw_only=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    zone: str

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"{self.name}: row {i} has {len(row)} cells, not {width}")


def local_time(at: Millis, zone: str) -> datetime:
    """Instant ``at`` as an aware datetime in ``zone``."""
    return datetime.fromtimestamp(at / 1000, tz=zone_info(zone))


def cell_text(column: Column, value: Cell, zone: str) -> str:
    """A cell as a document shows it: ``95.3 %``, ``2027-01-15 08:00``, ``12.5``, or
    ``—`` for no value (``None``)."""
    if value is None:
        return "—"
    if column.kind is ColumnKind.SHARE and isinstance(value, int | float):
        return f"{value * 100:.1f} %"
    if column.kind is ColumnKind.TIME and isinstance(value, int):
        return local_time(value, zone).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".")
    if isinstance(value, int):
        return f"{value:,}"
    return value


PRIORITY_LABELS: Mapping[Priority, str] = MappingProxyType(
    {
        Priority.LOW: "低 / low",
        Priority.MEDIUM: "中 / medium",
        Priority.HIGH: "高 / high",
        Priority.CRITICAL: "紧急 / critical",
    }
)
VERDICT_LABELS: Mapping[RateVerdict, str] = MappingProxyType(
    {
        RateVerdict.ACCEPTABLE: "可接受 / acceptable",
        RateVerdict.MANAGEABLE: "可管理 / manageable",
        RateVerdict.OVERLOADED: "超负荷 / overloaded",
    }
)

_T, _I, _F, _S, _TIME = (
    ColumnKind.TEXT,
    ColumnKind.INT,
    ColumnKind.FLOAT,
    ColumnKind.SHARE,
    ColumnKind.TIME,
)


def _columns(*spec: tuple[str, ColumnKind]) -> tuple[Column, ...]:
    return tuple(Column(title=t, kind=k) for t, k in spec)


def report_tables(report: Report) -> tuple[Table, ...]:
    """Every table of the report, in the order the documents show them; the risk tables
    only where the report has risk colours."""
    tables = [
        summary_table(report),
        _series(report),
        _priorities(report),
        _groups(report),
        _bad_actors(report),
        _chattering(report),
        _stale(report),
        _floods(report),
        _access(report),
        _rejected(report),
        _flagged(report),
        _installations(report),
    ]
    if report.risk is not None:
        tables += _risk(report)
    return tuple(tables)


def summary_table(report: Report) -> Table:
    """The headline figures: value and unit, with the target where the standards give one."""
    k, a = report.alarms.overall, report.access.overall
    t = report.alarms.targets
    majors = [i for i in report.installations if i.identification and i.identification.major_hazard]
    rows: list[tuple[Cell, ...]] = [
        ("报警总数 / Annunciations", k.annunciations, "", ""),
        ("日均报警 / Per day", round(k.per_day.value, 2), "", f"≤ {t.per_day.acceptable:g}*"),
        (
            "每10分钟 / Per 10 min",
            round(k.per_10min.value, 3),
            "",
            f"≤ {t.per_10min.acceptable:g}*",
        ),
        ("10分钟峰值 / Peak in 10 min", k.peak_10min.annunciations, "", f"≤ {t.peak_10min_max}"),
        ("泛滥时段占比 / Flood share", _pct(k.flood_share), "%", f"< {t.flood_share_max:.0%}"),
        ("前十报警占比 / Top-10 share", _pct(k.top10_share), "%", f"≤ {t.top10_share_max:.0%}"),
        ("振荡报警 / Chattering alarms", len(k.chattering), "", "0"),
        ("陈旧报警 / Stale alarms", len(k.stale), "", f"< {t.stale_per_day_max + 1} / day"),
        ("数据点 / Data tags", a.tags, "", ""),
        ("在线率 / Online rate", _pct(a.online_rate), "%", f"≥ {report.access.threshold:.0%}"),
        ("完整率 / Completeness", _pct(a.completeness), "%", ""),
        ("及时率 / Timeliness", _pct(a.latency.timeliness), "%", ""),
        ("拒收 / Rejected", a.rejected_total, "", ""),
        ("待核查企业 / Flagged enterprises", len(report.access.flagged), "", "0"),
        ("重大危险源 / Major hazard installations", len(majors), "", ""),
    ]
    return Table(
        name="summary",
        title="概要 / Summary",
        columns=_columns(
            ("指标 / Figure", _T), ("数值 / Value", _F), ("单位 / Unit", _T), ("目标 / Target", _T)
        ),
        rows=tuple(rows),
        zone=report.period.zone,
    )


def _pct(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 2)


def _series(report: Report) -> Table:
    return Table(
        name="alarm_series",
        title="报警趋势 / Annunciations over time",
        columns=_columns(
            ("开始 / Start", _TIME), ("结束 / End", _TIME), ("报警 / Annunciations", _I)
        ),
        rows=tuple((p.start, p.end, p.annunciations) for p in report.alarm_series),
        zone=report.period.zone,
    )


def _priorities(report: Report) -> Table:
    return Table(
        name="priorities",
        title="优先级分布 / Priority distribution",
        columns=_columns(
            ("优先级 / Priority", _T),
            ("报警 / Annunciations", _I),
            ("占比 / Share", _S),
            ("目标 / Target", _S),
        ),
        rows=tuple(
            (PRIORITY_LABELS[p.priority], p.annunciations, p.share, p.target)
            for p in report.alarms.overall.priorities
        ),
        zone=report.period.zone,
    )


def _groups(report: Report) -> Table:
    by_position = report.alarms.grouping is AlarmGrouping.POSITION

    def row(g: AlarmKpi) -> tuple[Cell, ...]:
        return (
            g.position if by_position else g.enterprise,
            g.alarms,
            g.annunciations,
            round(g.per_day.value, 2),
            VERDICT_LABELS[g.per_day.verdict],
            g.peak_10min.annunciations,
            len(g.flood_windows),
            len(g.chattering),
            len(g.stale),
        )

    who = "岗位 / Position" if by_position else "企业 / Enterprise"
    return Table(
        name="alarm_groups",
        title=(
            "各岗位报警 / Alarms per position"
            if by_position
            else "各企业报警 / Alarms per enterprise"
        ),
        columns=_columns(
            (who, _T),
            ("报警点 / Alarms", _I),
            ("报警 / Annunciations", _I),
            ("日均 / Per day", _F),
            ("评价 / Verdict", _T),
            ("10分钟峰值 / Peak 10 min", _I),
            ("泛滥时段 / Flood periods", _I),
            ("振荡 / Chattering", _I),
            ("陈旧 / Stale", _I),
        ),
        rows=tuple(row(g) for g in report.alarms.groups),
        zone=report.period.zone,
    )


def _bad_actors(report: Report) -> Table:
    return Table(
        name="bad_actors",
        title="高频报警（前十）/ Bad actors (top ten)",
        columns=_columns(
            ("排名 / Rank", _I),
            ("位号 / Tag", _T),
            ("条件 / Condition", _T),
            ("优先级 / Priority", _T),
            ("报警 / Annunciations", _I),
            ("占比 / Share", _S),
        ),
        rows=tuple(
            (i, b.tag_key, b.condition.value, PRIORITY_LABELS[b.priority], b.annunciations, b.share)
            for i, b in enumerate(report.alarms.overall.bad_actors, start=1)
        ),
        zone=report.period.zone,
    )


def _chattering(report: Report) -> Table:
    return Table(
        name="chattering",
        title="振荡报警 / Chattering alarms",
        columns=_columns(
            ("位号 / Tag", _T),
            ("条件 / Condition", _T),
            ("激活次数 / Activations", _I),
            ("一分钟内最多 / Most in a minute", _I),
        ),
        rows=tuple(
            (c.tag_key, c.condition.value, c.activations, c.most_in_window)
            for c in report.alarms.overall.chattering
        ),
        zone=report.period.zone,
    )


def _stale(report: Report) -> Table:
    return Table(
        name="stale",
        title="陈旧报警（持续超过24小时）/ Stale alarms (standing > 24 h)",
        columns=_columns(
            ("位号 / Tag", _T),
            ("条件 / Condition", _T),
            ("优先级 / Priority", _T),
            ("持续自 / Standing since", _TIME),
            ("持续至 / Until", _TIME),
            ("期末仍在 / At end", _T),
        ),
        rows=tuple(
            (
                s.tag_key,
                s.condition.value,
                PRIORITY_LABELS[s.priority],
                s.standing_since,
                s.standing_until,
                "是 / yes" if s.at_end else "否 / no",
            )
            for s in report.alarms.overall.stale
        ),
        zone=report.period.zone,
    )


def _floods(report: Report) -> Table:
    width = 600_000
    return Table(
        name="floods",
        title="报警泛滥时段（10分钟内超过10条）/ Flood periods (> 10 in 10 min)",
        columns=_columns(
            ("开始 / Start", _TIME), ("结束 / End", _TIME), ("报警 / Annunciations", _I)
        ),
        rows=tuple(
            (w.start, min(w.start + width, report.period.end), w.annunciations)
            for w in report.alarms.overall.flood_windows
        ),
        zone=report.period.zone,
    )


def _access(report: Report) -> Table:
    return Table(
        name="data_access",
        title="数据接入（按在线率排名）/ Data access, ranked by online rate",
        columns=_columns(
            ("排名 / Rank", _I),
            ("企业 / Enterprise", _T),
            ("数据点 / Tags", _I),
            ("应收 / Expected", _I),
            ("实收 / Received", _I),
            ("在线率 / Online rate", _S),
            ("完整率 / Completeness", _S),
            ("及时率 / Timeliness", _S),
            ("平均延迟 s / Mean latency s", _F),
            ("拒收 / Rejected", _I),
            ("设备 / Devices", _I),
            ("离线设备 / Devices offline", _I),
            ("设备可用率 / Availability", _S),
        ),
        rows=tuple(
            (
                e.rank,
                e.enterprise,
                e.tags,
                e.expected,
                e.received,
                e.online_rate,
                e.completeness,
                e.latency.timeliness,
                None if e.latency.mean_ms is None else round(e.latency.mean_ms / 1000, 3),
                e.rejected_total,
                e.devices,
                e.devices_offline,
                e.device_availability,
            )
            for e in report.access.enterprises
        ),
        zone=report.period.zone,
    )


def _rejected(report: Report) -> Table:
    return Table(
        name="rejected",
        title="拒收数据（按原因）/ Rejected readings by reason",
        columns=_columns(("企业 / Enterprise", _T), ("原因 / Reason", _T), ("数量 / Count", _I)),
        rows=tuple(
            (e.enterprise, r.reason.value, r.count)
            for e in report.access.enterprises
            for r in e.rejected
        ),
        zone=report.period.zone,
    )


def _flagged(report: Report) -> Table:
    reasons = {
        "below_threshold": f"在线率低于 {report.access.threshold:.0%} / online rate below",
        "no_tags": "无数据点 / no data tags",
    }
    return Table(
        name="flagged",
        title="待核查企业 / Enterprises flagged for review",
        columns=_columns(
            ("企业 / Enterprise", _T), ("在线率 / Online rate", _S), ("原因 / Reason", _T)
        ),
        rows=tuple(
            (e.enterprise, e.online_rate, reasons[e.review.value])
            for e in report.access.enterprises
            if e.review is not None
        ),
        zone=report.period.zone,
    )


def _installations(report: Report) -> Table:
    rows: list[tuple[Cell, ...]] = []
    for g in report.installations:
        i = g.identification
        if i is None:
            rows.append(
                (g.key, g.name, g.enterprise, None, None, None, "", "", "; ".join(g.problems))
            )
            continue
        rows.append(
            (
                g.key,
                g.name,
                g.enterprise,
                round(float(i.s), 4),
                round(float(i.r), 4),
                float(i.alpha),
                "是 / yes" if i.major_hazard else "否 / no",
                f"{i.grade_name} ({i.grade.value})" if i.grade is not None else "",
                "α assumed (people within 500 m not declared)"
                if i.alpha_basis == "assumed"
                else "",
            )
        )
    return Table(
        name="installations",
        title="重大危险源辨识与分级（GB 18218-2018）/ Major hazard installations",
        columns=_columns(
            ("装置 / Installation", _T),
            ("名称 / Name", _T),
            ("企业 / Enterprise", _T),
            ("S", _F),
            ("R", _F),
            ("α", _F),
            ("重大危险源 / Major hazard", _T),
            ("级别 / Grade", _T),
            ("说明 / Notes", _T),
        ),
        rows=tuple(rows),
        zone=report.period.zone,
    )


def _risk(report: Report) -> list[Table]:
    risk = report.risk
    if risk is None:
        return []
    return [
        Table(
            name="risk_now",
            title="当前风险等级 / Risk colours now",
            columns=_columns(
                ("对象 / Scope", _T),
                ("名称 / Name", _T),
                ("颜色 / Colour", _T),
                ("自 / Since", _TIME),
            ),
            rows=tuple(
                (s.scope_key, s.scope_name, f"{s.colour.chinese} / {s.colour.value}", s.since)
                for s in risk.standings
            ),
            zone=report.period.zone,
        ),
        Table(
            name="risk_changes",
            title="风险等级变化 / Risk colour changes",
            columns=_columns(
                ("时间 / Time", _TIME),
                ("对象 / Scope", _T),
                ("原颜色 / Before", _T),
                ("新颜色 / After", _T),
                ("原因 / Reason", _T),
            ),
            rows=tuple(
                (
                    c.at,
                    c.scope_key,
                    "" if c.before is None else c.before.value,
                    c.after.value,
                    c.reason,
                )
                for c in risk.changes
            ),
            zone=report.period.zone,
        ),
    ]
