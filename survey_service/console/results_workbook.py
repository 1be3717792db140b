"""The results workbook: the report's sheets (总体, 分群体, 分学校, 分题目, 有效性, 分地域, 分学段, from
survey_service.results.workbook) and a de-identified 原始数据 sheet, one row per returned
questionnaire (see answer_sheet)."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl import Workbook

from analysis import SurveyResult
from survey_service.results.workbook import new_sheet, saved, write_report_sheets

RAW_SHEET = "原始数据"


def results_xlsx(result: SurveyResult, item_labels: dict[str, str], raw_header: list[str],
                 raw_rows: Iterable[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    write_report_sheets(book, result, item_labels)
    sheet = new_sheet(book, RAW_SHEET, raw_header, widths=(), freeze="B2")
    for row in raw_rows:
        sheet.append(row)
    return saved(book)
