"""A 问卷星 export's 意见和建议 column imported into a round: each 答卷's text is stored as the
questionnaire's text item, checked as the answer page checks it, and read on the 意见建议 page and in
the workbook with its source; `(跳过)`, `(空)` or empty is no text; importing again adds nothing."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from support.console_session import login, post_form
from support.helpers import answer, fetch, filled_form, link_for, open_answer_page, token_of
from support.wjx_exports import suggestion_export
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import demo_schools
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.answers import TOO_LONG, UNREADABLE

SOCIAL = load_questionnaires(questionnaires_dir())["social"]
SCHOOLS = [s.name for s in demo_schools()[:3]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEXT_COLUMN = f"题{3 + len(SOCIAL.rated_items)}"
FORMULA = '=HYPERLINK("http://example.com/x","点击领取")'


def export(path, said: list[str], text_header: str = "您对本县义务教育工作还有哪些意见和建议？") -> bytes:
    return suggestion_export(path, SOCIAL, SCHOOLS, said, text_header).read_bytes()


async def upload(console, survey_id: int, name: str, content: bytes, map_toml: str | None = None):
    files = {"export": (name, content, XLSX if name.endswith(".xlsx") else "text/csv")}
    if map_toml is not None:
        files["map"] = ("map.toml", map_toml.encode(), "application/toml")
    return await post_form(console, f"/console/rounds/{survey_id}/wjx/preview", files=files)


async def confirm(console, survey_id: int, preview) -> str:
    fields = {
        name: re.search(rf'name="{name}" value="([^"]*)"', preview.text).group(1)
        for name in ("filename", "payload", "map_payload", "unmatched")
    }
    done = await post_form(console, f"/console/rounds/{survey_id}/wjx/import", fields)
    assert done.status_code == 200, done.text
    return done.text


def table_rows(html: str) -> list[list[str]]:
    if "<tbody>" not in html:
        return []
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [re.findall(r"<td>(.*?)</td>", row, re.S) for row in body.split("</tr>") if "<td>" in row]


async def count(settings) -> int:
    return (await fetch(settings, "SELECT COUNT(*) AS n FROM response"))[0]["n"]


async def test_imported_suggestions_are_listed_and_exported_with_their_source(console, settings, demo_links, tmp_path):
    survey_id = demo_links[0].survey
    said = ["希望多开展课后服务", "(空)", "", "(跳过)", "食堂饭菜\n可以更好", "  电话13812345678，请联系  "]
    content = export(tmp_path / "问卷星.xlsx", said)
    await login(console, "chief")
    preview = await upload(console, survey_id, "问卷星.xlsx", content)
    assert preview.status_code == 200, preview.text
    assert f"意见建议（文字题，不参与计算）：{TEXT_COLUMN}" in preview.text
    position = len(SOCIAL.items)  # the text item comes last
    assert f"{TEXT_COLUMN}→问卷第{position}题" in preview.text and "未使用的列" not in preview.text
    assert "已从 问卷星.xlsx 导入 6 份答卷" in await confirm(console, survey_id, preview)

    page = await console.get(f"/console/rounds/{survey_id}/suggestions")
    assert page.status_code == 200 and "共 3 条意见建议" in page.text
    rows = table_rows(page.text)
    assert sorted(r[-1] for r in rows) == sorted(["希望多开展课后服务", "食堂饭菜<br>可以更好", "电话***，请联系"])
    assert {r[-2] for r in rows} == {"问卷星导入"}
    # Stored as the answer page stores it: trimmed, under the questionnaire's text item.
    stored = await fetch(
        settings,
        "SELECT CAST(answers AS TEXT) AS answers FROM response WHERE CAST(answers AS TEXT) LIKE '%suggestions%'",
    )
    assert sorted(re.search(r'"suggestions":"(.*?)"', r["answers"]).group(1) for r in stored) == sorted(
        ["希望多开展课后服务", "食堂饭菜\\n可以更好", "电话13812345678，请联系"]
    )

    download = await console.get(f"/console/rounds/{survey_id}/results.xlsx")
    sheet = [[c.value for c in row] for row in load_workbook(io.BytesIO(download.content))["意见建议"].iter_rows()]
    assert sheet[0] == ["学校", "调查对象", "提交日期", "来源", "意见建议"]
    assert sorted(row[3:] for row in sheet[1:]) == sorted(
        [["问卷星导入", t] for t in ("希望多开展课后服务", "食堂饭菜\n可以更好", "电话***，请联系")]
    )

    # The same answers downloaded again as a GB18030 CSV: nothing new, no suggestion twice.
    again = await upload(console, survey_id, "问卷星.gbk.csv", export(tmp_path / "问卷星.gbk.csv", said))
    assert "导入 0 份答卷" in await confirm(console, survey_id, again)
    assert await count(settings) == 6
    assert "共 3 条意见建议" in (await console.get(f"/console/rounds/{survey_id}/suggestions")).text


async def test_formula_like_text_is_kept_as_typed_and_never_a_formula(console, settings, demo_links, tmp_path):
    survey_id = demo_links[0].survey
    assert await answer(console, link_for(demo_links, "parent"), suggestions=FORMULA) == 303  # online
    await login(console, "chief")
    csv = export(tmp_path / "e.gbk.csv", [FORMULA, "+1+1", "@SUM(A1:A9)"])
    await confirm(console, survey_id, await upload(console, survey_id, "e.gbk.csv", csv))
    page = await console.get(f"/console/rounds/{survey_id}/suggestions")
    rows = table_rows(page.text)
    shown = "=HYPERLINK(&#34;http://example.com/x&#34;,&#34;点击领取&#34;)"
    assert sorted((r[-2], r[-1]) for r in rows) == sorted(
        [("在线", shown), ("问卷星导入", shown), ("问卷星导入", "+1+1"), ("问卷星导入", "@SUM(A1:A9)")]
    )
    assert '<a href="http://example.com' not in page.text
    download = await console.get(f"/console/rounds/{survey_id}/results.xlsx")
    sheet = load_workbook(io.BytesIO(download.content))["意见建议"]
    cells = [row[4] for row in sheet.iter_rows(min_row=2)]
    assert sorted(c.value for c in cells) == sorted([FORMULA, FORMULA, "+1+1", "@SUM(A1:A9)"])
    assert {c.data_type for c in cells} == {"s"}  # text, never a formula


async def test_text_the_answer_page_refuses_refuses_the_file_and_stores_nothing(
    console, settings, demo_links, tmp_path
):
    survey_id = demo_links[0].survey
    limit = next(item.max_length for item in SOCIAL.items if item.id == "suggestions")
    await login(console, "chief")
    for text, message in [("很" * (limit + 1), TOO_LONG.format(limit=limit)), ("学校很好\x07\x1b", UNREADABLE)]:
        content = export(tmp_path / "e.gbk.csv", ["好", text, "也好"])
        refused = await upload(console, survey_id, "e.gbk.csv", content)
        assert refused.status_code == 422
        assert f"e.gbk.csv 序号 2：{TEXT_COLUMN}：{message}" in refused.text
        assert "suggestions" not in refused.text  # never the item's internal id
        # The answer page says the same of the same text.
        token = token_of(link_for(demo_links, "parent"))
        form = filled_form(await open_answer_page(console, token), suggestions=text)
        online = await console.post(f"/s/{token}", data=form, follow_redirects=False)
        assert online.status_code == 422 and message in online.text
    assert await count(settings) == 0
    # At the limit, with a tab and line breaks (kept, as online): imported.
    kept = "很" * (limit - 5) + "\t一\r\n二"  # 500 characters
    preview = await upload(console, survey_id, "e.gbk.csv", export(tmp_path / "e.gbk.csv", [kept]))
    assert preview.status_code == 200, preview.text
    await confirm(console, survey_id, preview)
    assert await count(settings) == 1


async def test_a_text_column_worded_otherwise_is_mapped_by_the_mapping_file(console, settings, demo_links, tmp_path):
    survey_id = demo_links[0].survey
    content = export(tmp_path / "e.xlsx", ["多组织家长会", "(空)"], text_header="补充说明")
    await login(console, "chief")
    unmapped = await upload(console, survey_id, "e.xlsx", content)
    assert f"未使用的列：{TEXT_COLUMN}" in unmapped.text
    mapped = await upload(console, survey_id, "e.xlsx", content, f'[items.ids]\n"{TEXT_COLUMN[1:]}" = "suggestions"\n')
    assert f"意见建议（文字题，不参与计算）：{TEXT_COLUMN}" in mapped.text
    await confirm(console, survey_id, mapped)
    rows = table_rows((await console.get(f"/console/rounds/{survey_id}/suggestions")).text)
    assert [(r[-2], r[-1]) for r in rows] == [("问卷星导入", "多组织家长会")]
    wrong = await upload(console, survey_id, "e.xlsx", content, f'[items.ids]\n"{TEXT_COLUMN[1:]}" = "nothing"\n')
    assert wrong.status_code == 422 and "问卷“" in wrong.text and "中没有文字题 nothing" in wrong.text
