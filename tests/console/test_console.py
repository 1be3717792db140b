"""The bureau runs a round from the console: create, edit, open, close; roster import; kit; progress."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

import PIL.Image
from openpyxl import Workbook, load_workbook

from support.console_session import login, post_form
from support.helpers import answer, fetch, filled_form, link_for
from survey_service.schools.roster import template_csv

ROUND = {
    "title": "2027 年社会认可度调查",
    "region": "博湖县",
    "resident_population": "61000",
    "opens_at": "2030-05-10T08:00",
    "closes_at": "2030-05-15T20:00",
    "target": "85",
    "confidence": "95",
    "population_deputy": "150",
}
ROSTER = "\n".join(
    [
        "学校代码,学校名称,学段,城乡类型,学生数,家长数（户）,教师数,校长数",
        "BH01,博湖县第一小学,小学,城区,1200,1100,80,3",
        "BH02,博湖县第二小学,小学,镇区,600,580,40,2",
        "BH03,博湖县中学,初中,城区,900,880,70,3",
    ]
)


CLOSING = {"reason": "各校已完成配额，局务会决定提前结束。", "confirm": "结束"}


async def new_round(client, **changes) -> int:
    response = await post_form(client, "/console/rounds", ROUND | changes)
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


async def import_csv(client, survey_id: int, text: str, name: str = "roster.csv", encoding: str = "utf-8"):
    preview = await post_form(
        client,
        f"/console/rounds/{survey_id}/roster/preview",
        files={"roster": (name, text.encode(encoding), "text/csv")},
    )
    return preview


async def confirm(client, survey_id: int, preview_html: str):
    payload = re.search(r'name="payload" value="([^"]*)"', preview_html).group(1)
    import html

    return await post_form(client, f"/console/rounds/{survey_id}/roster/import", {"payload": html.unescape(payload)})


async def test_a_round_is_created_edited_opened_and_closed(console, settings):
    await login(console, "chief")
    form = await console.get("/console/rounds/new")
    assert form.status_code == 200 and "常住人口" in form.text and "置信水平" in form.text
    survey_id = await new_round(console, weight_parent="0.5", weight_student="0.5")
    page = await console.get(f"/console/rounds/{survey_id}")
    assert page.status_code == 200 and "未开始" in page.text and "家长 0.5" in page.text
    assert "全部学校参加（学校作为分层）" in page.text
    # National rule: 61,000 people -> at least 600.
    assert "应调查 600 人" in page.text

    edited = await post_form(
        console, f"/console/rounds/{survey_id}/edit", ROUND | {"title": "改过的名称", "design": "clusters"}
    )
    assert edited.status_code == 303
    rows = await fetch(settings, "SELECT title, target, design FROM survey WHERE id = ?", survey_id)
    assert rows[0]["title"] == "改过的名称" and rows[0]["target"] == 0.85 and rows[0]["design"] == "clusters"
    page = (await console.get(f"/console/rounds/{survey_id}")).text
    assert "抽样部分学校（学校作为整群）" in page
    # The change log names what was changed, and who changed it.
    assert "修改设置" in page and "修改了标题、抽样设计" in page and "chief" in page
    unchanged = await post_form(
        console, f"/console/rounds/{survey_id}/edit", ROUND | {"title": "改过的名称", "design": "clusters"}
    )
    assert unchanged.status_code == 303
    logged = await fetch(settings, "SELECT COUNT(*) AS n FROM round_change WHERE action = 'settings'")
    assert logged[0]["n"] == 1  # saving without a change logs nothing

    assert (await post_form(console, f"/console/rounds/{survey_id}/open")).status_code == 303
    assert "进行中" in (await console.get(f"/console/rounds/{survey_id}")).text
    refused = await post_form(console, f"/console/rounds/{survey_id}/edit", ROUND | {"title": "开始后再改"})
    assert refused.status_code == 409 and "不能再修改" in refused.text
    closed = await post_form(console, f"/console/rounds/{survey_id}/close", CLOSING)
    assert closed.status_code == 303
    assert "已结束" in (await console.get(f"/console/rounds/{survey_id}")).text
    again = await post_form(console, f"/console/rounds/{survey_id}/open")
    assert again.status_code == 409 and "请使用“重新开放”并填写原因" in again.text
    rows = await fetch(settings, "SELECT title FROM survey WHERE id = ?", survey_id)
    assert rows[0]["title"] == "改过的名称"


async def test_a_broken_round_form_names_each_problem_and_saves_nothing(console, settings):
    await login(console, "chief")
    before = await fetch(settings, "SELECT COUNT(*) AS n FROM survey")
    bad = ROUND | {
        "title": "",
        "resident_population": "很多",
        "closes_at": "2030-05-01T08:00",
        "confidence": "80",
        "weight_parent": "-1",
        "questionnaire_student": "social",
        "design": "random",
    }
    response = await post_form(console, "/console/rounds", bad)
    assert response.status_code == 422
    for message in (
        "请填写轮次名称",
        "常住人口必须是整数",
        "结束时间必须晚于开始时间",
        "置信水平只能选择",
        "家长的权重应在",
        "不适用于学生",
        "请选择调查设计",
    ):
        assert message in response.text
    assert 'value="博湖县"' in response.text  # what was typed comes back
    assert await fetch(settings, "SELECT COUNT(*) AS n FROM survey") == before


async def test_a_roster_is_previewed_then_imported_with_its_links(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    preview = await import_csv(console, survey_id, ROSTER)
    assert preview.status_code == 200 and "文件检查通过：共 3 所学校" in preview.text
    assert not await fetch(settings, "SELECT id FROM school WHERE survey = ?", survey_id)  # a preview imports nothing
    done = await confirm(console, survey_id, preview.text)
    assert done.status_code == 303
    schools = await fetch(settings, "SELECT code FROM school WHERE survey = ? ORDER BY code", survey_id)
    assert [s["code"] for s in schools] == ["BH01", "BH02", "BH03"]
    links = await fetch(settings, "SELECT COUNT(*) AS n FROM link WHERE survey = ?", survey_id)
    assert links[0]["n"] == 3 * 4 + 2
    # The same schools again: refused whole, by row.
    again = await import_csv(console, survey_id, ROSTER)
    assert again.status_code == 422 and "第 2 行：学校代码 BH01 已在本轮次的名单中" in again.text


async def test_a_bad_roster_is_refused_whole_with_row_numbers(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    bad = (
        ROSTER + "\nBH04,某校,高中,城区,10,10,1,1\nBH01,重复学校,小学,乡村,十,10,1,1\n,,,,,,,\nBH05,,小学,乡村,5,5,1,1"
    )
    response = await import_csv(console, survey_id, bad)
    assert response.status_code == 422 and "整个文件没有导入" in response.text
    assert "第 5 行：学段“高中”无效" in response.text
    assert "第 6 行：学生数“十”应为 0 或正整数；学校代码 BH01 与第 2 行重复" in response.text
    assert "第 8 行：学校名称不能为空" in response.text
    for content, name, message in [
        (b"", "empty.csv", "请选择要导入的学校名单文件"),
        (b"code,name\nA,B", "x.csv", "缺少列"),
        (b"PK\x03\x04garbage", "x.xlsx", "无法读取 Excel 文件"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "photo.png", "无法读取"),
        (b"\xd0\xcf\x11\xe0", "old.xls", "另存为 .xlsx"),
    ]:
        response = await post_form(
            console,
            f"/console/rounds/{survey_id}/roster/preview",
            files={"roster": (name, content, "application/octet-stream")},
        )
        assert response.status_code == 422 and message in response.text, name
    forged = await post_form(console, f"/console/rounds/{survey_id}/roster/import", {"payload": '[{"code": 1}]'})
    assert forged.status_code == 400 and "导入内容无效" in forged.text
    assert not await fetch(settings, "SELECT id FROM school WHERE survey = ?", survey_id)


async def test_rosters_in_gbk_csv_and_xlsx_are_read(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    gbk = await import_csv(console, survey_id, ROSTER, encoding="gb18030")
    assert gbk.status_code == 200 and "博湖县第二小学" in gbk.text
    book = Workbook()
    for row in ROSTER.splitlines():
        book.active.append([int(v) if v.isdigit() else v for v in row.split(",")])
    buffer = io.BytesIO()
    book.save(buffer)
    xlsx = await post_form(
        console,
        f"/console/rounds/{survey_id}/roster/preview",
        files={"roster": ("名单.xlsx", buffer.getvalue(), "application/octet-stream")},
    )
    assert xlsx.status_code == 200 and "共 3 所学校" in xlsx.text


async def test_the_templates_download_and_read_back(console):
    await login(console, "chief")
    csv_file = await console.get("/console/roster-template.csv")
    assert csv_file.status_code == 200 and csv_file.content == template_csv()
    assert csv_file.content.decode("utf-8-sig").startswith("学校代码,学校名称")
    xlsx = await console.get("/console/roster-template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet["A1"].value == "学校代码" and sheet.max_row == 4


async def test_the_kit_has_a_page_per_school_and_all_codes_in_a_zip(console, demo_links):
    await login(console, "chief")
    home = await console.get("/console")
    survey_id = int(re.search(r'/console/rounds/(\d+)"', home.text).group(1))
    kit = await console.get(f"/console/rounds/{survey_id}/kit")
    # A sheet per audience: 20 schools × (家长, 学生, 教职工) + the county's two groups; no 校长 code.
    assert kit.status_code == 200 and kit.text.count('<section class="kit card') == 62
    assert f'src="/qr/{link_for(demo_links, "principal").url.rsplit("/", 1)[1]}.png"' not in kit.text
    assert f'src="/qr/{link_for(demo_links, "parent").url.rsplit("/", 1)[1]}.png"' in kit.text
    assert "致家长的一封信" in kit.text and "尊敬的家长" in kit.text

    letter = await post_form(console, f"/console/rounds/{survey_id}/letter", {"text": "各位家长：请扫码。\n{school}"})
    assert letter.status_code == 303
    kit = await console.get(f"/console/rounds/{survey_id}/kit")
    assert "各位家长：请扫码。\n乌恰县第一小学" in kit.text
    empty = await post_form(console, f"/console/rounds/{survey_id}/letter", {"text": "  "})
    assert empty.status_code == 422 and "请填写致家长的一封信" in empty.text
    # The code is printed below the letter: a letter pointing up to it is refused.
    up = await post_form(console, f"/console/rounds/{survey_id}/letter", {"text": "请扫描上方“家长”二维码。"})
    assert up.status_code == 422 and "下方" in up.text

    archive = await console.get(f"/console/rounds/{survey_id}/qr.zip")
    assert archive.headers["content-type"] == "application/zip"
    zipped = zipfile.ZipFile(io.BytesIO(archive.content))
    names = [name for name in zipped.namelist() if name != "MANIFEST.sha256"]
    assert len(names) == len(demo_links) and "WQ01-乌恰县第一小学-家长.png" in names and "全县-其他群众.png" in names
    assert "WQ01-乌恰县第一小学-校长.png" in names and "全县-人大代表、政协委员.png" in names
    # Every image captioned with its school and group (drawn in; kept as the PNG's title too).
    for name in names:
        school, group = name.removesuffix(".png").split("-")[-2:]
        title = PIL.Image.open(io.BytesIO(zipped.read(name))).text["Title"]
        assert title == f"{school} {group.replace('、', '/')}问卷", (name, title)
    # The manifest inside names every file with its SHA-256.
    listed = dict(line.split("  ")[::-1] for line in zipped.read("MANIFEST.sha256").decode().splitlines())
    assert listed == {name: hashlib.sha256(zipped.read(name)).hexdigest() for name in names}
    csv_links = await console.get(f"/console/rounds/{survey_id}/links.csv")
    digest = base64.b64encode(hashlib.sha256(csv_links.content).digest()).decode()
    assert csv_links.headers["repr-digest"] == f"sha-256=:{digest}:"
    assert csv_links.content.decode("utf-8-sig").count("\n") == len(demo_links) + 1
    xlsx = await console.get(f"/console/rounds/{survey_id}/links.xlsx")
    assert load_workbook(io.BytesIO(xlsx.content)).active.max_row == len(demo_links) + 1


async def test_progress_counts_answers_against_quota(console, demo_links):
    await login(console, "chief")
    survey_id = demo_links[0].survey
    before = await console.get(f"/console/rounds/{survey_id}/progress")
    # No forced refresh (axe-core's meta-refresh): the time of the figures and a refresh button.
    assert before.status_code == 200 and 'http-equiv="refresh"' not in before.text
    assert "数据截至" in before.text and '<a class="button plain" href="">刷新</a>' in before.text
    assert "已回收 0 份" in before.text and before.text.count('class="behind"') == 21
    token = link_for(demo_links, "parent").url.rsplit("/", 1)[1]
    page = await console.get(f"/s/{token}")
    assert (await console.post(f"/s/{token}", data=filled_form(page.text), follow_redirects=False)).status_code == 303
    after = await console.get(f"/console/rounds/{survey_id}/progress")
    assert "已回收 1 份，有效 1 份，有效率 100.0%" in after.text
    first_school = re.search(r"乌恰县第一小学.*?</tr>", after.text, flags=re.S).group(0)
    assert re.search(r"<td class=\"num\">1/\d+</td>", first_school)
    assert "尚无" not in first_school
    # The latest answer's time, in the county's zone (Asia/Shanghai), to the minute.
    shown = re.search(r"<td>(\d\d-\d\d \d\d:\d\d)</td>", first_school).group(1)
    now = datetime.now(ZoneInfo("Asia/Shanghai"))
    assert (
        abs((datetime.strptime(f"{now.year}-{shown}", "%Y-%m-%d %H:%M") - now.replace(tzinfo=None)).total_seconds())
        < 120
    )


async def round_page(client, survey_id: int) -> str:
    page = await client.get(f"/console/rounds/{survey_id}")
    assert page.status_code == 200
    return page.text


def change_log(html: str) -> str:
    """The round page's change log, as text."""
    section = re.search(r'<div class="card" id="changes">(.*?)</div>', html, flags=re.S).group(1)
    return re.sub(r"<[^>]+>", " ", section)


async def window(settings, survey_id: int) -> dict:
    return (await fetch(settings, "SELECT opens_at, closes_at, exported_at FROM survey WHERE id = ?", survey_id))[0]


async def test_closing_asks_for_confirmation_and_a_closed_round_reopens_with_a_reason(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    assert (await post_form(console, f"/console/rounds/{survey_id}/open")).status_code == 303
    page = await round_page(console, survey_id)
    # No one-click close: the round page links to a confirmation page.
    assert f'action="/console/rounds/{survey_id}/close"' not in page and "结束调查…" in page
    confirm_page = await console.get(f"/console/rounds/{survey_id}/close")
    assert confirm_page.status_code == 200
    assert (
        "所有学校的问卷链接和二维码立即停止接收答卷" in confirm_page.text
        and "请输入“结束”二字以确认" in confirm_page.text
    )
    before = await window(settings, survey_id)

    for fields, messages in [
        ({}, ["请填写原因", "请在确认框中输入“结束”二字"]),
        ({"reason": "提前结束", "confirm": "好的"}, ["请在确认框中输入“结束”二字"]),
        ({"reason": "  ", "confirm": "结束"}, ["请填写原因"]),
        ({"reason": "长" * 501, "confirm": "结束"}, ["原因请写在 500 字以内"]),
    ]:
        refused = await post_form(console, f"/console/rounds/{survey_id}/close", fields)
        assert refused.status_code == 422 and "没有保存任何修改" in refused.text, fields
        assert all(message in refused.text for message in messages), fields
    assert await window(settings, survey_id) == before
    assert "进行中" in await round_page(console, survey_id)

    assert (await post_form(console, f"/console/rounds/{survey_id}/close", CLOSING)).status_code == 303
    page = await round_page(console, survey_id)
    assert "已结束" in page and "本轮调查已于" in page and "重新开放…" in page
    log = change_log(page)
    assert "结束调查" in log and CLOSING["reason"] in log and "chief" in log and "开始调查" in log
    assert (await post_form(console, f"/console/rounds/{survey_id}/close", CLOSING)).status_code == 409
    assert (await console.get(f"/console/rounds/{survey_id}/extend")).status_code == 409

    # Reopening: a reason and a closing time in the future, or nothing changes.
    reopen = await console.get(f"/console/rounds/{survey_id}/reopen")
    assert reopen.status_code == 200 and "重新开放" in reopen.text and "导出为迎检材料" not in reopen.text
    closed = await window(settings, survey_id)
    for fields, message in [
        ({"closes_at": "2099-01-01T20:00"}, "请填写原因"),
        ({"closes_at": "2000-01-01T20:00", "reason": "补录"}, "新的结束时间必须晚于现在"),
        ({"closes_at": "明天", "reason": "补录"}, "请填写新的结束时间"),
    ]:
        refused = await post_form(console, f"/console/rounds/{survey_id}/reopen", fields)
        assert refused.status_code == 422 and message in refused.text, fields
    assert await window(settings, survey_id) == closed
    assert "已结束" in await round_page(console, survey_id)
    reopened = await post_form(
        console, f"/console/rounds/{survey_id}/reopen", {"closes_at": "2099-01-01T20:00", "reason": "二中家长会推迟"}
    )
    assert reopened.status_code == 303
    page = await round_page(console, survey_id)
    assert "进行中" in page and "2099-01-01 20:00" in page
    log = change_log(page)
    assert "重新开放" in log and "二中家长会推迟" in log and "新的结束时间 2099-01-01 20:00" in log


async def test_an_open_round_is_extended_with_a_reason(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    assert (await console.get(f"/console/rounds/{survey_id}/extend")).status_code == 409  # not open yet
    assert (await post_form(console, f"/console/rounds/{survey_id}/open")).status_code == 303
    page = await console.get(f"/console/rounds/{survey_id}/extend")
    assert page.status_code == 200 and "原定结束时间：2030-05-15 20:00" in page.text
    for fields, message in [
        ({"closes_at": "2030-05-20T20:00"}, "请填写原因"),
        ({"closes_at": "2030-05-14T20:00", "reason": "延期"}, "新的结束时间必须晚于原定的结束时间（2030-05-15 20:00）"),
        ({"closes_at": "", "reason": "延期"}, "请填写新的结束时间"),
    ]:
        refused = await post_form(console, f"/console/rounds/{survey_id}/extend", fields)
        assert refused.status_code == 422 and message in refused.text, fields
    assert "2030-05-15 20:00" in await round_page(console, survey_id)
    done = await post_form(
        console, f"/console/rounds/{survey_id}/extend", {"closes_at": "2030-05-18T20:00", "reason": "农忙，家长回复慢"}
    )
    assert done.status_code == 303
    page = await round_page(console, survey_id)
    assert "至 2030-05-18 20:00" in page
    log = change_log(page)
    assert "延长结束时间" in log and "结束时间由 2030-05-15 20:00 延长至 2030-05-18 20:00" in log
    assert "农忙，家长回复慢" in log


async def test_reopening_after_the_inspection_file_was_exported_warns_and_needs_a_reason(console, demo_links, settings):
    await login(console, "chief")
    survey_id = demo_links[0].survey
    # While the round is open, a report is no export for the inspection file.
    assert (await console.get(f"/console/rounds/{survey_id}/report")).status_code == 200
    assert (await window(settings, survey_id))["exported_at"] is None
    assert (await post_form(console, f"/console/rounds/{survey_id}/close", CLOSING)).status_code == 303
    assert (await console.get(f"/console/rounds/{survey_id}/report")).status_code == 200
    assert (await console.get(f"/console/rounds/{survey_id}/report")).status_code == 200
    page = await round_page(console, survey_id)
    assert re.search(r"结果已于 \d{4}-\d\d-\d\d \d\d:\d\d 导出为迎检材料", page)
    assert change_log(page).count("首次导出迎检材料：打印报告") == 1  # the first export only
    reopen = await console.get(f"/console/rounds/{survey_id}/reopen")
    assert "注意：本轮结果已于" in reopen.text and "导出为迎检材料" in reopen.text
    refused = await post_form(console, f"/console/rounds/{survey_id}/reopen", {"closes_at": "2099-01-01T20:00"})
    assert refused.status_code == 422 and "请填写原因" in refused.text
    assert "已结束" in await round_page(console, survey_id)
    fields = {"closes_at": "2099-01-01T20:00", "reason": "督导组要求补充乡村学校样本"}
    assert (await post_form(console, f"/console/rounds/{survey_id}/reopen", fields)).status_code == 303
    log = change_log(await round_page(console, survey_id))
    assert "督导组要求补充乡村学校样本" in log and "重新开放后结果可能变化" in log


async def test_the_roster_of_an_open_round_is_corrected_and_each_change_logged(console, settings):
    await login(console, "chief")
    survey_id = await new_round(console)
    preview = await import_csv(console, survey_id, ROSTER)
    assert (await confirm(console, survey_id, preview.text)).status_code == 303  # before it opens: no reason needed
    assert (await post_form(console, f"/console/rounds/{survey_id}/open")).status_code == 303
    edit_page = await console.get(f"/console/rounds/{survey_id}/roster/edit")
    assert edit_page.status_code == 200 and "本轮名单共 3 所学校" in edit_page.text
    assert f"/console/rounds/{survey_id}/roster/edit/BH01" in edit_page.text
    school_page = await console.get(f"/console/rounds/{survey_id}/roster/edit/BH01")
    assert school_page.status_code == 200 and 'value="1100"' in school_page.text

    async def roster():
        return await fetch(
            settings, "SELECT code, name, parents, teachers FROM school WHERE survey = ? ORDER BY code", survey_id
        )

    before = await roster()
    corrected = {
        "name": "博湖县第一实验小学",
        "stage": "小学",
        "location": "城区",
        "students": "1200",
        "parents": "1150",
        "teachers": "82",
        "principals": "3",
    }
    for fields, message in [
        (corrected, "请填写原因"),
        (corrected | {"parents": "很多", "reason": "更正"}, "家长数（户）“很多”应为 0 或正整数"),
        (corrected | {"name": "", "reason": "更正"}, "学校名称不能为空"),
        (corrected | {"location": "郊区", "reason": "更正"}, "城乡类型“郊区”无效"),
        (corrected | {"name": "博湖县第一小学", "parents": "1100", "teachers": "80", "reason": "更正"}, "没有任何修改"),
    ]:
        refused = await post_form(console, f"/console/rounds/{survey_id}/roster/edit/BH01", fields)
        assert refused.status_code == 422 and "没有保存任何修改" in refused.text and message in refused.text, fields
    assert await roster() == before
    done = await post_form(
        console, f"/console/rounds/{survey_id}/roster/edit/BH01", corrected | {"reason": "学校更名，家长数按新学期核实"}
    )
    assert done.status_code == 303
    assert (await roster())[0] == {"code": "BH01", "name": "博湖县第一实验小学", "parents": 1150, "teachers": 82}
    missing = await post_form(console, f"/console/rounds/{survey_id}/roster/edit/BH99", corrected | {"reason": "x"})
    assert missing.status_code == 404 and "没有代码为 BH99 的学校" in missing.text

    # Adding a school: its links are made; an existing code or a missing reason changes nothing.
    new_school = {
        "code": "BH04",
        "name": "博湖县乌兰再格森乡小学",
        "stage": "小学",
        "location": "乡村",
        "students": "150",
        "parents": "140",
        "teachers": "15",
        "principals": "1",
    }
    for fields, message in [
        (new_school, "请填写原因"),
        (new_school | {"code": "BH02", "reason": "漏报"}, "学校代码 BH02 已在本轮次的名单中"),
        (new_school | {"students": "-5", "reason": "漏报"}, "学生数“-5”应为 0 或正整数"),
    ]:
        refused = await post_form(console, f"/console/rounds/{survey_id}/roster/add", fields)
        assert refused.status_code == 422 and "没有添加学校" in refused.text and message in refused.text, fields
    assert len(await roster()) == 3
    added = await post_form(
        console, f"/console/rounds/{survey_id}/roster/add", new_school | {"reason": "名单漏报一所村小"}
    )
    assert added.status_code == 303
    assert [s["code"] for s in await roster()] == ["BH01", "BH02", "BH03", "BH04"]
    links = await fetch(settings, "SELECT COUNT(*) AS n FROM link WHERE survey = ?", survey_id)
    assert links[0]["n"] == 4 * 4 + 2
    assert "博湖县乌兰再格森乡小学" in (await console.get(f"/console/rounds/{survey_id}/kit")).text

    # An upload to an open round needs a reason too.
    more = ROSTER.splitlines()[0] + "\nBH05,博湖县塔温觉肯乡小学,小学,乡村,90,85,10,1"
    preview = await import_csv(console, survey_id, more)
    refused = await confirm(console, survey_id, preview.text)
    assert refused.status_code == 422 and "请填写原因" in refused.text and len(await roster()) == 4

    log = change_log(await round_page(console, survey_id))
    assert "修改学校信息" in log and "学校名称 博湖县第一小学 → 博湖县第一实验小学" in log
    assert "家长数（户） 1100 → 1150" in log and "学校更名，家长数按新学期核实" in log
    assert "添加学校 1 所：BH04 博湖县乌兰再格森乡小学" in log and "名单漏报一所村小" in log
    assert "添加学校 3 所" in log  # the first import

    assert (await post_form(console, f"/console/rounds/{survey_id}/close", CLOSING)).status_code == 303
    late = await post_form(console, f"/console/rounds/{survey_id}/roster/edit/BH02", corrected | {"reason": "x"})
    assert late.status_code == 409 and "该轮次已结束，不能再修改学校名单" in late.text


async def test_a_count_cannot_fall_below_the_answers_a_school_has(console, demo_links, settings):
    await login(console, "chief")
    survey_id = demo_links[0].survey
    assert await answer(console, link_for(demo_links, "parent")) == 303
    [school] = await fetch(
        settings,
        "SELECT name, stage, location, students, parents, teachers, principals FROM school "
        "WHERE survey = ? AND code = 'WQ01'",
        survey_id,
    )
    fields = {key: str(value) for key, value in school.items()} | {"parents": "0", "reason": "核对"}
    refused = await post_form(console, f"/console/rounds/{survey_id}/roster/edit/WQ01", fields)
    assert refused.status_code == 422 and "家长已有 1 份有效答卷，家长数（户）不能少于 1" in refused.text
    assert (await fetch(settings, "SELECT parents FROM school WHERE survey = ? AND code = 'WQ01'", survey_id))[0][
        "parents"
    ] == school["parents"]


async def test_quotas_only_for_groups_with_a_population_and_labels_in_chinese(console):
    await login(console, "chief")
    bare = await new_round(console, population_deputy="")
    page = await round_page(console, bare)
    assert "人大代表/政协委员 300" not in page and "其他群众 300" not in page and "配额合计 0 人" in page
    assert "没有人数" in page and "请先导入学校名单" in page
    # Questionnaires by their titles, never by their ids.
    assert "家长：县域义务教育优质均衡发展社会认可度调查问卷（社会卷）" in page
    assert "学生：县域义务教育优质均衡发展社会认可度调查问卷（学生卷）" in page
    assert "=social" not in page and "=staff" not in page

    deputies = await new_round(console)  # 人大代表/政协委员: 150; 其他群众 not counted
    page = await round_page(console, deputies)
    assert "人大代表/政协委员 150 人" in page and "其他群众 300" not in page and "配额合计 150 人" in page
    assert re.search(r"学生、家长、教师、校长、其他群众没有人数", page)
    preview = await import_csv(console, deputies, ROSTER)
    assert (await confirm(console, deputies, preview.text)).status_code == 303
    page = await round_page(console, deputies)
    targets = re.search(r"各校按人数分配。</p>\s*<p class=\"note\">(.*?)</p>", page).group(1)
    assert re.search(r"家长 \d+ 人", targets) and "人大代表/政协委员" in targets and "其他群众" not in targets
    assert "其他群众没有人数" in page


async def test_the_public_page_says_when_a_round_ended_or_will_start(console, demo_links, settings):
    await login(console, "chief")
    survey_id = demo_links[0].survey
    token = link_for(demo_links, "parent").url.rsplit("/", 1)[1]
    assert (await console.get(f"/s/{token}")).status_code == 200
    assert (await post_form(console, f"/console/rounds/{survey_id}/close", CLOSING)).status_code == 303
    ended = await console.get(f"/s/{token}")
    assert ended.status_code == 403 and "暂时无法填写" not in ended.text
    assert "<h1>本次调查已结束</h1>" in ended.text and re.search(
        r"本次调查已于 \d{4}年\d\d月\d\d日 \d\d:\d\d 结束", ended.text
    )
    assert re.search(r"开放时间 \d{4}年\d\d月\d\d日 \d\d:\d\d 至", ended.text)

    pending = await new_round(console)
    preview = await import_csv(console, pending, ROSTER)
    assert (await confirm(console, pending, preview.text)).status_code == 303
    [row] = await fetch(
        settings, "SELECT token FROM link WHERE survey = ? AND respondent_group = 'parent' LIMIT 1", pending
    )
    early = await console.get(f"/s/{row['token']}")
    assert early.status_code == 403 and "<h1>本次调查尚未开始</h1>" in early.text
    assert "将于 2030年05月10日 08:00 开放" in early.text and "暂时无法填写" not in early.text
