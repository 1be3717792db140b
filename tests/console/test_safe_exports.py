"""Exports safe to open (issue 13, item 5): a hostile roster never yields a live formula in a CSV or
XLSX the service writes, a control character never breaks a workbook, and the roster refuses school
codes outside a safe alphabet and names with control characters, by row."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from openpyxl import load_workbook

from support.console_session import login
from support.helpers import fetch
from support.respondents import random_respondents, store
from survey_service.core.spreadsheet import FORMULA_START
from survey_service.schools.roster import RosterError, parse_roster
from survey_service.schools.schemas import SchoolSpec

HOSTILE = {
    "WQ01": "=1+1",
    "WQ02": '=HYPERLINK("http://evil.example","点我")',
    "WQ03": "+cmd|' /C calc'!A0",
    "WQ04": "-2+3",
    "WQ05": "@SUM(1)",
    "WQ06": "\t=2+2",
    "WQ07": "铃声\x07小学",
}


def formulas(book) -> list[tuple[str, str, object]]:
    return [
        (sheet.title, cell.coordinate, cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]


async def test_hostile_school_names_never_become_formulas(console, demo_links, settings):
    survey = demo_links[0].survey
    for code, name in HOSTILE.items():
        await fetch(settings, "UPDATE school SET name = ? WHERE code = ? AND survey = ?", name, code, survey)
    await store(settings, survey, random_respondents(np.random.default_rng(3), 200, list(HOSTILE)))
    await login(console, "chief")

    links_csv = await console.get(f"/console/rounds/{survey}/links.csv")
    assert links_csv.status_code == 200
    cells = [cell for row in csv.reader(io.StringIO(links_csv.content.decode("utf-8-sig"))) for cell in row]
    assert not [cell for cell in cells if cell.startswith(FORMULA_START)]
    assert "'=1+1" in cells and "'-2+3" in cells and "'\t=2+2" in cells

    for path in ("links.xlsx", "results.xlsx"):
        response = await console.get(f"/console/rounds/{survey}/{path}")
        assert response.status_code == 200, path
        book = load_workbook(io.BytesIO(response.content))
        assert formulas(book) == [], path
        texts = {cell.value for sheet in book.worksheets for row in sheet.iter_rows() for cell in row}
        # As typed, stored as text; the bell character (which a workbook cannot hold) as "�".
        assert {"=1+1", "-2+3", "@SUM(1)", "铃声\ufffd小学"} <= texts, path


def test_the_roster_refuses_unsafe_codes_and_control_characters_by_row():
    header = "学校代码,学校名称,学段,城乡类型,学生数,家长数,教师数,校长数\n"
    rows = [
        "../etc,第一小学,小学,城区,10,10,2,1",
        "A/1,第二小学,小学,城区,10,10,2,1",
        "A B,第三小学,小学,城区,10,10,2,1",
        'A"1,第四小学,小学,城区,10,10,2,1',
        "OK-1_2,第五\x07小学,小学,城区,10,10,2,1",
        "OK-2,第六小学,小学,城区,10,10,2,1",
    ]
    with pytest.raises(RosterError) as refused:
        parse_roster("roster.csv", (header + "\n".join(rows)).encode(), SchoolSpec)
    problems = refused.value.problems
    assert [p.split("：")[0] for p in problems] == ["第 2 行", "第 3 行", "第 4 行", "第 5 行", "第 6 行"]
    assert all("只能由英文字母、数字、- 和 _ 组成" in p for p in problems[:4])
    assert "控制字符" in problems[4]


def test_a_download_name_cannot_break_its_header():
    """RFC 6266 / 5987: a plain ASCII name for old clients, the exact name percent-encoded."""
    from urllib.parse import unquote

    from survey_service.web.responses import content_disposition

    for name in ('A"1;x=\r\nSet-Cookie: a=b.zip', "乌恰县第一小学-家长.png", "../../etc/passwd", '"'):
        header = content_disposition(name)
        assert "\r" not in header and "\n" not in header
        plain, encoded = header.split("; filename=")[1].split("; filename*=UTF-8''")
        assert plain.count('"') == 2 and ";" not in plain and "/" not in plain
        assert unquote(encoded) == name and ";" not in encoded and " " not in encoded
