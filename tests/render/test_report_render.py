"""A monthly park report over a database holding a hand-made alarm journal and readings:
its content, its PDF (page 1 rendered to pixels) and its XLSX (opened with openpyxl) and
CSV tables — the numbers worked out by hand below."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime

import numpy as np
import pytest
from journaling import journal
from openpyxl import load_workbook

from hazwatch.domain.alarm import AlarmInput, AlarmState
from hazwatch.domain.batch import Batch
from hazwatch.domain.clock import DAY_MS, HOUR_MS, MINUTE_MS, Millis, to_millis
from hazwatch.domain.plant import PlantSpec
from hazwatch.domain.tag import ConditionKind, Priority
from hazwatch.evaluate.report import Report, ReportFile, ReportFormat
from hazwatch.evaluate.report_period import PeriodKind, period_of
from hazwatch.render.report_document import file_name, report_html
from hazwatch.runtime.report_production import NotReportableError, ReportMaker
from hazwatch.storage.database import Database
from hazwatch.storage.plant_repository import PlantRepository
from hazwatch.storage.readings.store import open_reading_store

U, R, N, A = AlarmState.UNACKED, AlarmState.RTN_UNACKED, AlarmState.NORMAL, AlarmState.ACKED
In = AlarmInput

# January 2027 in Asia/Shanghai (UTC+08:00 all year): 2026-12-31 16:00 UTC … 2027-01-31
# 16:00 UTC, 31 days = 44 640 minutes.
JAN = to_millis(datetime(2026, 12, 31, 16, tzinfo=UTC))
FEB = JAN + 31 * DAY_MS
MINUTES = 31 * 24 * 60


def local(day: int, hour: int = 0, minute: int = 0, second: int = 0) -> Millis:
    """An instant of January 2027, Shanghai wall time."""
    return JAN + (day - 1) * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * 1000


def _tag(key: str, limits: dict[str, object]) -> dict[str, object]:
    return {"key": key, "unit": "u", "range": [0, 100], "period_s": 60, "limits": limits}


PLANT = {
    "region": "jiangsu",
    "region_name": "Jiangsu",
    "parks": [
        {
            "key": "east",
            "name": "East Chemical Park",
            "enterprises": [
                {
                    "key": "acid",
                    "name": "Acid Works",
                    "sites": [
                        {
                            "key": "main",
                            "installations": [
                                {
                                    "key": "storage",
                                    "name": "Tank farm",
                                    "people_within_500m": 50,
                                    "inventories": [
                                        {"chemical": "chlorine", "cas": "7782-50-5", "tonnes": 12.5}
                                    ],
                                    "equipment": [
                                        {
                                            "key": "t101",
                                            "tags": [
                                                _tag(
                                                    "level",
                                                    {
                                                        "H": {"value": 80, "priority": "medium"},
                                                        "HH": {"value": 90, "priority": "high"},
                                                    },
                                                ),
                                                _tag("cl2", {"H": {"value": 1, "priority": "low"}}),
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                },
                {
                    "key": "salt",
                    "name": "Salt Co",
                    "sites": [
                        {
                            "key": "main",
                            "installations": [
                                {
                                    "key": "brine",
                                    "equipment": [
                                        {
                                            "key": "p1",
                                            "tags": [
                                                _tag("pressure", {"LL": {"value": 2}}),
                                            ],
                                        }
                                    ],
                                }
                            ],
                        }
                    ],
                },
            ],
        },
        {
            "key": "west",
            "name": "West Park",
            "enterprises": [
                {
                    "key": "steel",
                    "sites": [
                        {
                            "key": "mill",
                            "installations": [
                                {
                                    "key": "furnace",
                                    "equipment": [
                                        {"key": "bf1", "tags": [_tag("co", {"H": {"value": 24}})]}
                                    ],
                                }
                            ],
                        }
                    ],
                }
            ],
        },
    ],
}
LEVEL = "acid.main.storage.t101.level"
CL2 = "acid.main.storage.t101.cl2"
PRESSURE = "salt.main.brine.p1.pressure"
CO = "steel.mill.furnace.bf1.co"


def fill(db: Database) -> None:
    """The plant, a month of readings and the alarm journal.

    Readings, one a minute (period 60 s), sent a day at a time: level and cl2 every minute
    of January (44 640 each), pressure only in the first ten days (14 400); co in the west
    park too.

    Alarms (annunciations in January, Shanghai time):
    * level H (medium): activations at Jan 1 10:00:00, :20, :40, each cleared 5 s later —
      3 annunciations within one minute: chattering;
    * cl2 H (low): at Jan 5 00:00, 01:00, … 19:00 — 20 annunciations, the bad actor;
    * pressure LL (low): 12 at Jan 10 08:00:00 + 40 s × k — 12 in one 10-minute period: a
      flood (more than 10);
    * level HH (high): active and acknowledged since 2026-12-20: stale, no annunciation;
    * co H in the west park: outside the report.
    Total 35 = 3 + 20 + 12; low 32, medium 3.
    """
    plants = PlantRepository(db)
    plants.save(PlantSpec.model_validate(PLANT))
    tags = {t.key: t for t in plants.tags()}
    store = open_reading_store(db.engine)
    try:
        for key, count in ((LEVEL, MINUTES), (CL2, MINUTES), (PRESSURE, 10 * 24 * 60), (CO, 60)):
            for day in range(0, count, 24 * 60):  # a batch a day, received as the day ends
                ts = JAN + MINUTE_MS * np.arange(day, min(day + 24 * 60, count), dtype=np.int64)
                batch = Batch.of(
                    tag=[tags[key].id] * len(ts),
                    ts=ts,
                    value=np.full(len(ts), 50.0),
                    received=int(ts[-1]) + 2000,
                )
                store.write(batch)
    finally:
        store.close()
    chatter = []
    for k in range(3):
        at = local(1, 10, 0, 20 * k)
        chatter += [(at, In.ACTIVATE, U), (at + 5000, In.CLEAR, R)]
    journal(db, tags[LEVEL], ConditionKind.H, Priority.MEDIUM, chatter)
    hourly = []
    for hour in range(20):
        at = local(5, hour)
        hourly += [
            (at, In.ACTIVATE, U),
            (at + MINUTE_MS, In.CLEAR, R),
            (at + 2 * MINUTE_MS, In.ACKNOWLEDGE, N),
        ]
    journal(db, tags[CL2], ConditionKind.H, Priority.LOW, hourly)
    flood = []
    for k in range(12):
        at = local(10, 8, 0, 40 * k)
        flood += [(at, In.ACTIVATE, U), (at + 10_000, In.CLEAR, R)]
    journal(db, tags[PRESSURE], ConditionKind.LL, Priority.LOW, flood)
    since = to_millis(datetime(2026, 12, 20, tzinfo=UTC))
    journal(
        db,
        tags[LEVEL],
        ConditionKind.HH,
        Priority.HIGH,
        [(since, In.ACTIVATE, U), (since + MINUTE_MS, In.ACKNOWLEDGE, A)],
    )
    journal(db, tags[CO], ConditionKind.H, Priority.LOW, [(local(3), In.ACTIVATE, U)])


@pytest.fixture
def monthly(db: Database) -> tuple[Report, dict[ReportFormat, ReportFile]]:
    fill(db)
    plants = PlantRepository(db)
    park = plants.node_by_keys(["jiangsu", "east"])
    assert park is not None
    period = period_of(PeriodKind.MONTH, local(15))
    assert (period.start, period.end) == (JAN, FEB)
    report, files = ReportMaker(db=db, plants=plants).make(
        park, period, list(ReportFormat), now=FEB + HOUR_MS
    )
    return report, {f.format: f for f in files}


def test_the_monthly_park_report_holds_the_hand_counted_figures(
    monthly: tuple[Report, dict[ReportFormat, ReportFile]],
) -> None:
    report, _ = monthly
    assert (report.scope.key, report.scope.name, report.period.label) == (
        "jiangsu.east",
        "East Chemical Park",
        "2027-01",
    )
    overall = report.alarms.overall
    assert overall.annunciations == 35
    assert [(g.enterprise, g.annunciations) for g in report.alarms.groups] == [
        ("acid", 23),
        ("salt", 12),
    ]
    series = {p.label: p.annunciations for p in report.alarm_series}
    assert len(series) == 31
    assert (series["01-01"], series["01-05"], series["01-10"]) == (3, 20, 12)
    assert sum(series.values()) == 35
    shares = {p.priority: p.annunciations for p in overall.priorities}
    assert (shares[Priority.LOW], shares[Priority.MEDIUM], shares[Priority.HIGH]) == (32, 3, 0)
    assert [(b.tag_key, b.annunciations) for b in overall.bad_actors] == [
        (CL2, 20),
        (PRESSURE, 12),
        (LEVEL, 3),
    ]
    assert [(c.tag_key, c.most_in_window) for c in overall.chattering] == [(LEVEL, 3)]
    assert [(w.start, w.annunciations) for w in overall.flood_windows] == [(local(10, 8), 12)]
    assert [(s.tag_key, s.at_end) for s in overall.stale] == [(LEVEL, True)]
    # online rate: acid 2 × 44 640 of 2 × 44 640; salt 14 400 of 44 640 = 10/31
    rates = {e.enterprise: (e.rank, e.online_rate) for e in report.access.enterprises}
    assert rates == {"acid": (1, 1.0), "salt": (2, pytest.approx(10 / 31))}
    assert report.access.flagged == ("salt",)
    assert report.access.overall.online_rate == pytest.approx(
        (2 * MINUTES + 14_400) / (3 * MINUTES)
    )
    # chlorine 12.5 t, Q = 5 t: S = 2.5; β = 4 (Table 3), α = 1.5 (50 people, Table 5):
    # R = 1.5 × 4 × 2.5 = 15 → grade III (10 ≤ R < 50); the brine has no inventory
    [graded] = report.installations
    assert graded.key == "acid.main.storage" and graded.identification is not None
    assert float(graded.identification.s) == 2.5 and float(graded.identification.r) == 15
    assert graded.identification.grade is not None and graded.identification.grade.value == "III"
    assert report.risk is None


def test_the_html_shows_charts_and_tables_without_anything_from_a_network(
    monthly: tuple[Report, dict[ReportFormat, ReportFile]],
) -> None:
    report, files = monthly
    html = files[ReportFormat.HTML].data.decode("utf-8")
    assert html == report_html(report)
    assert html.count("<svg") == 3
    # 31 day columns, 4 priorities × (found, target), 2 enterprises ranked
    assert html.count('<rect class="bar" ') == 31
    assert (
        html.count('<rect class="bar found"') == 4 and html.count('<rect class="bar target"') == 4
    )
    assert html.count('<rect class="rank"') == 1  # acid
    assert html.count('<rect class="rank below"') == 1  # salt, below 90 %
    assert "West Park" not in html and "steel" not in html
    assert "月报 / Monthly report" in html and "32.3 %" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in html


def test_the_pdf_page_one_is_drawn(monthly: tuple[Report, dict[ReportFormat, ReportFile]]) -> None:
    import pypdfium2 as pdfium

    _, files = monthly
    pdf = files[ReportFormat.PDF]
    assert pdf.data.startswith(b"%PDF-") and pdf.media_type == "application/pdf"
    assert pdf.filename == "hazwatch-jiangsu.east-2027-01.pdf"
    document = pdfium.PdfDocument(pdf.data)
    try:
        assert len(document) >= 2
        page = document[0]
        pixels = page.render(scale=1).to_numpy()
        text = page.get_textpage().get_text_range()
        charts = document[1].render(scale=1).to_numpy()
    finally:
        document.close()
    # a blank page is all white; page 1 holds the header and the summary table
    ink = (pixels.min(axis=-1) < 128).mean()
    assert ink > 0.003, f"page 1 is blank ({ink:.2%} ink)"
    assert "Monthly report" in text and "East Chemical Park" in text
    # page 2 draws the charts: the bars' blue (#0969da) covers a visible share of it
    r, g, b = (charts[..., i].astype(int) for i in range(3))
    blue = (abs(r - 0x09) < 40) & (abs(g - 0x69) < 40) & (abs(b - 0xDA) < 40)
    assert blue.mean() > 0.002, f"no chart bars on page 2 ({blue.mean():.3%})"


def test_the_workbook_has_a_sheet_per_table_with_numbers_as_numbers(
    monthly: tuple[Report, dict[ReportFormat, ReportFile]],
) -> None:
    _, files = monthly
    xlsx = files[ReportFormat.XLSX]
    assert xlsx.filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(xlsx.data))
    assert book.sheetnames == [
        "summary",
        "alarm_series",
        "priorities",
        "alarm_groups",
        "bad_actors",
        "chattering",
        "stale",
        "floods",
        "data_access",
        "rejected",
        "flagged",
        "installations",
    ]
    summary = {row[0]: row[1] for row in book["summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["报警总数 / Annunciations"] == 35
    series = list(book["alarm_series"].iter_rows(min_row=2, values_only=True))
    assert len(series) == 31
    assert series[4][0] == datetime(2027, 1, 5) and series[4][2] == 20  # noqa: DTZ001 - wall time
    access = book["data_access"]
    assert access["A1"].font.bold
    rows = {r[1]: r for r in access.iter_rows(min_row=2, values_only=True)}
    assert rows["acid"][0] == 1 and rows["acid"][5] == 1
    assert rows["salt"][0] == 2 and rows["salt"][5] == pytest.approx(10 / 31)
    assert access["F3"].number_format == "0.0%"
    bad = list(book["bad_actors"].iter_rows(min_row=2, values_only=True))
    assert bad[0][1:5] == (CL2, "H", "低 / low", 20)
    assert bad[0][5] == pytest.approx(20 / 35)
    [installation] = book["installations"].iter_rows(min_row=2, values_only=True)
    assert installation[0] == "acid.main.storage"
    assert (installation[3], installation[4], installation[5]) == (2.5, 15, 1.5)
    assert [r[0] for r in book["flagged"].iter_rows(min_row=2, values_only=True)] == ["salt"]


def test_the_csv_zip_holds_one_file_per_sheet(
    monthly: tuple[Report, dict[ReportFormat, ReportFile]],
) -> None:
    _, files = monthly
    archive = zipfile.ZipFile(io.BytesIO(files[ReportFormat.CSV].data))
    assert archive.namelist()[:3] == ["summary.csv", "alarm_series.csv", "priorities.csv"]
    raw = archive.read("data_access.csv")
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][5] == "在线率 / Online rate (0–1)"
    salt = next(r for r in rows[1:] if r[1] == "salt")
    assert float(salt[5]) == pytest.approx(10 / 31)
    series = list(csv.reader(io.StringIO(archive.read("alarm_series.csv").decode("utf-8-sig"))))
    assert series[0][0] == "开始 / Start (Asia/Shanghai)"
    assert series[5][:3] == ["2027-01-05 00:00:00", "2027-01-06 00:00:00", "20"]


def test_only_regions_parks_and_enterprises_get_reports(db: Database) -> None:
    fill(db)
    plants = PlantRepository(db)
    site = plants.node_by_keys(["jiangsu", "east", "acid", "main"])
    assert site is not None
    with pytest.raises(NotReportableError, match="not for a site"):
        ReportMaker(db=db, plants=plants).scope_of(site)
    assert file_name("a b", "2027-01-01 08:00 – 2027-01-02 08:00", ReportFormat.CSV) == (
        "hazwatch-a_b-2027-01-01_08_00_2027-01-02_08_00.csv.zip"
    )
