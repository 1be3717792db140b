"""The result as an XLSX workbook: sheets 总体, 分群体, 分学校, 分题目, 有效性, and 分地域 and 分学段 where
the roster gives them (numbers stay numbers).

Workbooks are written in openpyxl's write-only mode, row by row: the console's results workbook adds
one row per answer (原始数据), and a workbook held cell by cell took 93 s and 2.8 GB at 300,000
answers."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any, TypeAlias

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from analysis import SurveyResult
from survey_service.results.tables import SUPPRESSED, domain_tables, report_tables

# The sheet a write-only Workbook's create_sheet() returns. Its class lives in a private module of
# openpyxl (worksheet._write_only), and openpyxl has no type hints (ignore_missing_imports): Any.
WriteOnlySheet: TypeAlias = Any

NUMBER_FORMATS = {"percent": "0.0%", "number": "0.000", "integer": "#,##0"}
BOLD = Font(bold=True)


def report_xlsx(result: SurveyResult, item_labels: Mapping[str, str]) -> bytes:
    book = Workbook(write_only=True)
    write_report_sheets(book, result, item_labels)
    return saved(book)


def write_report_sheets(book: Workbook, result: SurveyResult, item_labels: Mapping[str, str]) -> None:
    for table in [*report_tables(result, item_labels), *domain_tables(result)]:
        sheet = new_sheet(book, table.title, [c.title for c in table.columns])
        formats = [NUMBER_FORMATS.get(column.format) for column in table.columns]
        for row in table.rows:
            sheet.append(
                [
                    _cell(sheet, SUPPRESSED if v is None else (None if v == "" else v), number_format)
                    for v, number_format in zip(row, formats)
                ]
            )


def new_sheet(
    book: Workbook, title: str, header: list[str], widths: Iterable[int] | None = None, freeze: str | None = None
) -> WriteOnlySheet:
    """A write-only sheet with its column widths (by default from the titles) and a bold header row."""
    sheet = book.create_sheet(title)
    for k, width in enumerate(widths if widths is not None else (max(10, 2 * len(t) + 2) for t in header)):
        sheet.column_dimensions[get_column_letter(k + 1)].width = width
    if freeze:
        sheet.freeze_panes = freeze
    sheet.append([_cell(sheet, title, font=BOLD) for title in header])
    return sheet


def _cell(sheet: WriteOnlySheet, value: object, number_format: str | None = None, font: Font | None = None) -> object:
    """A plain value, or a styled cell where it needs a format or a font."""
    if font is None and (number_format is None or not isinstance(value, (int, float))):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    if number_format:
        cell.number_format = number_format
    if font:
        cell.font = font
    return cell


def saved(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
