"""The bureau runs a round from the console: create, edit, open, close; roster import; kit; progress."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook

from support.console_session import login, post_form
from support.helpers import fetch, filled_form, link_for
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
    assert "抽样部分学校（学校作为整群）" in (await console.get(f"/console/rounds/{survey_id}")).text

    assert (await post_form(console, f"/console/rounds/{survey_id}/open")).status_code == 303
    assert "进行中" in (await console.get(f"/console/rounds/{survey_id}")).text
    refused = await post_form(console, f"/console/rounds/{survey_id}/edit", ROUND | {"title": "开始后再改"})
    assert refused.status_code == 409 and "不能再修改" in refused.text
    assert (await post_form(console, f"/console/rounds/{survey_id}/close")).status_code == 303
    assert "已结束" in (await console.get(f"/console/rounds/{survey_id}")).text
    again = await post_form(console, f"/console/rounds/{survey_id}/open")
    assert again.status_code == 409 and "不能重新开放" in again.text
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
    assert kit.status_code == 200 and kit.text.count('class="kit card"') == 21  # 20 schools + the county
    assert f'src="/qr/{link_for(demo_links, "parent").url.rsplit("/", 1)[1]}.png"' in kit.text
    assert "致家长的一封信" in kit.text and "尊敬的家长" in kit.text

    letter = await post_form(console, f"/console/rounds/{survey_id}/letter", {"text": "各位家长：请扫码。\n{school}"})
    assert letter.status_code == 303
    kit = await console.get(f"/console/rounds/{survey_id}/kit")
    assert "各位家长：请扫码。\n乌恰县第一小学" in kit.text
    empty = await post_form(console, f"/console/rounds/{survey_id}/letter", {"text": "  "})
    assert empty.status_code == 422 and "请填写致家长的一封信" in empty.text

    archive = await console.get(f"/console/rounds/{survey_id}/qr.zip")
    assert archive.headers["content-type"] == "application/zip"
    zipped = zipfile.ZipFile(io.BytesIO(archive.content))
    names = [name for name in zipped.namelist() if name != "MANIFEST.sha256"]
    assert len(names) == len(demo_links) and "WQ01_parent.png" in names and "county_public.png" in names
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
    assert before.status_code == 200 and '<meta http-equiv="refresh"' in before.text
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
