"""整改清单 on a real round (the demo county's simulated answers, with its weaker schools and items, in a
fresh database of each backend): `report` as JSON, Markdown and XLSX, and `analyze` on CSV answers."""

from __future__ import annotations

import asyncio
import io
import json
import re

import numpy as np
import openpyxl
import pytest
from click.testing import CliRunner

from survey_service.cli import main
from survey_service.core.groups import GROUP_LABELS
from survey_service.core.resources import questionnaires_dir
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.demo.county import demo_schools
from survey_service.demo.service import ensure_demo_round
from survey_service.demo.simulate import fill_demo_round
from survey_service.questionnaire import load_questionnaires
from survey_service.results.improvement_tables import ITEMS_SHEET, SECTION, SHEET, UNTESTED
from survey_service.results.questionnaire_items import item_numbers, short_title

QUESTIONNAIRES = load_questionnaires(questionnaires_dir())
ITEM_IDS = {item.id for q in QUESTIONNAIRES.values() for item in q.rated_items}


@pytest.fixture
def demo_round(settings) -> int:
    """The demo round filled as `survey-service demo` fills it (about 1,500 answers)."""

    async def prepare() -> int:
        engine = bind(make_engine(settings))
        await open_pool(engine)
        try:
            survey_id = await ensure_demo_round(QUESTIONNAIRES)
            await fill_demo_round(settings, survey_id, QUESTIONNAIRES)
        finally:
            await close_pool(engine)
        return survey_id

    return asyncio.run(prepare())


def run(settings, *args: str):
    got = CliRunner().invoke(main, ["report", "--db", settings.database_url, *args])
    assert got.exit_code == 0, got.output
    return got


def test_report_json_lists_the_cells_below_the_county(settings, demo_round):
    body = json.loads(run(settings, "--survey", str(demo_round), "--format", "json").stdout)
    found = body["improvement"]
    assert found["fdr"] == 0.1 and found["min_rated"] == body["design"]["min_cell_size"] == 5
    flagged, untested = found["flagged"], found["untested"]
    assert len(flagged) >= 5 and untested
    assert {c["questionnaire"] for c in flagged} <= set(QUESTIONNAIRES)  # items per questionnaire
    for cell in flagged:
        assert cell["p_value"] <= cell["p_adjusted"] <= 0.1
        assert cell["gap"] == pytest.approx(cell["estimate"] - cell["county"]) and cell["gap"] < 0
        assert cell["ci_low"] <= cell["estimate"] <= cell["ci_high"] and cell["n"] >= 5
        assert cell["estimate"] < cell["rest"]
    assert [c["p_adjusted"] for c in flagged] == sorted(c["p_adjusted"] for c in flagged)
    assert all(c["n"] < 5 for c in untested)
    tested = {(c["kind"], c["key"], c["questionnaire"], c["item"]) for c in flagged}
    assert not tested & {(c["kind"], c["key"], c["questionnaire"], c["item"]) for c in untested}
    names = {s.code: s.name for s in demo_schools()}
    assert all(c["name"] == names[c["key"]] for c in flagged + untested if c["kind"] == "school")
    # An item only the 校长教师卷 asks: its groups' county figures are the JSON's own item rows.
    weights = body["overall"]["group_weights"]
    items = {row["key"]: row for row in body["items"]}
    pay = next(row for row in found["items"] if row["item"] == "teacher_pay")
    for group, value in pay["groups"].items():
        p = items["teacher_pay"]["groups"][group]["estimate"]
        assert value == pytest.approx(weights[group] * max(0.0, body["target"] - p), abs=1e-12)
    assert pay["contribution"] == pytest.approx(sum(pay["groups"].values()))
    assert sum(row["share"] for row in found["items"]) == pytest.approx(1.0)
    contributions = [row["contribution"] for row in found["items"]]
    assert contributions == sorted(contributions, reverse=True)


def _item_text(questionnaire: str, item: str) -> tuple[str, str]:
    q = QUESTIONNAIRES[questionnaire]
    text = next(i.text for i in q.rated_items if i.id == item)
    return f"{short_title(q)} 题{item_numbers(q)[item]}", text


def test_report_markdown_has_the_section_in_chinese(settings, demo_round):
    body = json.loads(run(settings, "--survey", str(demo_round), "--format", "json").stdout)
    text = run(settings, "--survey", str(demo_round), "--format", "md").stdout
    section = text[text.index(f"## {SECTION}") :]
    section = section[: section.index("\n## ", 5)]
    first = body["improvement"]["flagged"][0]
    number, item = _item_text(first["questionnaire"], first["item"])
    unit = first["name"] if first["kind"] == "school" else f"全县{GROUP_LABELS[first['group']]}"
    assert f"| {unit} | " in section and f"| {number} | {item} |" in section
    assert "### 各题目对全县缺口的贡献" in section and UNTESTED in section and "Benjamini–Hochberg" in section
    assert not ITEM_IDS & set(re.findall(r"[a-z_]+", section))  # no item id
    assert not re.search(r"\bWQ\d", section)  # no school code


def test_report_workbook_sheets(settings, demo_round, tmp_path):
    body = json.loads(run(settings, "--survey", str(demo_round), "--format", "json").stdout)
    out = tmp_path / "results.xlsx"
    run(settings, "--survey", str(demo_round), "--format", "xlsx", "--out", str(out))
    book = openpyxl.load_workbook(io.BytesIO(out.read_bytes()))
    sheet = list(book[SHEET].values)
    header, rows = sheet[0], sheet[1:]
    assert header[:4] == ("单元", "类别", "题号", "题目") and header[-1] == "结论"
    flagged, untested = body["improvement"]["flagged"], body["improvement"]["untested"]
    assert [r[-1] for r in rows] == [SECTION] * len(flagged) + [UNTESTED] * len(untested)
    first, cell = rows[0], flagged[0]
    assert first[4] == pytest.approx(cell["estimate"]) and first[10] == pytest.approx(cell["p_adjusted"])
    assert (first[2], first[3]) == _item_text(cell["questionnaire"], cell["item"])
    words = {str(v) for r in sheet for v in r if v is not None}
    assert not words & ITEM_IDS and not any(re.match(r"WQ\d", w) for w in words)
    items = list(book[ITEMS_SHEET].values)
    assert items[0][:3] == ("排名", "题号", "题目")
    top = body["improvement"]["items"][0]
    assert items[1][4] == pytest.approx(top["contribution"] * 100)


def test_analyze_lists_a_weak_school_on_an_item(tmp_path):
    """CSV answers: 乙小学's parents are satisfied with equity_policy only 40% of the time (60 answers),
    甲小学's and 丙小学's 90%; the other item is 90% everywhere."""
    rng = np.random.default_rng(4)
    lines = ["group,school,moral_education,equity_policy"]
    for school, rate in (("A", 0.9), ("B", 0.4), ("C", 0.9)):
        for _ in range(60):
            lines.append(
                f"parent,{school},"
                + ("满意" if rng.random() < 0.9 else "不满意")
                + ","
                + ("满意" if rng.random() < rate else "不满意")
            )
    lines += ["deputy,,满意,满意"] * 3  # three deputies: too few to test
    roster = "code,name,students,parents,teachers,principals\nA,甲小学,300,300,20,1\nB,乙小学,300,300,20,1\n"
    roster += "C,丙小学,300,300,20,1\n"
    (tmp_path / "answers.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "schools.csv").write_text(roster, encoding="utf-8")
    args = ["analyze", str(tmp_path / "answers.csv"), "--schools", str(tmp_path / "schools.csv")]
    args += ["--questionnaire", str(questionnaires_dir() / "social.toml"), "--population", "deputy=30"]
    got = CliRunner().invoke(main, [*args, "--format", "json"])
    assert got.exit_code == 0, got.output
    found = json.loads(got.stdout)["improvement"]
    assert [(c["key"], c["item"]) for c in found["flagged"]] == [("B", "equity_policy")]
    assert {(c["kind"], c["key"]) for c in found["untested"]} == {("group", "deputy")}
    assert found["items"][0]["item"] == "equity_policy" and found["items"][0]["contribution"] > 0
    text = CliRunner().invoke(main, [*args, "--format", "md"]).stdout
    equity = next(i.text for i in QUESTIONNAIRES["social"].rated_items if i.id == "equity_policy")
    assert f"## {SECTION}" in text and f"| 乙小学 | 学校 |  | {equity} |" in text
    assert "全县人大代表/政协委员 1 题" not in text and "全县人大代表/政协委员 2 题" in text
