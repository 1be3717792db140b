"""Zero 5xx (issue 13, item 4) on the respondent's path and what every route shares: tokens of no
link's shape refused before any lookup, JSON bounded in depth and refused plainly when it is not
JSON, NUL and bytes that are not UTF-8 a 4xx, a Host header no URL can be made of a 400, console
cookies of the wrong shape ignored. On both backends."""

from __future__ import annotations

import json

import pytest

from support.console_session import PASSWORD, csrf_of, login, post_form
from support.helpers import fetch, link_for, token_of
from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account

IMPLAUSIBLE = [
    "%00",
    "a%00b",
    "%ff%fe",
    "%E4%B8%AD" * 6,
    "a" * 15,
    "a" * 17,
    "a" * 5000,
    "abcdefghijklmno%2B",
    "abcdefghijklmno.",
]


async def count_responses(settings) -> int:
    return (await fetch(settings, "SELECT COUNT(*) AS n FROM response"))[0]["n"]


@pytest.mark.parametrize("token", IMPLAUSIBLE)
async def test_a_token_of_no_links_shape_is_404_in_every_route_and_never_cached(client, token):
    links = client.app.state.respond.links
    for path in (f"/s/{token}", f"/s/{token}/thanks", f"/api/v1/links/{token}", f"/qr/{token}.png", f"/qr/{token}.svg"):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)
    posted = await client.post(f"/s/{token}", data={"_nonce": "x", "overall": "satisfied"})
    assert posted.status_code == 404
    multipart = await client.post(f"/s/{token}", files={"overall": (None, "satisfied")})
    assert multipart.status_code == 404
    api = await client.post("/api/v1/responses", json={"token": token[:64], "nonce": "x", "answers": {}})
    assert api.status_code in (400, 404), api.text
    assert len(links) == 0 and links.size_bytes == 0


async def test_a_token_of_the_right_shape_that_is_no_link_is_404_and_cached_within_bounds(client):
    links = client.app.state.respond.links
    response = await client.get("/s/AAAAAAAAAAAAAAAA")
    assert response.status_code == 404 and "找不到这份问卷" in response.text
    assert len(links) == 1 and 0 < links.size_bytes < 4096


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'{"token": "x", "nonce": "y", "answers": ' + b'{"a":' * 1000 + b"1" + b"}" * 1000 + b"}",
        b"[" * 9 + b"]" * 9,  # one level beyond MAX_JSON_DEPTH
        b'{"token": "\xff", "nonce": "y", "answers": {}}',
        b"\xef\xbb\xbf{}",
        b'{"token": "\\ud800", "nonce": "y", "answers": {}}',
        b'{"token": 1e999, "nonce": "y", "answers": {}}',
        b"{",
        b"",
    ],
)
async def test_a_json_body_too_deep_or_not_json_is_a_plain_400(client, settings, body):
    before = await count_responses(settings)
    response = await client.post("/api/v1/responses", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_body" and response.json()["message"].startswith("提交的")
    assert await count_responses(settings) == before


async def test_a_json_body_over_the_size_limit_is_413(client, settings):
    body = json.dumps({"token": "x", "nonce": "y", "answers": {"a": "b" * settings.max_body_bytes}}).encode()
    response = await client.post("/api/v1/responses", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413


async def test_a_nul_in_a_json_token_or_nonce_is_404_and_in_an_answer_a_named_refusal(client, demo_links, settings):
    form = (await client.get(f"/api/v1/links/{token_of(link_for(demo_links, 'parent'))}")).json()
    answers = {item["id"]: item["options"][0]["code"] for item in form["items"] if item["options"]}
    text_item = next(item["id"] for item in form["items"] if item["kind"] == "text")
    sent = await client.post("/api/v1/responses", json={"token": "\x00", "nonce": form["nonce"], "answers": answers})
    assert sent.status_code == 404
    body = {"token": form["token"], "nonce": form["nonce"], "answers": answers | {text_item: "好\x00"}}
    sent = await client.post("/api/v1/responses", json=body)
    assert sent.status_code == 422, sent.text
    assert {e["field"] for e in sent.json()["errors"]} == {f"answers.{text_item}"}
    assert await count_responses(settings) == 0


async def test_a_control_character_in_a_free_text_answer_is_refused_by_item_on_the_form(client, demo_links, settings):
    from support.helpers import filled_form, open_answer_page

    link = link_for(demo_links, "parent")
    html = await open_answer_page(client, token_of(link))
    form = filled_form(html) | {"suggestions": "学校很好\x00\x1b"}
    response = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    assert response.status_code == 422 and "无法识别的控制字符" in response.text
    form["suggestions"] = "学校很好\n食堂\t也好"
    response = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    assert response.status_code == 303
    assert await count_responses(settings) == 1


@pytest.mark.parametrize(
    "part",
    [
        b'Content-Disposition: form-data; name="overall"\r\n\r\n\xe1\x80',
        b'Content-Disposition: form-data; name="overall"\r\nContent-Type: text/plain; charset=x-nope\r\n\r\nok',
    ],
)
async def test_a_multipart_answer_that_is_not_utf8_is_400(client, demo_links, part):
    token = token_of(link_for(demo_links, "parent"))
    body = b"--b\r\n" + part + b"\r\n--b--\r\n"
    response = await client.post(
        f"/s/{token}", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400


@pytest.mark.parametrize("host", ["127.0.0.1:99999", "example.test:abc", "a:-1", "[::1]:70000"])
async def test_a_host_header_no_url_can_be_made_of_is_400(client, demo_links, host):
    token = token_of(link_for(demo_links, "parent"))
    for method, path in (("GET", "/api/v1/responses"), ("GET", "/console/rounds/1"), ("POST", f"/s/{token}")):
        response = await client.request(method, path, headers={"host": host})
        assert response.status_code == 400, (method, path, response.status_code)


@pytest.fixture
async def chief(demo_links) -> str:
    """A bureau account, created before the app starts (as tests/console/conftest.py does)."""
    await add_account(AccountSpec(username="chief", role=Role.bureau, password=PASSWORD))
    return "chief"


@pytest.mark.parametrize("value", ["%E4%B8%AD%E6%96%87", "%00", "a" * 5000, "乌恰".encode().decode("latin-1")])
async def test_a_console_cookie_of_the_wrong_shape_is_ignored(chief, client, value):
    for path in ("/console/login", "/console", "/console/rounds/1/review", "/api/v1/surveys/1/results"):
        client.cookies.clear()
        raw = f"console_session={value}; console_csrf={value}".encode("utf-8", "surrogatepass")
        response = await client.get(path, headers={"cookie": raw}, follow_redirects=False)
        assert response.status_code in (200, 303, 401), (path, response.status_code)
    # A signed-in console is not disturbed by a second, hostile cookie of the same name after its own.
    await login(client, chief)
    session = client.cookies.get("console_session")
    client.cookies.clear()
    response = await client.get("/console", headers={"cookie": f"console_session={session}"})
    assert response.status_code == 200


async def test_a_console_form_with_a_nul_or_bytes_that_are_not_utf8_is_400_and_changes_nothing(
    chief, client, demo_links, settings
):
    await login(client, chief)
    survey = demo_links[0].survey
    before = await fetch(settings, "SELECT title, closes_at FROM survey")
    response = await post_form(client, f"/console/rounds/{survey}/close", {"reason": "测试\x00"})
    assert response.status_code == 400 and "无法识别的字符" in response.text
    raw = f"_csrf_token={csrf_of(client)}&reason=%ff%fe".encode()
    response = await client.post(
        f"/console/rounds/{survey}/close", content=raw, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 400
    body = (
        f'--b\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n{csrf_of(client)}\r\n'
        '--b\r\nContent-Disposition: form-data; name="reason"\r\n\r\n'
    ).encode() + b"\xe1\x80\r\n--b--\r\n"
    response = await client.post(
        f"/console/rounds/{survey}/close", content=body, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400
    charset = body.replace(b"\r\n\r\n\xe1\x80", b"\r\nContent-Type: text/plain; charset=x-nope\r\n\r\nok")
    response = await client.post(
        f"/console/rounds/{survey}/close", content=charset, headers={"content-type": "multipart/form-data; boundary=b"}
    )
    assert response.status_code == 400
    assert await fetch(settings, "SELECT title, closes_at FROM survey") == before


async def test_a_csrf_token_beyond_ascii_is_a_failed_check_not_an_error(chief, client, demo_links):
    await login(client, chief)
    survey = demo_links[0].survey
    response = await client.post(f"/console/rounds/{survey}/close", data={"_csrf_token": "中文", "reason": "x"})
    assert response.status_code == 403
    response = await client.post(
        f"/console/rounds/{survey}/close", data={"reason": "x"}, headers={"x-csrftoken": "é".encode("latin-1")}
    )
    assert response.status_code == 403


async def test_a_population_beyond_any_float_is_named_on_the_round_form(chief, client):
    await login(client, chief)
    fields = {"title": "溢出", "region": "某县", "resident_population": "9" * 400, "opens_at": "2030-05-10T08:00"}
    response = await post_form(client, "/console/rounds", fields | {"closes_at": "2030-05-20T20:00"})
    assert response.status_code in (400, 422) and "常住人口必须是整数" in response.text


async def test_a_nul_in_a_console_path_or_query_is_404_or_400(chief, client, demo_links):
    await login(client, chief)
    survey = demo_links[0].survey
    for path in (
        f"/console/rounds/{survey}/schools/%00",
        f"/console/rounds/{survey}/schools/WQ%00/results",
        f"/console/rounds/{survey}/roster/edit/%00",
        f"/console/rounds/{survey}/schools/WQ01/qr/%00",
    ):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)
    for query in ("q=%00", "school=WQ01%00", "group=%00", "page=%00"):
        response = await client.get(f"/console/rounds/{survey}/suggestions?{query}")
        assert response.status_code == 400, (query, response.status_code)
