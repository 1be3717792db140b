"""The results page, the printable report, the results workbook and a school's own results, on a round
with answers stored as the respondent path stores them (on every backend)."""

from __future__ import annotations

import io
import re

import msgspec
import pytest
from openpyxl import load_workbook

from analysis import SurveyResult
from support.console_session import login
from support.helpers import fetch, insert_responses
from support.planned_answers import COLUMNS, DEVICE_HASH, NONCE_MARK, PLAN, QUESTIONNAIRES, planned_rows
from support.respondents import store, uniform


async def store_answers(settings, survey_id: int) -> int:
    found = await fetch(
        settings,
        "SELECT link.id AS link, link.school AS school, school.code AS code, "
        "link.respondent_group AS grp FROM link LEFT JOIN school ON school.id = link.school "
        "WHERE link.survey = ?",
        survey_id,
    )
    links = {(row["grp"], row["code"]): (row["link"], row["school"]) for row in found}
    rows = planned_rows(survey_id, links)
    await insert_responses(settings, COLUMNS, rows)
    return len(rows)


@pytest.fixture
async def answered(console, demo_links, settings) -> int:
    survey_id = demo_links[0].survey
    await store_answers(settings, survey_id)
    return survey_id


async def round_result(client, survey_id: int) -> SurveyResult:
    """round_result through the JSON API (it serves it unchanged; floats round-trip exactly). The app
    under test holds the database pool on its own event loop, so the test does not call it directly."""
    response = await client.get(f"/api/v1/surveys/{survey_id}/results")
    assert response.status_code == 200
    return msgspec.json.decode(response.content, type=SurveyResult)


def section(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("</section>", start)]


def table_values(html: str) -> list[list[str]]:
    """data-value of every cell of the first table in html, row by row."""
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.findall(r'data-value="([^"]*)"', row) for row in body.split("</tr>") if "data-value" in row]


def number(text: str) -> float | None:
    return None if text == "" else float(text)


async def test_the_results_page_shows_the_result_of_the_round(console, answered):
    survey_id = answered
    await login(console, "chief")
    home = await console.get("/console")
    assert f'href="/console/rounds/{survey_id}/results"' in home.text
    page = await console.get(f"/console/rounds/{survey_id}/results")
    assert page.status_code == 200
    html = page.text
    result = await round_result(console, survey_id)
    o = result.overall
    [overall] = table_values(section(html, "overall"))
    assert [number(v) for v in overall[1:4]] == [o.estimate, o.ci_low, o.ci_high]
    assert number(overall[4]) == o.se and int(overall[5]) == o.n and number(overall[-1]) == o.p_value
    verdict = {"met": "达标", "not_met": "未达标", "inconclusive": "待定"}[o.verdict]
    assert f'class="verdict {o.verdict}">{verdict}<' in html and "单侧检验 p " in html
    assert (
        f"p = {o.p_value:.3f}" if 0.001 <= o.p_value <= 0.999 else "p < 0.001" if o.p_value < 0.001 else "p > 0.999"
    ) in html
    assert f"{o.estimate:.1%}" in html and f"{o.ci_low:.1%}–{o.ci_high:.1%}" in html

    groups = table_values(section(html, "groups"))
    assert {row[0]: number(row[2]) for row in groups} == {
        {"parent": "家长", "student": "学生", "teacher": "教师", "deputy": "人大代表/政协委员", "public": "其他群众"}[
            g
        ]: e.estimate
        for g, e in result.groups.items()
    }

    # Three schools shown: too few for the adjusted figure (analysis.small_area.MIN_SCHOOLS), so they are
    # ranked by their direct figure, wide intervals apart (tests/console/test_ranking_browser.py: 20).
    assert all(s.shrunk is None for s in result.schools) and "调整后认可度" not in section(html, "schools")
    schools = section(html, "schools")
    ranked = table_values(schools)
    names = {s.name: s for s in result.schools}
    shown = {s.name: s.overall for s in result.schools if not s.overall.suppressed}
    precise = {k: e for k, e in shown.items() if (e.ci_high - e.ci_low) / 2 <= 0.15}
    assert [int(row[0]) for row in ranked] == list(range(1, len(precise) + 1))
    assert [row[1] for row in ranked] == sorted(precise, key=lambda k: -precise[k].estimate)  # ranked
    assert all(number(row[4]) == names[row[1]].overall.estimate for row in ranked)
    assert "应答过少、不单独显示的学校：乌恰镇中心小学" in schools  # WQ05: suppressed, not ranked
    imprecise = set(shown) - set(precise)
    if imprecise:
        assert "样本不足" in schools and all(name in schools for name in imprecise)

    for q in QUESTIONNAIRES.values():
        assert f"分题目认可度：{q.title.split('（')[-1].rstrip('）')}" in html
    heat = section(html, "questionnaire-1")
    assert "<svg" in heat and ">题1</text>" in heat
    heat_rows = {row[0]: row[1:] for row in table_values(heat[heat.index("<h3>") :])}
    assert set(heat_rows["乌恰镇中心小学"]) == {""}  # a suppressed school's row stays blank
    assert any(v for v in heat_rows["乌恰县第一小学"])
    lowest = table_values(section(html, "lowest"))
    assert len(lowest) == 5 and all(re.fullmatch(r"\S+卷 题\d+", row[0]) for row in lowest)
    assert [number(row[2]) for row in lowest] == sorted(number(row[2]) for row in lowest)
    for text in ("有效问卷率", "分地域（城区/镇区/乡村）", "分学段", "目标 85%", "审核后剔除（组织代答或刷票）"):
        assert text in html
    assert "style=" not in html and "<script" not in html  # the Content-Security-Policy would block them


async def test_the_heatmap_share_of_a_one_group_school_is_its_plain_share(console, answered, settings):
    """WQ02's students and parents answer different questionnaires: an item only parents rate is
    the parents' plain 认可 share there (one stratum, equal weights)."""
    await login(console, "chief")
    html = (await console.get(f"/console/rounds/{answered}/results")).text
    social = QUESTIONNAIRES["social"]
    student_items = {item.id for item in QUESTIONNAIRES["student"].rated_items}
    item = next(i for i in social.rated_items if i.id not in student_items)
    column = next(k + 1 for k, i in enumerate(social.rated_items) if i is item)
    heat = next(
        section(html, f"questionnaire-{k}")
        for k in (1, 2, 3)
        if "分题目认可度：社会卷" in section(html, f"questionnaire-{k}")
    )
    rows = await fetch(
        settings,
        "SELECT answers FROM response JOIN school ON school.id = response.school "
        "WHERE code = 'WQ02' AND respondent_group = 'parent' AND valid",
    )
    options = {o.code: o for o in social.scale}
    answers = [options[msgspec.json.decode(r["answers"])[item.id]] for r in rows]
    counted = [o for o in answers if not o.excluded]
    heat_rows = {row[0]: row[1:] for row in table_values(heat[heat.index("<h3>") :])}
    assert number(heat_rows["乌恰县第二小学"][column - 1]) == pytest.approx(
        sum(o.recognised for o in counted) / len(counted)
    )


async def test_the_report_explains_the_method_and_prints_on_a4(console, answered):
    await login(console, "chief")
    report = await console.get(f"/console/rounds/{answered}/report")
    assert report.status_code == 200
    for text in (
        "1.5‰",
        "N<sub>h</sub> / n<sub>h</sub>",
        "泰勒线性化",
        "有限总体校正",
        "logit 变换区间",
        "达标",
        "未达标",
        "待定",
        "有效问卷率",
        "答题过快",
        "所有题目选同一项",
        "审核记录",
    ):
        assert text in report.text, text
    assert 'id="overall"' in report.text and "<svg" in report.text
    # Its sign-off carries a signed checkpoint that `survey-service verify --checkpoint` reads back.
    from survey_service.ledger.checkpoints import parse

    [checkpoint] = parse(report.text)
    assert checkpoint.survey == answered and checkpoint.signed() and "签名公钥" in report.text
    css = await console.get("/static/console/results.css")
    assert css.status_code == 200 and "@page{size:A4" in css.text


async def test_the_workbook_agrees_with_the_json_results(console, answered):
    await login(console, "chief")
    download = await console.get(f"/console/rounds/{answered}/results.xlsx")
    assert download.status_code == 200 and "filename*=UTF-8''round-" in download.headers["content-disposition"]
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames == [
        "总体",
        "迎检预判",
        "分群体",
        "分学校",
        "分题目",
        "有效性",
        "分地域",
        "分学段",
        *[f"分学校分题目（{q.title.split('（')[-1].rstrip('）')}）" for q in QUESTIONNAIRES.values()],
        "整改清单",
        "题目缺口贡献",
        "意见建议",
        "原始数据",
        "检查点",
    ]
    api = (await console.get(f"/api/v1/surveys/{answered}/results")).json()
    overall = [c.value for c in book["总体"][2]]
    o = api["overall"]
    assert overall[1:5] == pytest.approx([o["estimate"], o["ci_low"], o["ci_high"], o["se"]], abs=1e-12)
    assert overall[5] == o["n"] and overall[-1] == pytest.approx(o["p_value"], abs=1e-12)
    groups = {row[0].value: [c.value for c in row] for row in book["分群体"].iter_rows(min_row=2)}
    assert len(groups) == len(api["groups"])
    for label, e in zip(groups, api["groups"].values()):
        assert groups[label][2:5] == pytest.approx([e["estimate"], e["ci_low"], e["ci_high"]], abs=1e-12)
    assert groups["家长"][1] == pytest.approx(o["group_weights"]["parent"])
    # As a person opening it sees it: bold headings, rates as percentages, the raw sheet's first
    # column and heading row frozen.
    assert all(cell.font.bold for cell in book["总体"][1]) and all(cell.font.bold for cell in book["原始数据"][1])
    assert book["总体"].cell(2, 2).number_format == "0.0%"
    assert book["原始数据"].freeze_panes == "B2"


async def test_a_workbook_process_that_died_is_replaced_for_the_next_download(console, answered):
    """The workbook is built in a process of its own; should it die (killed, out of memory), that
    download fails with a page in Chinese, and the next one is built by a new process."""
    import os
    import signal

    from survey_service.results import workbook_process as results_workbook

    await login(console, "chief")
    path = f"/console/rounds/{answered}/results.xlsx"
    assert (await console.get(path)).status_code == 200
    for pid in list(results_workbook._builders._processes):
        os.kill(pid, signal.SIGKILL)
    failed = await console.get(path)
    assert failed.status_code == 500 and "服务器暂时无法处理" in failed.text and "Traceback" not in failed.text
    again = await console.get(path)
    assert again.status_code == 200 and load_workbook(io.BytesIO(again.content)).sheetnames[-2] == "原始数据"


async def test_the_workbook_process_ends_with_the_app(accounts, answered, settings):
    import os
    import time

    from litestar.testing import AsyncTestClient

    from survey_service.app import create_app
    from survey_service.results import workbook_process as results_workbook

    async with AsyncTestClient(app=create_app(settings), base_url="http://survey.test") as client:
        await login(client, "chief")
        assert (await client.get(f"/console/rounds/{answered}/results.xlsx")).status_code == 200
        [pid] = list(results_workbook._builders._processes)
    deadline = time.monotonic() + 10
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{pid}") or " Z " in open(f"/proc/{pid}/stat").read()


async def test_the_raw_sheet_is_de_identified(console, answered, settings):
    await login(console, "chief")
    book = load_workbook(io.BytesIO((await console.get(f"/console/rounds/{answered}/results.xlsx")).content))
    sheet = book["原始数据"]
    header = [c.value for c in sheet[1]]
    rows = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert len(rows) == sum(count for _, _, count in PLAN)
    assert header[:6] == ["答卷编号", "学校代码", "调查对象", "提交日期", "问卷", "问卷版本"]
    assert header[-5:] == ["认可度", "得分", "是否有效", "无效原因", "质量标记"]
    text = " ".join(str(v) for row in [header, *rows] for v in row)
    for secret in (DEVICE_HASH, "netha5h", "agentha5h", NONCE_MARK, "17:30", "suggestion"):
        assert secret not in text
    assert {row[3] for row in rows} == {"2030-05-11"}  # the day in the county's time zone, nothing finer
    excluded = [row for row in rows if row[-3] == "无效"]
    assert sorted(row[-2] for row in excluded) == ["审核后剔除（敷衍作答）", "审核后剔除（组织代答或刷票）"]
    first = dict(zip(header, rows[0]))
    stored = await fetch(settings, "SELECT answers, recognition FROM response ORDER BY id LIMIT 1")
    # Columns per questionnaire, titled by its short name and item number (社会卷 题1), never an id.
    social = QUESTIONNAIRES["social"]
    labels = {o.code: o.label for o in social.scale}
    column = {item.id: f"社会卷 题{k}" for k, item in enumerate(social.rated_items, start=1)}
    assert first["问卷"] == "社会卷"
    assert {column[k]: first[column[k]] for k in msgspec.json.decode(stored[0]["answers"])} == {
        column[k]: labels[v] for k, v in msgspec.json.decode(stored[0]["answers"]).items()
    }
    assert not [title for title in header if re.search(r"[a-z]+_[a-z_]+", str(title))]
    assert all(first[title] in ("", None) for title in header if str(title).startswith("学生卷"))
    assert first["认可度"] == pytest.approx(stored[0]["recognition"]) and first["质量标记"] == "答题过快"


async def test_operators_are_refused_the_bureau_results(console, answered):
    await login(console, "op01")
    for path in ("results", "results.xlsx", "report"):
        assert (await console.get(f"/console/rounds/{answered}/{path}")).status_code == 403, path


async def test_the_bureau_gets_a_clear_404_for_the_results_of_a_round_that_does_not_exist(console, answered):
    await login(console, "chief")
    for path in ("results", "results.xlsx", "report"):
        missing = await console.get(f"/console/rounds/{answered + 999}/{path}")
        assert missing.status_code == 404 and "找不到编号为" in missing.text, path


async def test_an_operator_sees_its_own_school_results_only(console, answered, settings):
    """Its parents' and students' figures from 10 answers up; never its teachers' or principals', nor
    the school's total (they could be worked out from it); the bureau sees them all."""
    # The plan gives WQ01 6 students, 6 parents and 5 teachers: 6 more parents make 12.
    await login(console, "op01")
    six = await console.get(f"/console/rounds/{answered}/schools/WQ01/results")
    assert "应答少于 10 人时不显示结果" in six.text and "<tbody>" not in six.text
    await store(settings, answered, [uniform("parent", "WQ01", "satisfied")] * 6)
    await login(console, "op01")
    home = await console.get("/console")
    assert f"/console/rounds/{answered}/schools/WQ01/results" in home.text
    page = await console.get(f"/console/rounds/{answered}/schools/WQ01/results")
    assert page.status_code == 200
    assert (await console.get(f"/console/rounds/{answered}/schools/WQ02/results")).status_code == 403
    await login(console, "chief")
    result = await round_result(console, answered)
    wq01 = next(s for s in result.schools if s.key == "WQ01")
    assert wq01.groups["teacher"].n >= 5 and not wq01.groups["teacher"].suppressed
    rows = [values[0] for values in table_values(page.text)]
    expected = [label for g, label in (("student", "学生"), ("parent", "家长")) if wq01.groups[g].n >= 10]
    assert rows == expected and expected
    assert f"{wq01.overall.estimate:.1%}" not in page.text and "本校（合计）" not in page.text
    assert "只有县教育局能看到" in page.text and QUESTIONNAIRES["staff"].rated_items[0].text not in page.text
    assert "乌恰县第二小学" not in page.text and "全县社会认可度" not in page.text

    bureau = await console.get(f"/console/rounds/{answered}/schools/WQ01/results")
    assert [values[0] for values in table_values(bureau.text)][:1] == ["本校（合计）"]
    assert f"{wq01.overall.estimate:.1%}" in bureau.text and ">教师</th>" in bureau.text
    assert QUESTIONNAIRES["staff"].rated_items[0].text in bureau.text


async def test_a_school_with_too_few_answers_shows_nothing(console, answered):
    await login(console, "chief")
    page = await console.get(f"/console/rounds/{answered}/schools/WQ05/results")
    assert page.status_code == 200
    assert "应答少于 5 人时不显示结果" in page.text and "<svg" not in page.text


async def test_the_heatmap_counts_come_from_the_tallies_and_agree_with_the_answers(demo_links, settings):
    """Rated and 认可 answers per school × group × item, read from the tallies (about one row per
    school × group), equal a count over the stored answers themselves: valid ones with a y only, at
    schools only, 不了解 left out."""
    from support.helpers import services
    from survey_service.results.school_items import school_item_counts

    survey_id = demo_links[0].survey
    await store_answers(settings, survey_id)
    expected: dict[tuple[str, str, str], list[int]] = {}
    rows = await fetch(
        settings,
        "SELECT code, respondent_group AS grp, questionnaire_id AS qid, answers, valid, "
        "recognition FROM response LEFT JOIN school ON school.id = response.school WHERE response.survey = ?",
        survey_id,
    )
    for row in rows:
        if not row["valid"] or row["recognition"] is None or row["code"] is None:
            continue
        questionnaire = QUESTIONNAIRES[row["qid"]]
        answers = msgspec.json.decode(row["answers"])
        for item in questionnaire.rated_items:
            option = next(o for o in questionnaire.options_for(item) if o.code == answers[item.id])
            if not option.excluded:
                cell = expected.setdefault((row["code"], row["grp"], item.id), [0, 0])
                cell[0] += 1
                cell[1] += option.recognised
    assert sum(1 for row in rows if not row["valid"]) == 2  # the two excluded after review are left out
    async with services(settings):
        counted = await school_item_counts(survey_id, QUESTIONNAIRES)
    assert {key: [c.rated, c.recognised] for key, c in counted.items()} == expected
    assert {school for school, _, _ in counted} == {"WQ01", "WQ02", "WQ19", "WQ05"}


async def test_the_workbook_names_items_by_their_text_and_ranks_schools_as_the_report_does(console, answered):
    """The report's content in the workbook: Chinese headers, each questionnaire's items by its own
    number and wording (no id on any report sheet), schools ranked with the precision beside them."""
    await login(console, "chief")
    book = load_workbook(io.BytesIO((await console.get(f"/console/rounds/{answered}/results.xlsx")).content))
    items = [[c.value for c in row] for row in book["分题目"].iter_rows()]
    assert items[0][:3] == ["问卷", "题号", "题目"]
    assert [(row[0], row[2]) for row in items[1:]] == [
        (q.title.split("（")[-1].rstrip("）"), item.text) for q in QUESTIONNAIRES.values() for item in q.rated_items
    ]
    schools = [[c.value for c in row] for row in book["分学校"].iter_rows()]
    assert schools[0][:3] == ["名次", "学校代码", "学校"] and "区间半宽" in schools[0]
    for name in book.sheetnames[:-2]:  # not 原始数据, nor the signed checkpoint's line
        for row in book[name].iter_rows():
            for cell in row:
                assert not re.search(r"[a-z]+_[a-z_]+", str(cell.value or "")), (name, cell.value)
