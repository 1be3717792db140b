"""Every route of the app, walked: anonymous visitors and an operator of another school are refused
wherever they should be. A route not named below is taken to be the bureau's alone."""

from __future__ import annotations

import re

import pytest

from support.console_session import csrf_of, login
from survey_service.app import create_app
from survey_service.core.settings import Settings

# Anyone may open these: the respondent's path, QR codes, health, the API schema, static files, login.
PUBLIC = re.compile(
    r"^(/s/|/qr/|/api/v1/links/|/api/v1/responses$|/healthz$|/readyz$|/schema|/static/|/console/login$)"
)
# Any signed-in account: its home page and logging out.
SIGNED_IN = {"/console", "/console/logout"}
# One school's part of a round: the bureau and that school's operator.
SCHOOL_PART = "/schools/{school_code:str}"
OTHER_SCHOOL = "WQ01"  # op02 belongs to WQ02


def all_routes() -> list[tuple[str, str]]:
    app = create_app(Settings(database_url=":memory:"))
    return [
        (route.path, method)
        for route in app.routes
        for method in sorted(route.methods)
        if method not in ("OPTIONS", "HEAD")
    ]


def concrete(path: str, survey_id: int, token: str) -> str:
    values = {
        "survey_id": str(survey_id),
        "school_code": OTHER_SCHOOL,
        "token": token,
        "filename": f"{token}.png",
        "file_path": "console.css",
        "path": "openapi.json",
        "response_id": "1",
        "group": "parent",
        "serial": "1",
    }
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], path)


def refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    return response.status_code in (302, 303) and response.headers["location"].startswith("/console/login")


async def call(client, method: str, path: str):
    # A valid CSRF token goes with every unsafe request: what refuses it must be the access check.
    data = {"_csrf_token": csrf_of(client)} if method != "GET" else None
    return await client.request(method, path, data=data, follow_redirects=False)


ROUTES = all_routes()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_every_route_refuses_those_it_should(console, demo_links):
    survey_id, token = demo_links[0].survey, demo_links[0].url.rsplit("/", 1)[1]
    assert len(ROUTES) > 30
    problems = []
    for who in ("anonymous", "op02"):
        if who == "anonymous":
            console.cookies.clear()
            await console.get("/console/login")  # the CSRF cookie, and no session
        else:
            assert (await login(console, "op02")).status_code == 303
        for template, method in ROUTES:
            if PUBLIC.match(template):
                continue
            if who == "op02" and template in SIGNED_IN:
                continue
            response = await call(console, method, concrete(template, survey_id, token))
            if not refused(response):
                problems.append(f"{who} {method} {template} -> {response.status_code}")
            elif who == "op02" and response.status_code != 403:
                problems.append(f"{who} {method} {template} -> {response.status_code}, not 403")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_public_routes_need_no_account(console, demo_links):
    survey_id, token = demo_links[0].survey, demo_links[0].url.rsplit("/", 1)[1]
    console.cookies.clear()
    for template, method in ROUTES:
        if PUBLIC.match(template) and method == "GET":
            response = await console.get(concrete(template, survey_id, token), follow_redirects=False)
            assert not refused(response) and response.status_code < 500, (template, response.status_code)


async def test_an_operator_sees_its_own_school_only(console, demo_links):
    survey_id = demo_links[0].survey
    await login(console, "op01")
    home = await console.get("/console")
    assert f"/console/rounds/{survey_id}/schools/WQ01" in home.text and "新建调查轮次" not in home.text
    school = f"/console/rounds/{survey_id}/schools/WQ01"
    for path in (school, f"{school}/kit", f"{school}/qr.zip", f"{school}/links.csv", f"{school}/links.xlsx"):
        response = await console.get(path)
        assert response.status_code == 200, path
    page = await console.get(school)
    assert "乌恰县第一小学" in page.text and "乌恰县第二小学" not in page.text
    kit = await console.get(f"{school}/kit")
    # Its sheets and links without the principals' (they answer by a code the bureau issues).
    own = {
        link.url.rsplit("/", 1)[1] for link in demo_links if link.school_code == "WQ01" and link.group != "principal"
    }
    assert set(re.findall(r'src="/qr/([^".]+)\.png"', kit.text)) == own
    links = (await console.get(f"{school}/links.csv")).content.decode("utf-8-sig")
    assert links.count("WQ01") == 3 and "WQ02" not in links and ",principal," not in links
    image = await console.get(f"{school}/qr/parent")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert (await console.get(f"{school}/qr/principal")).status_code == 404
    other = await console.get(f"/console/rounds/{survey_id}/schools/WQ02")
    assert other.status_code == 403 and "只能查看本校" in other.text
    results = await console.get(f"/api/v1/surveys/{survey_id}/results")
    assert results.status_code == 403 and results.json()["code"] == "forbidden"


async def test_the_results_api_is_for_the_bureau(console, demo_links):
    survey_id = demo_links[0].survey
    console.cookies.clear()
    anonymous = await console.get(f"/api/v1/surveys/{survey_id}/results")
    assert anonymous.status_code == 401 and anonymous.json()["message"] == "请先登录。"
    await login(console, "chief")
    assert (await console.get(f"/api/v1/surveys/{survey_id}/results")).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_no_console_page_or_result_is_kept_in_a_cache(console, demo_links):
    """Every console page, download and the results API answers the bureau with Cache-Control: no-store
    (a shared computer's browser, or a proxy, keeps nothing), but for a school's captioned QR images,
    which an operator saves on a phone."""
    survey_id, token = demo_links[0].survey, demo_links[0].url.rsplit("/", 1)[1]
    assert (await login(console, "chief")).status_code == 303
    looked_at = 0
    for template, method in ROUTES:
        if method != "GET" or not template.startswith(("/console", "/api/v1/surveys")) or "/qr/" in template:
            continue
        response = await console.get(concrete(template, survey_id, token), follow_redirects=False)
        if response.status_code == 200:
            looked_at += 1
            assert "no-store" in response.headers.get("cache-control", ""), template
    assert looked_at > 20
