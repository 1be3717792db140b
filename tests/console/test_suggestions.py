"""意见建议: the bureau reads the round's free-text suggestions (by school, group, search, page) and
exports them; a school's operator reads its own parents' and students' only; anonymous as shown
(dates only, long digit runs masked); hostile filters get a page or a Chinese 400, never a 5xx."""

from __future__ import annotations

import io
import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from openpyxl import load_workbook

from support.console_session import login
from support.helpers import answer, fetch, insert_responses, link_for
from support.respondents import COLUMNS, questionnaire_of
from survey_service.respond.answers import check_answers
from survey_service.results.suggestions import mask

PHONE = "13812345678"
ID_NUMBER = "65302119800101123X"


def rows_of(html: str) -> list[list[str]]:
    """The suggestion table's cells, row by row, as text."""
    if "<tbody>" not in html:
        return []
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        [re.sub(r"<br>", "\n", cell) for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
        for row in body.split("</tr>")
        if "<td>" in row
    ]


async def school_names(settings, survey_id: int) -> dict[str, str]:
    rows = await fetch(settings, "SELECT code, name FROM school WHERE survey = ?", survey_id)
    return {row["code"]: row["name"] for row in rows}


async def store_said(settings, survey_id: int, said: list[tuple]) -> None:
    """Answers with a suggestion, stored as the response writer stores them: each (group, school code,
    text, when it came in, valid)."""
    links = await fetch(
        settings,
        "SELECT link.id AS link, link.school AS school, school.code AS code, link.respondent_group AS grp "
        "FROM link LEFT JOIN school ON school.id = link.school WHERE link.survey = ?",
        survey_id,
    )
    link_of = {(row["grp"], row["code"]): row for row in links}
    rows = []
    for group, school, text, when, valid in said:
        q = questionnaire_of(group)
        given = {item.id: q.scale[0].code for item in q.rated_items} | {"suggestions": text}
        scored = check_answers(q, given)
        link = link_of[(group, school)]
        values = {
            "survey": survey_id,
            "link": link["link"],
            "school": link["school"],
            "respondent_group": group,
            "questionnaire_id": q.id,
            "questionnaire_version": q.version,
            "answers": msgspec.json.encode(scored.answers).decode(),
            "recognition": scored.recognition,
            "score": scored.score,
            "choices": scored.choices,
            "submitted_at": when,
            "seconds_taken": 90,
            "nonce": uuid.uuid4().hex,
            "valid": valid,
            "exclusion": "" if valid else "organised",
        }
        rows.append([values[name] for name in COLUMNS])
    await insert_responses(settings, COLUMNS, rows)


@pytest.fixture
def zone(settings) -> ZoneInfo:
    return ZoneInfo(settings.timezone)


def test_long_digit_runs_are_masked_and_short_numbers_kept():
    assert mask(f"我的电话 {PHONE}，请联系") == "我的电话 ***，请联系"
    assert mask("电话 138 1234 5678 或 0908-1234567") == "电话 *** 或 ***"
    assert mask(f"身份证 {ID_NUMBER} 号") == "身份证 *** 号"
    assert mask("三年级 2 班有 45 个学生，作业 123456 字") == "三年级 2 班有 45 个学生，作业 123456 字"
    assert mask("电话１３８１２３４５６７８") == "电话***"  # full-width digits too


async def test_the_bureau_reads_a_suggestion_posted_on_the_answer_page(console, demo_links, settings, zone):
    survey_id = demo_links[0].survey
    text = f"希望减少家庭作业。我的电话{PHONE}"
    assert await answer(console, link_for(demo_links, "parent"), suggestions=text) == 303
    await login(console, "chief")
    page = await console.get(f"/console/rounds/{survey_id}/suggestions")
    assert page.status_code == 200
    [row] = rows_of(page.text)
    assert row == [
        datetime.now(zone).date().isoformat(),
        (await school_names(settings, survey_id))["WQ01"],
        "家长",
        "在线",
        "希望减少家庭作业。我的电话***",
    ]
    assert "共 1 条意见建议" in page.text
    # Anonymous: no phone number, no time of day, no response id, nonce or hash anywhere on the page.
    assert PHONE not in page.text and not re.search(r"\d{1,2}:\d{2}", page.text)
    [stored] = await fetch(settings, "SELECT id, nonce, device_hash, network_hash, agent_hash FROM response")
    for value in (stored["nonce"], stored["device_hash"], stored["network_hash"], stored["agent_hash"]):
        assert not value or value not in page.text
    assert "答卷编号" not in page.text and "校长和教师" in page.text
    # Linked from the round page.
    round_page = await console.get(f"/console/rounds/{survey_id}")
    assert f'href="/console/rounds/{survey_id}/suggestions"' in round_page.text


async def test_search_group_school_and_pages(console, demo_links, settings, zone):
    survey_id = demo_links[0].survey
    today = datetime.now(zone)
    said = [("parent", "WQ01", f"第{i}条：希望多开展课外活动", today - timedelta(minutes=i), True) for i in range(60)]
    said += [
        ("parent", "WQ02", "Homework 太多，孩子睡得晚", today - timedelta(days=2), True),
        ("teacher", "WQ02", "希望减少非教学任务", today - timedelta(days=1), True),
        ("parent", "WQ02", "剔除的答卷里的意见", today, False),
        ("deputy", None, "建议加大乡村学校投入", today - timedelta(days=3), True),
    ]
    await store_said(settings, survey_id, said)
    await login(console, "chief")
    base = f"/console/rounds/{survey_id}/suggestions"

    first = await console.get(base)
    assert first.status_code == 200 and "共 63 条意见建议（第 1 / 2 页，第 1–50 条）" in first.text
    rows = rows_of(first.text)
    assert len(rows) == 50 and rows[0][-1] == "第0条：希望多开展课外活动"  # newest first
    assert "剔除的答卷里的意见" not in first.text  # excluded after review: not listed
    assert 'href="?page=2"' in first.text
    second = rows_of((await console.get(f"{base}?page=2")).text)
    assert [r[-1] for r in second[-3:]] == ["希望减少非教学任务", "Homework 太多，孩子睡得晚", "建议加大乡村学校投入"]
    assert second[-1][1] == "（县级，不属于学校）" and second[-1][2] == "人大代表/政协委员"
    assert len(rows_of((await console.get(f"{base}?page=99")).text)) == 13  # past the last: the last

    # Search: case-insensitive, finds that one and no other.
    found = await console.get(base, params={"q": "HOMEWORK"})
    assert [r[-1] for r in rows_of(found.text)] == ["Homework 太多，孩子睡得晚"] and "共 1 条" in found.text
    found = await console.get(base, params={"q": "课外活动", "page": "2"})
    assert "共 60 条意见建议（第 2 / 2 页，第 51–60 条）" in found.text and len(rows_of(found.text)) == 10
    assert 'href="?q=%E8%AF%BE%E5%A4%96%E6%B4%BB%E5%8A%A8"' in found.text  # page links keep the search
    assert rows_of((await console.get(base, params={"q": "无此内容"})).text) == []

    # Group and school filters, with the counts per group.
    teachers = await console.get(base, params={"group": "teacher"})
    assert [r[-1] for r in rows_of(teachers.text)] == ["希望减少非教学任务"]
    at_wq02 = await console.get(base, params={"school": "WQ02"})
    assert {r[-1] for r in rows_of(at_wq02.text)} == {"Homework 太多，孩子睡得晚", "希望减少非教学任务"}
    assert "家长（1）" in at_wq02.text and "教师（1）" in at_wq02.text
    both = await console.get(base, params={"school": "WQ02", "group": "parent", "q": "homework"})
    assert len(rows_of(both.text)) == 1


async def test_an_operator_reads_its_own_parents_and_students_only(console, demo_links, settings, zone):
    survey_id = demo_links[0].survey
    now = datetime.now(zone)
    await store_said(
        settings,
        survey_id,
        [
            ("parent", "WQ01", "一校家长的意见", now, True),
            ("student", "WQ01", "一校学生的意见", now, True),
            ("teacher", "WQ01", "一校教师的意见", now, True),
            ("principal", "WQ01", "一校校长的意见", now, True),
            ("parent", "WQ02", "二校家长的意见", now, True),
            ("public", None, "群众的意见", now, True),
        ],
    )
    own = f"/console/rounds/{survey_id}/schools/WQ01/suggestions"
    await login(console, "op01")
    page = await console.get(own)
    assert page.status_code == 200
    assert {r[-1] for r in rows_of(page.text)} == {"一校家长的意见", "一校学生的意见"}
    for hidden in ("一校教师的意见", "一校校长的意见", "二校家长的意见", "群众的意见"):
        assert hidden not in page.text
    assert "本页只显示本校<strong>家长和学生</strong>的意见建议" in page.text
    assert "教师（" not in page.text and "校长（" not in page.text
    refused = await console.get(own, params={"group": "teacher"})
    assert refused.status_code == 400 and "本页不能查看该调查对象的意见建议" in refused.text
    # Linked from the school's page.
    school_page = await console.get(f"/console/rounds/{survey_id}/schools/WQ01")
    assert f'href="{own}"' in school_page.text
    # Not the bureau's page, nor another school's.
    assert (await console.get(f"/console/rounds/{survey_id}/suggestions")).status_code == 403
    assert (await console.get(f"/console/rounds/{survey_id}/schools/WQ02/suggestions")).status_code == 403
    # The bureau, on the same school's page, reads every group of it.
    await login(console, "chief")
    page = await console.get(own)
    assert {r[-1] for r in rows_of(page.text)} == {
        "一校家长的意见",
        "一校学生的意见",
        "一校教师的意见",
        "一校校长的意见",
    }


async def test_the_workbook_has_the_suggestions_sheet_masked(console, demo_links, settings, zone):
    survey_id = demo_links[0].survey
    day = datetime.now(zone) - timedelta(days=1)
    await store_said(
        settings,
        survey_id,
        [
            ("parent", "WQ01", f"电话 {PHONE}，身份证 {ID_NUMBER}", day, True),
            ("teacher", "WQ02", "学校食堂要改进", day, True),
            ("parent", "WQ01", "剔除的答卷里的意见", day, False),
        ],
    )
    names = await school_names(settings, survey_id)
    await login(console, "chief")
    download = await console.get(f"/console/rounds/{survey_id}/results.xlsx")
    assert download.status_code == 200
    book = load_workbook(io.BytesIO(download.content))
    assert book.sheetnames[-3:] == ["意见建议", "原始数据", "检查点"]
    rows = [[c.value for c in row] for row in book["意见建议"].iter_rows()]
    assert rows == [
        ["学校", "调查对象", "提交日期", "来源", "意见建议"],
        [names["WQ01"], "家长", day.date().isoformat(), "在线", "电话 ***，身份证 ***"],
        [names["WQ02"], "教师", day.date().isoformat(), "在线", "学校食堂要改进"],
    ]
    assert all(cell.font.bold for cell in book["意见建议"][1])


HOSTILE = ["%", "_", "'", "\\", '"', "' OR 1=1 --", "%' AND 1=1; DROP TABLE response; --", "*", "ＡＢＣ", "ÉCOLE"]


async def test_hostile_filters_get_a_page_or_a_chinese_400(console, demo_links, settings, zone):
    survey_id = demo_links[0].survey
    await store_said(settings, survey_id, [("parent", "WQ01", '他说"作业多"，100% 同意 a_b', datetime.now(zone), True)])
    await login(console, "chief")
    base = f"/console/rounds/{survey_id}/suggestions"
    for q in HOSTILE:
        page = await console.get(base, params={"q": q})
        assert page.status_code == 200, q
    # The characters SQL's LIKE and JSON treat specially are searched as themselves.
    for q in ("%", "_", '"作业多"', "100%", "A_B"):
        assert len(rows_of((await console.get(base, params={"q": q})).text)) == 1, q
    assert rows_of((await console.get(base, params={"q": "'"})).text) == []
    for q, message in (
        ("\x00", "无法识别的字符"),
        ("a\x1fb", "无法识别的字符"),
        ("a" * 10_000, "搜索内容过长"),
        ("长" * 101, "搜索内容过长"),
    ):
        page = await console.get(base, params={"q": q})
        assert page.status_code == 400 and message in page.text, q
    for params in ({"school": "'%"}, {"group": "x' OR 1=1"}):
        page = await console.get(base, params=params)
        assert page.status_code == 400 and "请重新选择" in page.text, params
    for number in ("-1", "abc", "9" * 5000, "1e9", "２"):
        page = await console.get(base, params={"page": number})
        assert page.status_code == 200 and len(rows_of(page.text)) == 1, number
    # A NUL anywhere in the query: a Chinese 400 before any lookup (PostgreSQL refuses NUL in text).
    for params in ({"school": "\x00"}, {"group": "\x00"}, {"page": "\x00"}):
        page = await console.get(base, params=params)
        assert page.status_code == 400 and "无法识别的字符" in page.text, params
    await login(console, "op01")
    own = f"/console/rounds/{survey_id}/schools/WQ01/suggestions"
    for q in HOSTILE:
        assert (await console.get(own, params={"q": q})).status_code == 200, q
    assert (await console.get(own, params={"q": "\x00"})).status_code == 400
