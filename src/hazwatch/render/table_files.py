"""Tables as files: an XLSX workbook with one sheet per table (openpyxl), and a zip of one
CSV file per table.

In both, a table's first row is its header; numbers stay numbers. How each column kind is
written:

=========  ===============================================  ==================================
kind       XLSX                                             CSV
=========  ===============================================  ==================================
share      the fraction, formatted ``0.0%``                 the fraction (0–1); the header
                                                            says ``(0–1)``
time       a date-time in the table's zone (``yyyy-mm-dd    ``2027-01-15 08:00:00`` in that
           hh:mm``); the header names the zone              zone; the header names it
float/int  a number (integers ``0``, others General)        a number
empty      an empty cell                                    an empty field
=========  ===============================================  ==================================

CSV files are UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese
headers right) and CRLF line ends (RFC 4180); the zip holds ``<table name>.csv`` files in
the tables' order.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from hazwatch.render.report_tables import Cell, Column, ColumnKind, Table, local_time

SHEET_NAME_MAX = 31
"""Excel's limit on a sheet name."""
_HEADER_FILL = PatternFill("solid", start_color="F6F8FA", end_color="F6F8FA")
_HEADER_FONT = Font(bold=True)
_HEADER_BORDER = Border(bottom=Side(style="thin", color="8C959F"))
_FORMATS = {
    ColumnKind.SHARE: "0.0%",
    ColumnKind.TIME: "yyyy-mm-dd hh:mm",
    ColumnKind.INT: "0",
}


def header(column: Column, zone: str, *, csv_file: bool) -> str:
    if column.kind is ColumnKind.TIME:
        return f"{column.title} ({zone})"
    if column.kind is ColumnKind.SHARE and csv_file:
        return f"{column.title} (0–1)"
    return column.title


def xlsx_of(tables: Sequence[Table]) -> bytes:
    """One sheet per table, named after it, header row bold on a grey band and frozen."""
    book = Workbook()
    default = book.active
    if default is not None:
        book.remove(default)
    for table in tables:
        sheet = book.create_sheet(title=table.name[:SHEET_NAME_MAX])
        sheet.append([header(c, table.zone, csv_file=False) for c in table.columns])
        for row in table.rows:
            sheet.append(
                [_xlsx_value(c, v, table.zone) for c, v in zip(table.columns, row, strict=True)]
            )
        for cell in sheet[1]:
            cell.font, cell.fill, cell.border = _HEADER_FONT, _HEADER_FILL, _HEADER_BORDER
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for j, column in enumerate(table.columns, start=1):
            number_format = _FORMATS.get(column.kind)
            if number_format is not None:
                for (cell,) in sheet.iter_rows(min_row=2, min_col=j, max_col=j):
                    cell.number_format = number_format
            sheet.column_dimensions[get_column_letter(j)].width = _width(table, j - 1)
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_zip_of(tables: Sequence[Table]) -> bytes:
    """A zip of ``<name>.csv`` per table."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in tables:
            archive.writestr(f"{table.name}.csv", csv_of(table))
    return out.getvalue()


def csv_of(table: Table) -> bytes:
    """One table as CSV (UTF-8 with BOM, CRLF)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow([header(c, table.zone, csv_file=True) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [_csv_value(c, v, table.zone) for c, v in zip(table.columns, row, strict=True)]
        )
    return text.getvalue().encode("utf-8-sig")


def _xlsx_value(column: Column, value: Cell, zone: str) -> Cell | datetime:
    if value is None:
        return None
    if column.kind is ColumnKind.TIME and isinstance(value, int):
        # Excel has no time zones: the wall time of the zone the header names
        return local_time(value, zone).replace(tzinfo=None)
    return value


def _csv_value(column: Column, value: Cell, zone: str) -> Cell:
    if value is None:
        return ""
    if column.kind is ColumnKind.TIME and isinstance(value, int):
        return local_time(value, zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, float):
        return f"{value:.10g}"
    return value


def _width(table: Table, j: int) -> float:
    """A column wide enough for its header's longest line or its widest value, capped;
    CJK characters count double."""
    texts = [table.columns[j].title] + [str(row[j]) for row in table.rows if row[j] is not None]
    widest = max((sum(2 if ord(ch) > 0x2E7F else 1 for ch in t) for t in texts), default=8)
    if table.columns[j].kind is ColumnKind.TIME:
        widest = max(widest, 17)
    return float(min(max(widest + 2, 8), 60))
