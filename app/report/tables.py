"""CSV (UTF-8 with BOM, so Excel reads Chinese) and XLSX (XlsxWriter) from plain rows.

Times are local, zone-aware datetimes: CSV writes them as ISO 8601 with the offset, XLSX as
real spreadsheet dates (local wall time, which a spreadsheet cannot store a zone with).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import xlsxwriter


@dataclass(frozen=True, slots=True)
class Sheet:
    name: str
    header: Sequence[str]
    rows: Sequence[Sequence[object]]
    note: str | None = None


def _cell(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(sheet.header)
    for row in sheet.rows:
        writer.writerow([_cell(v) for v in row])
    if sheet.note:
        writer.writerow([sheet.note])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(sheets: Sequence[Sheet]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_urls": False})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for sheet in sheets:
        page = book.add_worksheet(sheet.name[:31])
        page.freeze_panes(1, 0)
        widths = [max(8, len(str(h)) * 2) for h in sheet.header]
        for column, title in enumerate(sheet.header):
            page.write(0, column, title, bold)
        for index, row in enumerate(sheet.rows, start=1):
            for column, value in enumerate(row):
                if isinstance(value, datetime):
                    page.write_datetime(index, column, value.replace(tzinfo=None), when)
                    widths[column] = max(widths[column], 20)
                    continue
                if isinstance(value, date):
                    page.write_datetime(index, column, value, day)
                    widths[column] = max(widths[column], 12)
                    continue
                cell = _cell(value)
                page.write(index, column, cell)
                widths[column] = min(60, max(widths[column], len(str(cell)) + 2))
        for column, width in enumerate(widths):
            page.set_column(column, column, width)
        if sheet.note:
            page.write(len(sheet.rows) + 2, 0, sheet.note)
    book.close()
    return buffer.getvalue()
