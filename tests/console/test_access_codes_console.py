"""The bureau's access codes (访问码) in the console: which groups need them, codes generated once as a
printable cut-out sheet (or CSV), issued and used counts per school and county group, voiding a lost
sheet's codes; every change in the round's change log. Schools' operators may do none of it."""

from __future__ import annotations

import html
import re

from support.console_session import login, post_form
from support.helpers import fetch, filled_form, link_for, token_of
from survey_service.demo.county import DEPUTIES, demo_schools
from survey_service.distribution.access_codes import code_hash, normalise

CODE = re.compile(r'<p class="code">([0-9A-Z]{4}-[0-9A-Z]{4})</p>')


async def link_id(settings, link) -> int:
    [row] = await fetch(settings, "SELECT id FROM link WHERE token = ?", token_of(link))
    return row["id"]


def count_cells(page: str, link: int) -> list[str]:
    row = re.search(rf'<tr id="codes-{link}">(.*?)</tr>', page, flags=re.S).group(1)
    return re.findall(r"<td>([^<]*)</td>", row)[2:7]


async def test_the_bureau_generates_prints_counts_and_voids_codes(console, demo_links, settings):
    await login(console, "chief")
    survey = demo_links[0].survey
    principal = link_for(demo_links, "principal", "WQ01")
    principal_id = await link_id(settings, principal)

    # The round page lists the principal and deputy links with their counts.
    round_page = (await console.get(f"/console/rounds/{survey}")).text
    assert "访问码" in round_page and "校长、人大代表/政协委员" in round_page
    people = str(demo_schools()[0].principals)  # WQ01's principals on the roster
    assert count_cells(round_page, principal_id) == [people, "0", "0", "0", "0"]

    sheet = await post_form(console, f"/console/rounds/{survey}/codes", {"link": str(principal_id), "count": "3"})
    assert sheet.status_code == 200 and sheet.headers["cache-control"] == "no-store"
    codes = CODE.findall(sheet.text)
    assert len(codes) == 3 and len(set(codes)) == 3
    assert (
        sheet.text.count("一码一人，仅可使用一次") == 3
        and sheet.text.count('<p class="where">乌恰县第一小学 · 校长</p>') == 3
    )
    assert f'src="/qr/{token_of(principal)}.png"' in sheet.text and principal.url in sheet.text
    # Only their keyed hashes are kept.
    stored = {row["code_hash"] for row in await fetch(settings, "SELECT code_hash FROM access_code")}
    assert stored == {code_hash(settings.secret, normalise(code)) for code in codes}

    # One is used by a principal's answer.
    console.cookies.delete("sv_device")
    form = filled_form((await console.get(principal.url.replace("http://survey.test", ""))).text, access_code=codes[0])
    assert (await console.post(f"/s/{token_of(principal)}", data=form, follow_redirects=False)).status_code == 303
    page = (await console.get(f"/console/rounds/{survey}/codes")).text
    assert count_cells(page, principal_id) == [people, "3", "1", "0", "2"]

    # The sheet is lost: its unused codes are voided (the used one stays used), and refused from now on.
    assert (
        await post_form(console, f"/console/rounds/{survey}/codes/void", {"link": str(principal_id)})
    ).status_code == 303
    page = (await console.get(f"/console/rounds/{survey}/codes")).text
    assert count_cells(page, principal_id) == [people, "3", "1", "2", "0"]

    # As a CSV file instead of a sheet.
    csv = await post_form(
        console, f"/console/rounds/{survey}/codes", {"link": str(principal_id), "count": "2", "format": "csv"}
    )
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "学校,调查对象,访问码,问卷链接,批次" and len(lines) == 3
    assert lines[1].startswith("乌恰县第一小学,校长,") and principal.url in lines[1]

    # Every link without codes yet, as many as its roster counts (one per principal, the deputies).
    every = await post_form(console, f"/console/rounds/{survey}/codes", {"link": "all"})
    assert every.status_code == 200
    assert len(CODE.findall(every.text)) == sum(s.principals for s in demo_schools()[1:]) + DEPUTIES
    page = (await console.get(f"/console/rounds/{survey}")).text
    deputy_id = await link_id(settings, link_for(demo_links, "deputy"))
    assert count_cells(page, deputy_id) == [str(DEPUTIES), str(DEPUTIES), "0", "0", str(DEPUTIES)]

    changes = html.unescape((await console.get(f"/console/rounds/{survey}")).text)
    assert "为乌恰县第一小学 校长生成访问码 3 个（第 1 批）。" in changes
    assert "作废乌恰县第一小学 校长尚未使用的访问码 2 个。" in changes
    assert "按名单人数生成访问码共" in changes


async def test_the_bureau_chooses_which_groups_need_codes(console, demo_links, settings):
    await login(console, "chief")
    survey = demo_links[0].survey
    teacher = token_of(link_for(demo_links, "teacher"))
    principal = token_of(link_for(demo_links, "principal"))
    assert 'name="access_code"' not in (await console.get(f"/s/{teacher}")).text
    saved = await post_form(console, f"/console/rounds/{survey}/codes/groups", {"group": ["teacher", "deputy"]})
    assert saved.status_code == 303
    console.cookies.delete("sv_device")
    assert 'name="access_code"' in (await console.get(f"/s/{teacher}")).text
    assert 'name="access_code"' not in (await console.get(f"/s/{principal}")).text
    assert "需要访问码的群体改为：教师、人大代表/政协委员。" in html.unescape(
        (await console.get(f"/console/rounds/{survey}")).text
    )


async def test_a_school_operator_cannot_see_or_generate_codes(console, demo_links, settings):
    await login(console, "op01")
    survey = demo_links[0].survey
    principal_id = await link_id(settings, link_for(demo_links, "principal", "WQ01"))
    assert (await console.get(f"/console/rounds/{survey}/codes")).status_code == 403
    refused = await post_form(console, f"/console/rounds/{survey}/codes", {"link": str(principal_id), "count": "3"})
    assert refused.status_code == 403
    assert await fetch(settings, "SELECT id FROM access_code") == []
