"""The result as an XLSX workbook: sheets 总体, 分群体, 分学校, 分题目, 有效性, and 分地域 and 分学段 where
the roster gives them (numbers stay numbers)."""

from __future__ import annotations

import io
from collections.abc import Mapping

from analysis import SurveyResult
from openpyxl import Workbook
from openpyxl.styles import Font

from survey_service.results.tables import SUPPRESSED, domain_tables, report_tables

NUMBER_FORMATS = {"percent": "0.0%", "number": "0.000", "integer": "#,##0"}


def report_xlsx(result: SurveyResult, item_labels: Mapping[str, str]) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for table in [*report_tables(result, item_labels), *domain_tables(result)]:
        sheet = book.create_sheet(table.title)
        sheet.append([c.title for c in table.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([SUPPRESSED if v is None else (None if v == "" else v) for v in row])
            for cell, column in zip(sheet[sheet.max_row], table.columns):
                if column.format in NUMBER_FORMATS and isinstance(cell.value, (int, float)):
                    cell.number_format = NUMBER_FORMATS[column.format]
        for k, column in enumerate(table.columns):
            sheet.column_dimensions[sheet.cell(1, k + 1).column_letter].width = max(
                10, 2 * len(column.title) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
