"""`survey-service report`: JSON, Markdown and XLSX from the database, on every backend."""

from __future__ import annotations

import io
import json

import openpyxl
import pytest
from click.testing import CliRunner

from survey_service.cli import main
from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires
from survey_service.results.questionnaire_items import short_title


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_report_json(settings, answered_round):
    got = run("report", "--db", settings.database_url, "--format", "json")
    assert got.exit_code == 0, got.output
    body = json.loads(got.stdout)
    assert body["overall"]["verdict"] in ("met", "not_met", "inconclusive")
    assert body["validity"]["returned"] == 300


def test_report_markdown(settings, answered_round):
    got = run("report", "--db", settings.database_url, "--survey", str(answered_round), "--format", "md")
    assert got.exit_code == 0, got.output
    text = got.stdout
    for heading in ("## 总体", "## 分群体", "## 分学校", "## 分地域", "## 分学段", "道题目", "## 问卷有效性"):
        assert heading in text
    assert any(word in text for word in ("**达标**", "**未达标**", "**待定**"))
    assert "| 家长 |" in text and "乌恰县第一小学" in text and "| 乡村 |" in text and "| 初中 |" in text
    # Principal cells (1 to 3 per school) are too small to show.
    assert "—" in text


def test_report_xlsx_agrees_with_json(settings, answered_round, tmp_path):
    out = tmp_path / "report.xlsx"
    assert run("report", "--db", settings.database_url, "--format", "xlsx", "--out", str(out)).exit_code == 0
    body = json.loads(run("report", "--db", settings.database_url, "--format", "json").stdout)
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    # The console's results workbook (the file the bureau downloads), from the command line.
    questionnaires = load_questionnaires(questionnaires_dir())
    assert book.sheetnames == [
        *("总体", "迎检预判", "分群体", "分学校", "分题目", "有效性", "分地域", "分学段"),
        *[f"分学校分题目（{short_title(q)}）" for q in questionnaires.values()],
        *("整改清单", "题目缺口贡献"),
        *("意见建议", "原始数据", "检查点"),
    ]
    overall = [c.value for c in book["总体"][2]]
    assert overall[1:4] == pytest.approx([body["overall"][k] for k in ("estimate", "ci_low", "ci_high")])
    assert overall[11] in ("达标", "未达标", "待定")
    groups = {row[0]: row for row in book["分群体"].iter_rows(min_row=2, values_only=True)}
    assert groups["家长"][2] == pytest.approx(body["groups"]["parent"]["estimate"])
    assert groups["家长"][1] == pytest.approx(body["overall"]["group_weights"]["parent"])
    # 分学校 is ranked (名次, 学校代码, 学校, 学段, 位置, 调整后认可度, …, 认可度（直接估计）, …), as the printed
    # report ranks it: by the adjusted figure, the direct one beside it.
    titles = [c.value for c in book["分学校"][1]]
    schools = {row[1]: row for row in book["分学校"].iter_rows(min_row=2, values_only=True)}
    for row in body["schools"]:
        shown = schools[row["key"]][titles.index("认可度（直接估计）")]
        assert shown == "—" if row["overall"]["suppressed"] else shown == pytest.approx(row["overall"]["estimate"])
    # 分题目: each questionnaire's items under its own name, number and wording.
    items = [row for row in book["分题目"].iter_rows(min_row=2, values_only=True)]
    assert [(row[0], row[2]) for row in items] == [
        (short_title(q), item.text) for q in questionnaires.values() for item in q.rated_items
    ]
    validity = {row[0]: row for row in book["有效性"].iter_rows(min_row=2, values_only=True)}
    assert validity["回收问卷"][1] == 300
    assert validity["有效问卷"][2] == pytest.approx(body["validity"]["rate"])
    for sheet, key in (("分地域", "locations"), ("分学段", "stages")):
        rows = {row[0]: row for row in book[sheet].iter_rows(min_row=2, values_only=True)}
        assert set(rows) == {row["key"] for row in body[key]}
        for row in body[key]:
            assert rows[row["key"]][1] == pytest.approx(row["overall"]["estimate"])


def test_report_on_an_unknown_round(settings, answered_round):
    got = CliRunner().invoke(main, ["report", "--db", settings.database_url, "--survey", "42"])
    assert got.exit_code == 1 and "找不到编号为 42 的调查轮次" in got.output
    assert "Traceback" not in got.output
