"""The results workbook: the report's sheets (总体, 分群体, 分学校, 分题目, 有效性, 分地域, 分学段, from
survey_service.results.workbook) and a de-identified 原始数据 sheet, one row per returned
questionnaire (see answer_sheet)."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from openpyxl.styles import Font

from analysis import SurveyResult
from survey_service.results.workbook import report_xlsx

RAW_SHEET = "原始数据"


def results_xlsx(result: SurveyResult, item_labels: dict[str, str], raw_header: list[str],
                 raw_rows: list[list[object]]) -> bytes:
    book = load_workbook(io.BytesIO(report_xlsx(result, item_labels)))
    sheet = book.create_sheet(RAW_SHEET)
    sheet.append(raw_header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in raw_rows:
        sheet.append(row)
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
