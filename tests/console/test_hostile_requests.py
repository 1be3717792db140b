"""Zero 5xx (issue 13, item 4): each hostile request that once got a server error now gets a clear 4xx,
on both backends, signed in or not."""

from __future__ import annotations

import pytest

from support.console_session import login, post_form
from support.helpers import fetch

HUGE = "99999999999999999999"
# A new round as the console's form sends it.
ROUND = {
    "title": "测试轮次",
    "region": "某县",
    "resident_population": "50000",
    "opens_at": "2030-05-10T08:00",
    "closes_at": "2030-05-20T20:00",
    "target": "85",
    "confidence": "95",
    "design": "strata",
}


async def test_ids_beyond_any_integer_are_404_in_every_console_path(console, demo_links):
    await login(console, "chief")
    survey = demo_links[0].survey
    paths = [
        f"/console/rounds/{HUGE}",
        f"/console/rounds/{HUGE}/results",
        f"/console/rounds/{HUGE}/report",
        f"/console/rounds/{HUGE}/results.xlsx",
        f"/console/rounds/{HUGE}/review",
        f"/console/rounds/{HUGE}/audit",
        f"/console/rounds/{HUGE}/progress",
        f"/console/rounds/{HUGE}/roster",
        f"/console/rounds/{HUGE}/kit",
        f"/console/rounds/{HUGE}/suggestions",
        f"/console/rounds/{HUGE}/schools/WQ01/results",
        f"/console/rounds/-{HUGE}/review",
        f"/api/v1/surveys/{HUGE}/results",
        f"/console/rounds/{survey}/roster/edit/{'W' * 5000}",
    ]
    for path in paths:
        response = await console.get(path)
        assert response.status_code in (400, 404), (path, response.status_code)
        assert "找不到" in response.text or "无效" in response.text, path


@pytest.mark.parametrize(
    "path",
    [
        "/static/console/%00",
        "/static/console/console.css%00",
        "/static/console/" + "a" * 300,
        "/static/console/" + "a" * 300 + ".css",
        "/static/console/../../../etc/passwd",
        "/static/console/%2e%2e/%2e%2e/etc/passwd",
    ],
)
async def test_hostile_static_paths_are_404(client, path):
    response = await client.get(path)
    assert response.status_code in (400, 404), response.status_code


async def test_a_nul_or_a_huge_login_name_is_refused_plainly(console):
    for username in (
        "chief\x00",
        "\x00",
        "a" * 10_000,
        "ch\udcffief".encode("utf-8", "surrogatepass").decode("latin-1"),
    ):
        response = await login(console, username, "whatever-password")
        assert response.status_code in (400, 401, 429), (repr(username[:20]), response.status_code)


async def test_a_double_clicked_import_stores_the_roster_once(console, settings):
    """确认导入 clicked twice sends the same import twice at once: one import, no error."""
    import asyncio
    import html
    import re

    await login(console, "chief")
    created = await post_form(
        console,
        "/console/rounds",
        ROUND | {"title": "双击测试"},
    )
    assert created.status_code == 303, created.text
    survey = int(created.headers["location"].rsplit("/", 1)[1])
    roster = "学校代码,学校名称,学段,城乡类型,学生数,家长数,教师数,校长数\nDC01,双击一小,小学,城区,300,250,20,1\n"
    preview = await post_form(
        console, f"/console/rounds/{survey}/roster/preview", files={"roster": ("r.csv", roster.encode(), "text/csv")}
    )
    payload = html.unescape(re.search(r'name="payload" value="([^"]*)"', preview.text).group(1))
    both = await asyncio.gather(
        *(post_form(console, f"/console/rounds/{survey}/roster/import", {"payload": payload}) for _ in range(2))
    )
    assert [r.status_code for r in both] == [303, 303]
    assert len(await fetch(settings, "SELECT id FROM school WHERE survey = ?", survey)) == 1
    assert len(await fetch(settings, "SELECT id FROM link WHERE survey = ?", survey)) == 4 + 2
    logged = await fetch(settings, "SELECT id FROM round_change WHERE survey = ? AND action = 'roster_add'", survey)
    assert len(logged) == 1


async def test_round_settings_take_only_finite_numbers_in_range(console, settings):
    """NaN, infinities and numbers beyond range in the round form: a 422 naming the field, no round."""
    await login(console, "chief")
    base = ROUND | {"title": "数值测试"}
    before = await fetch(settings, "SELECT COUNT(*) AS n FROM survey")
    labels = {
        "target": "目标认可度",
        "confidence": "置信水平",
        "weight_parent": "家长的权重",
        "resident_population": "常住人口",
    }
    for field, value in [
        ("target", "nan"),
        ("target", "inf"),
        ("target", "1e999"),
        ("target", "-85"),
        ("confidence", "NaN"),
        ("weight_parent", "inf"),
        ("weight_parent", "-1"),
        ("resident_population", "9" * 5000),
        ("resident_population", "1e20"),
    ]:
        refused = await post_form(console, "/console/rounds", base | {field: value})
        assert refused.status_code == 422, (field, value, refused.status_code)
        assert labels[field] in refused.text and 'aria-invalid="true"' in refused.text, (field, value)
    assert await fetch(settings, "SELECT COUNT(*) AS n FROM survey") == before
