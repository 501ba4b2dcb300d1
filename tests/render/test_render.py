"""Documents: HTML from the packaged templates, PDF from that HTML, the incident report."""

from __future__ import annotations

import ctypes
import os
import re
import subprocess
from typing import Any

import pytest
from jinja2 import TemplateNotFound, UndefinedError

from hazwatch.render.html import duration, render_html, when, zone_label
from hazwatch.render.incident_report import (
    UnknownZoneError,
    incident_report,
    incident_report_html,
)
from hazwatch.render.pdf import html_to_pdf
from hazwatch.respond.checklist import Summary, update_task
from hazwatch.respond.incident import (
    EntryKind,
    Opening,
    ScopeRef,
    Source,
    SourceKind,
    Task,
    TaskStatus,
    TimelineEntry,
    add_note,
    open_from_plan,
)
from hazwatch.respond.plan import builtin_plans

# 1 800 000 000 s = 20 833 days + 28 800 s; 20 833 days after 1970-01-01 is 2027-01-15
# (57 years with 14 leap days = 20 819 days to 2027-01-01, then 14 more): 08:00:00 UTC.
T0 = 1_800_000_000_000
MIN = 60_000


def _report_parts() -> tuple[Opening, list[Task], list[TimelineEntry]]:
    opening = open_from_plan(
        builtin_plans()["chlorine-release"],
        key="0123456789abcdef",
        scope=ScopeRef(key="acid.main.storage", path="/1/2/3/4/5/"),
        source=Source(kind=SourceKind.ALARM, ref="42.HH", run="run-1"),
        now=T0,
        actor="system",
    )
    done = update_task(
        opening.incident, opening.tasks[0], now=T0 + 2 * MIN, actor="op-a", status=TaskStatus.DONE
    )
    told = TimelineEntry(
        key="order:zhang",
        at=T0 + MIN,
        kind=EntryKind.MESSAGE,
        actor="system",
        text="已通知 zhang.wei（站内信）/ told zhang.wei (in-app)",
    )
    note = add_note(
        opening.incident, "碱液吸收塔已启动 <b>scrubber</b>", now=T0 + 3 * MIN, actor="op-b"
    )
    tasks = [done.task, *opening.tasks[1:]]
    timeline = [opening.entries[0], told, *done.entries, note]
    return opening, tasks, timeline


def test_times_and_spans_read_as_people_write_them() -> None:
    assert when(T0, "UTC") == "2027-01-15 08:00:00+00:00"
    assert when(T0, "Asia/Shanghai") == "2027-01-15 16:00:00+08:00"
    assert when(T0, "Asia/Shanghai", offset=False) == "2027-01-15 16:00:00"
    assert when(None) == ""
    assert zone_label(T0, "Asia/Shanghai") == "Asia/Shanghai (UTC+08:00)"
    assert duration(3_900_000) == "1 h 05 min"
    assert duration(250_000) == "4 min 10 s"
    assert duration(12_999) == "12 s"


def test_templates_escape_values_and_refuse_missing_ones() -> None:
    opening, tasks, timeline = _report_parts()
    html = incident_report_html(opening.incident, tasks, timeline, now=T0 + 20 * MIN)
    assert "&lt;b&gt;scrubber&lt;/b&gt;" in html and "<b>scrubber" not in html
    with pytest.raises(UndefinedError):
        render_html("incident.html", {})
    with pytest.raises(TemplateNotFound):
        render_html("nothing.html", {})
    assert "http://" not in html and "https://" not in html, "nothing from a network"


def test_the_report_holds_header_tasks_timeline_and_counts() -> None:
    opening, tasks, timeline = _report_parts()
    now = T0 + 20 * MIN
    html = incident_report_html(opening.incident, tasks, timeline, now=now, zone="Asia/Shanghai")
    assert len(re.findall(r'<tr class="entry ', html)) == len(timeline) == 4
    assert len(re.findall(r'<tr class="task" ', html)) == len(tasks) == 9
    for entry in timeline:
        assert entry.actor in html
    assert "已通知 zhang.wei" in html
    assert "红色（一级）/ red (level 1)" in html
    assert "acid.main.storage" in html and "chlorine-release v1" in html
    assert "2027-01-15 16:00:00+08:00" in html, "opened, in Shanghai time"
    # at T0 + 20 min the chlorine plan's open tasks due at 5, 10, 10, 15 and 15 min are late
    context = incident_report(opening.incident, tasks, timeline, now=now)
    summary = context["summary"]
    assert isinstance(summary, Summary)
    assert (summary.done, summary.open, summary.overdue) == (1, 8, 5)
    assert "5 超时 / overdue" in html
    with pytest.raises(UnknownZoneError, match="Mars/Olympus"):
        incident_report(opening.incident, tasks, timeline, now=now, zone="Mars/Olympus")


def _cjk_font_installed() -> bool:
    try:
        found = subprocess.run(["fc-list"], capture_output=True, text=True, check=False).stdout
    except FileNotFoundError:
        return False
    return "noto sans cjk" in found.lower()


def _font_of(textpage: Any, index: int) -> str:
    """The name of the font character ``index`` of a page is drawn with."""
    from pypdfium2 import raw

    size = raw.FPDFText_GetFontInfo(textpage.raw, index, None, 0, None)
    buffer = ctypes.create_string_buffer(size)
    raw.FPDFText_GetFontInfo(textpage.raw, index, buffer, size, None)
    return buffer.value.decode("utf-8", "replace")


def test_the_pdf_report_is_drawn_with_chinese_glyphs() -> None:
    import pypdfium2 as pdfium

    opening, tasks, timeline = _report_parts()
    html = incident_report_html(opening.incident, tasks, timeline, now=T0 + 20 * MIN)
    pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF-")
    document = pdfium.PdfDocument(pdf)
    try:
        assert len(document) >= 1
        page = document[0]
        pixels = page.render(scale=1).to_numpy()
        textpage = page.get_textpage()
        text = textpage.get_text_range()
        font = _font_of(textpage, text.index("事"))
    finally:
        document.close()
    # a blank page is all white: ink must cover a visible share of page 1
    ink = (pixels.min(axis=-1) < 128).mean()
    assert ink > 0.01, f"page 1 is blank ({ink:.2%} ink)"
    assert "Incident report" in text
    assert "事件报告" in text, "the Chinese text is in the PDF"
    if not _cjk_font_installed():
        message = "no Noto Sans CJK font (Debian: fonts-noto-cjk): Chinese glyphs not checked"
        if os.environ.get("HAZWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail(message)
        pytest.skip(message)
    assert "Noto-Sans-CJK" in font, f"事 is drawn with {font}, not a CJK font"
