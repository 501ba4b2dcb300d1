"""A periodic report (``evaluate.report.Report``) as files: HTML with inline-SVG charts, PDF
from that HTML, a zip of CSV tables, and an XLSX workbook — in Chinese and English.

``report_files(report, formats)`` renders the formats asked for, each a ``ReportFile``
with its media type and a file name ``hazwatch-<scope key>-<period label>.<ext>``
(``hazwatch-jiangsu.east-2027-01.pdf``; the CSV zip ends ``.csv.zip``). Times are shown in
the report's zone, with the zone stated once in the header.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from hazwatch.domain.scope import ScopeKind
from hazwatch.evaluate.report import Report, ReportFile, ReportFormat
from hazwatch.evaluate.report_period import PeriodKind
from hazwatch.render.html import render_html
from hazwatch.render.pdf import html_to_pdf
from hazwatch.render.report_tables import PRIORITY_LABELS, cell_text, report_tables
from hazwatch.render.svg_chart import column_chart, paired_columns, ranking_bars
from hazwatch.render.table_files import csv_zip_of, xlsx_of

TEMPLATE = "report.html"

MEDIA_TYPES: Mapping[ReportFormat, str] = MappingProxyType(
    {
        ReportFormat.HTML: "text/html; charset=utf-8",
        ReportFormat.PDF: "application/pdf",
        ReportFormat.CSV: "application/zip",
        ReportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)
EXTENSIONS: Mapping[ReportFormat, str] = MappingProxyType(
    {
        ReportFormat.HTML: "html",
        ReportFormat.PDF: "pdf",
        ReportFormat.CSV: "csv.zip",
        ReportFormat.XLSX: "xlsx",
    }
)
LEVEL_LABELS: Mapping[ScopeKind, str] = MappingProxyType(
    {
        ScopeKind.REGION: "区域（监管）/ region (regulator)",
        ScopeKind.PARK: "园区 / park",
        ScopeKind.ENTERPRISE: "企业 / enterprise",
    }
)
KIND_LABELS: Mapping[PeriodKind, str] = MappingProxyType(
    {
        PeriodKind.DAY: "日报 / Daily report",
        PeriodKind.WEEK: "周报 / Weekly report",
        PeriodKind.MONTH: "月报 / Monthly report",
        PeriodKind.CUSTOM: "报告 / Report",
    }
)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

# WeasyPrint lays text out through fontconfig and Pango, which are not documented as safe
# to drive from several threads at once: one PDF at a time.
_PDF_LOCK = threading.Lock()


def file_name(scope_key: str, label: str, fmt: ReportFormat) -> str:
    """``hazwatch-<scope key>-<label>.<ext>``, with anything but ``A-Z a-z 0-9 . _ -``
    turned into ``_``."""
    stem = _UNSAFE.sub("_", f"hazwatch-{scope_key}-{label}").strip("_")
    return f"{stem}.{EXTENSIONS[fmt]}"


def report_context(report: Report) -> dict[str, object]:
    """The context of the report template."""
    tables = {t.name: t for t in report_tables(report)}
    access = report.access
    return {
        "report": report,
        "kind": KIND_LABELS[report.period.kind],
        "level": LEVEL_LABELS.get(report.scope.kind, report.scope.kind.value),
        "zone": report.period.zone,
        "tables": tables,
        "cell": cell_text,
        "series_chart": column_chart(
            [(p.label, float(p.annunciations)) for p in report.alarm_series],
            title="报警趋势 / Annunciations over time",
        ),
        "priority_chart": paired_columns(
            [
                (PRIORITY_LABELS[p.priority], p.share, p.target)
                for p in report.alarms.overall.priorities
            ],
            title="优先级分布 / Priority distribution vs target",
        ),
        "ranking_chart": ranking_bars(
            [(e.enterprise, e.online_rate) for e in access.enterprises],
            threshold=access.threshold,
            title="在线率排名 / Online-rate ranking",
        ),
    }


def report_html(report: Report) -> str:
    """The report as a whole HTML document (inline CSS and SVG, no external resources)."""
    return render_html(TEMPLATE, report_context(report))


def report_pdf(report: Report) -> bytes:
    return pdf_of(report_html(report))


def pdf_of(html: str) -> bytes:
    with _PDF_LOCK:
        return html_to_pdf(html)


def report_files(report: Report, formats: Sequence[ReportFormat]) -> tuple[ReportFile, ...]:
    """The report in each of ``formats``, in that order."""
    html: str | None = None
    files: list[ReportFile] = []
    for fmt in formats:
        if fmt in (ReportFormat.HTML, ReportFormat.PDF) and html is None:
            html = report_html(report)
        if fmt is ReportFormat.HTML and html is not None:
            data = html.encode("utf-8")
        elif fmt is ReportFormat.PDF and html is not None:
            data = pdf_of(html)
        elif fmt is ReportFormat.CSV:
            data = csv_zip_of(report_tables(report))
        else:
            data = xlsx_of(report_tables(report))
        files.append(
            ReportFile(
                format=fmt,
                media_type=MEDIA_TYPES[fmt],
                filename=file_name(report.scope.key, report.period.label, fmt),
                data=data,
            )
        )
    return tuple(files)
