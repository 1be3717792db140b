"""导入问卷星数据 through the console's forms, on SQLite and PostgreSQL: the bureau only, with its CSRF
token; a preview stores nothing; the confirmation imports every answer or none; again, nothing new."""

from __future__ import annotations

import re

from support.console_session import login, post_form
from support.helpers import fetch
from support.wjx_exports import county_export
from survey_service.core.resources import questionnaires_dir
from survey_service.demo.county import demo_schools
from survey_service.questionnaire import load_questionnaires

SOCIAL = load_questionnaires(questionnaires_dir())["social"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def count(settings) -> int:
    return (await fetch(settings, "SELECT COUNT(*) AS n FROM response"))[0]["n"]


def export_bytes(tmp_path) -> bytes:
    return county_export(tmp_path / "e.xlsx", SOCIAL, [(s.code, s.name) for s in demo_schools()]).read_bytes()


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


async def test_preview_then_confirm_imports_once(console, settings, demo_links, tmp_path):
    survey_id = demo_links[0].survey
    await login(console, "chief")
    page = await console.get(f"/console/rounds/{survey_id}")
    assert "导入问卷星数据" in page.text
    preview = await post_form(
        console,
        f"/console/rounds/{survey_id}/wjx/preview",
        files={"export": ("问卷星.xlsx", export_bytes(tmp_path), XLSX)},
    )
    assert preview.status_code == 200, preview.text
    answers = int(re.search(r"(\d+) 份答卷可以导入", preview.text).group(1))
    assert "身份列：1、您的身份是：" in preview.text and await count(settings) == 0
    fields = {name: hidden(preview.text, name) for name in ("filename", "payload", "map_payload", "unmatched")}
    done = await post_form(console, f"/console/rounds/{survey_id}/wjx/import", fields)
    assert done.status_code == 200
    assert f"已从 问卷星.xlsx 导入 {answers} 份答卷（来源：问卷星导入）" in done.text
    assert await count(settings) == answers
    again = await post_form(console, f"/console/rounds/{survey_id}/wjx/import", fields)
    assert f"导入 0 份答卷（来源：问卷星导入）；另有 {answers} 份此前已导入" in again.text
    assert await count(settings) == answers
    log = await fetch(settings, "SELECT action, details, actor FROM round_change WHERE action = 'import'")
    assert log == [
        {"action": "import", "details": f"从问卷星导出文件 问卷星.xlsx 导入 {answers} 份答卷。", "actor": "chief"}
    ]
    results = await console.get(f"/console/rounds/{survey_id}/results")
    assert "来源：问卷星导入" in results.text


async def test_a_bad_file_or_a_forged_request_changes_nothing(console, settings, demo_links, tmp_path):
    survey_id = demo_links[0].survey
    await login(console, "chief")
    content = export_bytes(tmp_path)
    # Not an export at all.
    refused = await post_form(
        console,
        f"/console/rounds/{survey_id}/wjx/preview",
        files={"export": ("x.csv", b"a,b\n1,2\n", "text/csv")},
    )
    assert refused.status_code == 422 and "文件没有导入，本轮答卷没有任何变化" in refused.text
    # A confirmation whose payload is not base64.
    forged = await post_form(console, f"/console/rounds/{survey_id}/wjx/import", {"payload": "%%%", "filename": "x"})
    assert forged.status_code == 400 and "导入内容无效" in forged.text
    # Without the CSRF token.
    no_token = await console.post(
        f"/console/rounds/{survey_id}/wjx/preview", files={"export": ("e.xlsx", content, XLSX)}, follow_redirects=False
    )
    assert no_token.status_code == 403
    assert await count(settings) == 0
    # A school's operator may not import.
    await login(console, "op01")
    assert (await console.get(f"/console/rounds/{survey_id}/wjx")).status_code == 403
    forbidden = await post_form(
        console, f"/console/rounds/{survey_id}/wjx/preview", files={"export": ("e.xlsx", content, XLSX)}
    )
    assert forbidden.status_code == 403
    assert await count(settings) == 0
