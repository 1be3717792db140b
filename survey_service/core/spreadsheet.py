"""Cells a spreadsheet opens safely: whatever a roster or a respondent typed must never run as a
formula in Excel, WPS or LibreOffice (OWASP: CSV injection), nor make a workbook unwritable.

Every CSV and XLSX the service writes passes its rows through `csv_row` or `xlsx_row`: in a CSV a text
that would start a formula gets a leading apostrophe (the OWASP advice); in an XLSX it stays as typed
but is stored as text, which no spreadsheet evaluates; characters an XLSX cannot hold become "�".
"""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

# A cell beginning with one of these is read as a formula (tab and carriage return: an importer may
# strip them and leave a formula behind).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REPLACEMENT = "\ufffd"


def csv_cell(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_row(values: Iterable[object]) -> list[object]:
    return [csv_cell(value) for value in values]


def xlsx_cell(sheet, value: object) -> object:
    """A value for `sheet.append`: text that could start a formula as a cell typed text."""
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub(REPLACEMENT, value)
    if not text.startswith(FORMULA_START):
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # openpyxl would store "=…" as a formula
    return cell


def xlsx_row(sheet, values: Iterable[object]) -> list[object]:
    return [xlsx_cell(sheet, value) for value in values]
