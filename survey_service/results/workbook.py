"""The result as an XLSX workbook: sheets 总体, 分群体, 分学校, 分题目, 有效性, and 分地域 and 分学段 where
the roster gives them, and 分学校分题目 per questionnaire where the items per questionnaire are given
(numbers stay numbers; headers, item texts and questionnaire names in Chinese, no ids).

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
from survey_service.core.spreadsheet import xlsx_cell, xlsx_row
from survey_service.results import comparison_tables, improvement_tables
from survey_service.results.national_check import national_check_tables
from survey_service.results.questionnaire_items import all_items_table, school_item_table
from survey_service.results.ranking import ranked_schools_table
from survey_service.results.school_items import Shares
from survey_service.results.service import QuestionnaireItems
from survey_service.results.suggestions import SHEET_HEADER, SHEET_TITLE, SHEET_WIDTHS
from survey_service.results.tables import SUPPRESSED, domain_tables, report_tables

# The sheet a write-only Workbook's create_sheet() returns. Its class lives in a private module of
# openpyxl (worksheet._write_only), and openpyxl has no type hints (ignore_missing_imports): Any.
WriteOnlySheet: TypeAlias = Any

NUMBER_FORMATS = {"percent": "0.0%", "number": "0.000", "integer": "#,##0", "p_value": '[<0.001]"< 0.001";0.000'}
BOLD = Font(bold=True)


def report_xlsx(result: SurveyResult, item_labels: Mapping[str, str]) -> bytes:
    book = Workbook(write_only=True)
    write_report_sheets(book, result, item_labels)
    return saved(book)


def write_report_sheets(
    book: Workbook,
    result: SurveyResult,
    item_labels: Mapping[str, str],
    parts: list[QuestionnaireItems] | None = None,
    shares: list[Shares] | None = None,
) -> None:
    """The report's sheets. With the items per questionnaire (`parts`, and each one's school × item
    `shares`), as the printed report shows them: 分学校 ranked (by 调整后认可度), 分题目 with each
    questionnaire's own numbers and wording, and one 分学校分题目 sheet per questionnaire."""
    tables = [*report_tables(result, item_labels), *domain_tables(result)]
    if parts is not None:
        level = f"{result.confidence_level:.0%}"
        tables[2] = ranked_schools_table(result)
        tables[3] = all_items_table(parts, level)
        tables += [school_item_table(part, result, s) for part, s in zip(parts, shares or [])]
    tables[1:1] = national_check_tables(result)  # 迎检预判 beside 总体
    tables += comparison_tables.workbook_tables(result, comparison_tables.ItemNamer.of(parts, item_labels))
    tables += improvement_tables.workbook_tables(result, improvement_tables.ItemNames.of(parts, item_labels))
    for table in tables:
        sheet = new_sheet(book, table.title, [c.title for c in table.columns])
        formats = [NUMBER_FORMATS.get(column.format) for column in table.columns]
        for row in table.rows:
            sheet.append(
                [
                    _cell(sheet, SUPPRESSED if v is None else (None if v == "" else v), number_format)
                    for v, number_format in zip(row, formats)
                ]
            )


def write_suggestions_sheet(book: Workbook, rows: Iterable[list[object]]) -> None:
    """The 意见建议 sheet: school, group, day and the masked text (results/suggestions.py)."""
    sheet = new_sheet(book, SHEET_TITLE, SHEET_HEADER, widths=SHEET_WIDTHS, freeze="A2")
    for row in rows:
        sheet.append(xlsx_row(sheet, row))


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
    """A plain value, or a styled cell where it needs a format or a font; text as core.spreadsheet
    makes it safe (never a formula)."""
    if font is None and (number_format is None or not isinstance(value, (int, float))):
        return xlsx_cell(sheet, value)
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
