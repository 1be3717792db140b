"""Links as files: CSV, XLSX, and QR file names."""

from __future__ import annotations

import csv
import io
import re
import unicodedata

from openpyxl import Workbook

from survey_service.core.spreadsheet import csv_row, xlsx_row
from survey_service.distribution.service import LinkRow

COLUMNS = ["survey", "school_code", "school_name", "group", "group_label", "url"]


def _values(row: LinkRow) -> list:
    return [row.survey, row.school_code, row.school_name, row.group.value, row.group_label, row.url]


def links_csv(rows: list[LinkRow]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(csv_row(_values(row)) for row in rows)
    return buffer.getvalue()


def links_xlsx(rows: list[LinkRow]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "问卷链接"
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(xlsx_row(sheet, _values(row)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# Characters Windows refuses in a file name, path separators among them; the dot too, so no part can
# end a name early ("CON.x" is a device on Windows) or climb out of a folder ("..").
_UNSAFE = re.compile(r'[<>:"/\\|?*.\s]+')


def safe_part(text: str, limit: int) -> str:
    """A piece of a file name from an uploaded roster's text, whatever it holds: no control or format
    characters, nothing Windows refuses, no separator; at most `limit` characters."""
    kept = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    return _UNSAFE.sub(" ", kept).strip()[:limit].strip() or "_"


def qr_filename(row: LinkRow, fmt: str) -> str:
    """Whose code it is, readably: `WQ01-乌恰县第一小学-家长.png`; `全县-其他群众.png` for a county group.
    At most about 200 bytes in UTF-8, within every file system's limit."""
    group = row.group_label.replace("/", "、")
    if not row.school_code:
        return f"全县-{group}.{fmt}"
    return f"{safe_part(row.school_code, 32)}-{safe_part(row.school_name, 40)}-{group}.{fmt}"


def qr_filenames(rows: list[LinkRow], fmt: str) -> list[str]:
    """qr_filename of each row, made unique (two hostile codes may clean up alike) with a -2, -3 suffix."""
    names: list[str] = []
    taken: set[str] = set()
    for row in rows:
        name = qr_filename(row, fmt)
        stem, k = name.removesuffix(f".{fmt}"), 1
        while name.lower() in taken:  # Windows file names ignore case
            k += 1
            name = f"{stem}-{k}.{fmt}"
        taken.add(name.lower())
        names.append(name)
    return names
