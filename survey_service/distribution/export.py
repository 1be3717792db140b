"""Links as files: CSV, XLSX, and QR file names."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from survey_service.distribution.service import LinkRow

COLUMNS = ["survey", "school_code", "school_name", "group", "group_label", "url"]


def _values(row: LinkRow) -> list:
    return [row.survey, row.school_code, row.school_name, row.group.value, row.group_label, row.url]


def links_csv(rows: list[LinkRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(_values(row) for row in rows)
    return buffer.getvalue()


def links_xlsx(rows: list[LinkRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "问卷链接"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(_values(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def qr_filename(row: LinkRow, fmt: str) -> str:
    return f"{row.school_code or 'county'}_{row.group.value}.{fmt}"
