"""Fuzzing with a bounded number of examples: the API against its OpenAPI schema (no 5xx, responses
as documented), and the form parser and questionnaire loader against arbitrary input."""

from __future__ import annotations

import json
import socket
import sqlite3
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import NamedTuple

import hypothesis.strategies as st
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from support.console_session import PASSWORD, csrf_of, login
from support.helpers import demo_server, token_of
from survey_service.accounts.schemas import AccountSpec, Role
from survey_service.accounts.service import add_account
from survey_service.app import create_app
from survey_service.core.resources import questionnaires_dir
from survey_service.core.settings import Settings
from survey_service.questionnaire import QuestionnaireError, load_questionnaire


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("fuzz")
    with demo_server(directory) as (port, printed):
        parent_url = next(line.split(": ", 1)[1] for line in printed if "· 家长: " in line)
        yield port, directory / "demo.db", parent_url


def openapi_document() -> dict:
    """The document the app serves at /schema/openapi.json, built without a database."""
    with tempfile.TemporaryDirectory() as directory:
        return create_app(Settings(database_url=f"{directory}/schema.db")).openapi_schema.to_schema()


schema = schemathesis.openapi.from_dict(openapi_document())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_and_answers_as_documented(case, demo):
    port, _, _ = demo
    case.call_and_validate(base_url=f"http://127.0.0.1:{port}")


FORM_KEYS = st.sampled_from(["_nonce", "_lang", "moral_education", "overall", "suggestions", "x", "", "a[b]"])


def post_form(url: str, body: bytes) -> int:
    request = urllib.request.Request(url, data=body, headers={"content-type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def count_responses(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(*) FROM response").fetchone()[0]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    body=st.one_of(
        st.binary(max_size=600),
        st.lists(st.tuples(FORM_KEYS, st.text(max_size=40)), max_size=8).map(
            lambda pairs: "&".join(f"{k}={v}" for k, v in pairs).encode("utf-8", "surrogatepass")
        ),
    )
)
def test_the_answer_form_refuses_anything_malformed_without_storing(demo, body):
    _, db, url = demo
    before = count_responses(db)
    status = post_form(url, body)
    assert status in (400, 422), status
    assert count_responses(db) == before


@settings(max_examples=80, deadline=None)
@given(text=st.text(max_size=400))
def test_the_questionnaire_loader_fails_only_with_a_clear_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("q") / "fuzzed.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    with pytest.raises(QuestionnaireError, match="fuzzed.toml"):
        load_questionnaire(path)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_shipped_questionnaire_with_one_field_broken_is_refused_naming_the_file(tmp_path_factory, data):
    source = msgspec.toml.decode((questionnaires_dir() / "social.toml").read_bytes())
    field = data.draw(st.sampled_from(["id", "version", "title", "groups", "scale", "items"]))
    source[field] = data.draw(st.one_of(st.integers(), st.just([]), st.just(""), st.just({"x": 1})))
    path = tmp_path_factory.mktemp("q") / "broken.toml"
    path.write_bytes(msgspec.toml.encode(source))
    with pytest.raises(QuestionnaireError, match="broken.toml"):
        load_questionnaire(path)


# Zero 5xx (issue 13, item 4): hostile requests over every route family, through the app on each
# backend (the test client, signed in as each role or not), and raw over a socket to a live server
# (what no client library sends: odd methods, request lines, Host headers, lengths). bench/fuzz.py
# sends the same kinds at scale.

HOSTILE = [
    "", "\x00", "a\x00b", "\x01\x1b[31m\x7f", "\r\nX: y", "%", "%zz", "%ff", "%c0%af", "+", "&", "=", ";", "'",
    "\\", "' OR 1=1 --", "<script>alert(1)</script>", "{{7*7}}", "../../etc/passwd", "0", "-1", "1.5", "1e999",
    "NaN", "inf", "99999999999999999999", "9" * 400, "１２３", "\u202eevil", "\ufeff", "😀", "𠀀", "乌恰县第一小学",
    "satisfied", "WQ01", "parent", "null", "[]", "{}", "a" * 300, "中" * 2000,
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=30),
    st.binary(max_size=30).map(lambda raw: raw.decode("latin-1")),
)


def percent(text: str) -> str:
    return urllib.parse.quote(text.encode("utf-8", "surrogatepass"), safe="")


SEGMENT = st.one_of(
    TEXT.map(percent),
    st.binary(max_size=40).map(lambda raw: urllib.parse.quote_from_bytes(raw, safe="")),
    st.sampled_from(["%", "%zz", "..", "%2e%2e", "a%00b", "a" * 5000]),
)
GROUPS = ["student", "parent", "teacher", "principal", "deputy", "public"]
CONSOLE_GETS = [
    "/console", "/console/rounds/new", "/console/rounds/{sid}", "/console/rounds/{sid}/edit",
    "/console/rounds/{sid}/close", "/console/rounds/{sid}/letter", "/console/rounds/{sid}/links.csv",
    "/console/rounds/{sid}/roster", "/console/rounds/{sid}/roster/edit/{code}", "/console/rounds/{sid}/progress",
    "/console/rounds/{sid}/audit", "/console/rounds/{sid}/review", "/console/rounds/{sid}/results",
    "/console/rounds/{sid}/suggestions", "/console/rounds/{sid}/codes", "/console/rounds/{sid}/schools/{code}",
    "/console/rounds/{sid}/schools/{code}/results", "/console/rounds/{sid}/schools/{code}/qr/{group}",
    "/console/login", "/console/{junk}", "/api/v1/surveys/{sid}/results",
]  # fmt: skip
CONSOLE_POSTS = [
    "/console/rounds", "/console/rounds/{sid}/edit", "/console/rounds/{sid}/close", "/console/rounds/{sid}/reopen",
    "/console/rounds/{sid}/extend", "/console/rounds/{sid}/open", "/console/rounds/{sid}/roster/add",
    "/console/rounds/{sid}/roster/import", "/console/rounds/{sid}/roster/preview",
    "/console/rounds/{sid}/roster/edit/{code}", "/console/rounds/{sid}/review", "/console/rounds/{sid}/review/{rid}",
    "/console/rounds/{sid}/codes", "/console/rounds/{sid}/codes/groups", "/console/rounds/{sid}/codes/void",
    "/console/rounds/{sid}/national", "/console/login",
]  # fmt: skip
CONSOLE_FIELDS = [
    "_csrf_token", "title", "region", "resident_population", "opens_at", "closes_at", "target", "confidence",
    "design", "weight_parent", "population_deputy", "questionnaire_parent", "reason", "link", "action", "scope",
    "school", "group", "format", "text", "status", "stage", "roster", "payload", "note", "ids", "flag", "count",
    "confirm", "code", "name", "students", "parents", "username", "password", "next", "national_weighting",
    "national_design_effect",
]  # fmt: skip
FAMILIES = [
    "answer page", "answer post", "thank-you page", "JSON links", "JSON responses", "QR", "static",
    "console, no session", "console, bureau", "console, school", "login",
]  # fmt: skip


class Known(NamedTuple):
    tokens: list[str]
    nonces: list[tuple[str, str]]
    survey: int
    cookies: dict[str, dict[str, str]]  # role -> console_session and console_csrf


@pytest.fixture
async def known(demo_links, client_accounts, client) -> Known:
    tokens = [token_of(link) for link in demo_links]
    nonces = []
    for token in tokens[:12]:
        opened = await client.get(f"/api/v1/links/{token}")
        nonces.append((token, opened.json()["nonce"]))
    cookies = {}
    for role in ("bureau", "school"):
        await login(client, f"fuzz-{role}")
        cookies[role] = {"console_session": client.cookies["console_session"], "console_csrf": csrf_of(client)}
    client.cookies.clear()
    await client.get("/console/login")
    cookies["anonymous"] = {"console_csrf": csrf_of(client)}
    return Known(tokens, nonces, demo_links[0].survey, cookies)


@pytest.fixture
async def client_accounts(demo_links) -> None:
    """A bureau account and WQ01's operator, created before the app starts."""
    await add_account(AccountSpec(username="fuzz-bureau", role=Role.bureau, password=PASSWORD))
    await add_account(AccountSpec(username="fuzz-school", role=Role.school, school_code="WQ01", password=PASSWORD))


def a_token(data: st.DataObject, known: Known) -> str:
    kind = data.draw(st.sampled_from(["real", "shape", "mangled", "segment"]))
    real = data.draw(st.sampled_from(known.tokens))
    if kind == "real":
        return real
    if kind == "shape":
        return data.draw(
            st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=16, max_size=16)
        )
    if kind == "mangled":
        return percent(data.draw(st.sampled_from([real + "x", real[:-1], real.upper(), real + "\x00", " " + real])))
    return data.draw(SEGMENT)


def a_query(data: st.DataObject, names: list[str]) -> str:
    pairs = data.draw(st.lists(st.tuples(st.sampled_from([*names, "", "x"]), TEXT), max_size=3))
    return "?" + "&".join(f"{percent(k)}={percent(v)}" for k, v in pairs) if pairs else ""


def a_form(data: st.DataObject, names: list[str], given: dict[str, str]) -> bytes:
    kind = data.draw(st.sampled_from(["pairs", "given", "bytes", "many"]))
    if kind == "bytes":
        return data.draw(st.binary(max_size=300))
    if kind == "many":
        return b"&".join(b"f%d=1" % i for i in range(data.draw(st.sampled_from([201, 2000]))))
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(names), TEXT), max_size=8))
    if kind == "given":
        pairs = [*given.items(), *pairs]
    return "&".join(f"{percent(k)}={percent(v)}" for k, v in pairs).encode()


def a_multipart(data: st.DataObject, names: list[str]) -> tuple[str, bytes]:
    boundary = data.draw(st.sampled_from(["b", "", "x" * 80]))
    parts = []
    for name, value, as_file in data.draw(
        st.lists(st.tuples(st.sampled_from(names), st.binary(max_size=200), st.booleans()), max_size=4)
    ):
        filename = '; filename="roster.csv"' if as_file else ""
        charset = data.draw(
            st.sampled_from(
                ["", "\r\nContent-Type: text/plain; charset=x-nope", "\r\nContent-Type: text/plain; charset=gbk"]
            )
        )
        head = f'Content-Disposition: form-data; name="{name}"{filename}{charset}\r\n\r\n'.encode()
        parts.append(b"--" + boundary.encode() + b"\r\n" + head + value + b"\r\n")
    ending = data.draw(st.sampled_from([b"--" + boundary.encode() + b"--\r\n", b"", b"--"]))
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + ending


def a_console_path(data: st.DataObject, template: str, known: Known) -> str:
    sid = data.draw(st.sampled_from([str(known.survey)] * 4 + ["0", "2", "-1", "99999999999999999999", "abc", "%00"]))
    code = data.draw(st.one_of(st.sampled_from(["WQ01", "WQ02"]), SEGMENT))
    group = data.draw(st.one_of(st.sampled_from(GROUPS), SEGMENT))
    rid = data.draw(st.sampled_from(["1", "99999999999999999999", "-1", "x"]))
    junk = data.draw(SEGMENT)
    return (
        template.replace("{sid}", sid)
        .replace("{code}", code)
        .replace("{group}", group)
        .replace("{rid}", rid)
        .replace("{junk}", junk)
    )


def a_request(data: st.DataObject, known: Known) -> tuple[str, str, dict[str, str | bytes], bytes]:
    """(method, path, headers, body) of one hostile request of a family the data chooses."""
    family = data.draw(st.sampled_from(FAMILIES), label="family")
    headers: dict[str, str | bytes] = {}
    body = b""
    token, nonce = data.draw(st.sampled_from(known.nonces))
    if data.draw(st.booleans()):
        headers["cookie"] = f"sv_device={percent(data.draw(TEXT))}"
    if family == "answer page":
        return "GET", f"/s/{a_token(data, known)}" + a_query(data, ["lang", "again"]), headers, body
    if family == "thank-you page":
        return "GET", f"/s/{a_token(data, known)}/thanks" + a_query(data, ["r", "repeat"]), headers, body
    if family == "JSON links":
        return "GET", f"/api/v1/links/{a_token(data, known)}" + a_query(data, ["lang"]), headers, body
    if family == "QR":
        suffix = data.draw(st.sampled_from([".png", ".svg", ".gif", "", "."]))
        return "GET", f"/qr/{a_token(data, known)}{suffix}", headers, body
    if family == "static":
        name = data.draw(
            st.one_of(st.sampled_from(["console.css", "", "a" * 300, "%2e%2e/%2e%2e/etc/passwd"]), SEGMENT)
        )
        return data.draw(st.sampled_from(["GET", "HEAD"])), f"/static/console/{name}", headers, body
    if family == "answer post":
        path = f"/s/{token if data.draw(st.booleans()) else a_token(data, known)}"
        if data.draw(st.booleans()):
            headers["content-type"] = data.draw(
                st.sampled_from(["application/x-www-form-urlencoded", "text/plain", ""])
            )
            body = a_form(
                data,
                ["_nonce", "_lang", "access_code", "overall", "suggestions", "x", ""],
                {"_nonce": nonce, "overall": "satisfied"},
            )
        else:
            headers["content-type"], body = a_multipart(data, ["_nonce", "overall", "suggestions"])
        return "POST", path, headers, body
    if family == "JSON responses":
        headers["content-type"] = "application/json"
        kind = data.draw(st.sampled_from(["submission", "deep", "bytes", "value"]))
        if kind == "submission":
            submission = {"token": token, "nonce": nonce, "answers": {"overall": "satisfied"}}
            submission[data.draw(st.sampled_from(["token", "nonce", "answers", "access_code", "x"]))] = data.draw(
                st.one_of(TEXT, st.integers(), st.none(), st.dictionaries(TEXT, TEXT, max_size=3))
            )
            body = json.dumps(submission, ensure_ascii=data.draw(st.booleans())).encode("utf-8", "surrogatepass")
        elif kind == "deep":
            depth = data.draw(st.integers(15, 3000))
            body = b"[" * depth + b"]" * depth
        elif kind == "bytes":
            body = data.draw(st.binary(max_size=200))
        else:
            value = data.draw(
                st.recursive(
                    st.none() | st.booleans() | st.integers() | TEXT,
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
                    max_leaves=10,
                )
            )
            body = json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return "POST", "/api/v1/responses", headers, body
    # The console: signed in as a role or not; the CSRF token as a field, a header, wrong or missing.
    role = {
        "console, no session": "anonymous",
        "console, bureau": "bureau",
        "console, school": "school",
        "login": "anonymous",
    }[family]
    cookies = dict(known.cookies[role])
    if data.draw(st.integers(0, 9)) == 0:
        cookies["console_session"] = percent(data.draw(TEXT))
    headers["cookie"] = "; ".join([f"{k}={v}" for k, v in cookies.items()] + [str(headers.get("cookie", ""))])
    if family != "login" and data.draw(st.booleans()):
        path = a_console_path(data, data.draw(st.sampled_from(CONSOLE_GETS)), known) + a_query(
            data, ["next", "school", "group", "q", "page", "flag", "status"]
        )
        return data.draw(st.sampled_from(["GET", "GET", "HEAD", "DELETE"])), path, headers, body
    template = "/console/login" if family == "login" else data.draw(st.sampled_from(CONSOLE_POSTS))
    csrf = data.draw(st.sampled_from([cookies.get("console_csrf", ""), "", "中文", "x" * 128]))
    if data.draw(st.booleans()):
        headers["x-csrftoken"] = csrf.encode("utf-8")
    given = {"_csrf_token": csrf, "username": "fuzz-bureau", "password": "wrong", "next": "/console"}
    if data.draw(st.integers(0, 3)):
        headers["content-type"] = data.draw(
            st.sampled_from(
                ["application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=gbk", "text/plain"]
            )
        )
        body = a_form(data, CONSOLE_FIELDS, given)
    else:
        headers["content-type"], body = a_multipart(data, CONSOLE_FIELDS)
    return "POST", a_console_path(data, template, known), headers, body


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
async def test_no_hostile_request_through_the_app_is_a_server_error(known, client, data):
    method, path, headers, body = a_request(data, known)
    client.cookies.clear()
    response = await client.request(method, path, headers=headers, content=body, follow_redirects=False)
    assert response.status_code < 500, (method, path, headers, body[:300], response.text[:300])


PROTOCOL_PATHS = ["/s/{token}", "/s/{token}/thanks", "/api/v1/links/{token}", "/api/v1/responses", "/qr/{token}.png", "/static/console/console.css", "/console", "/console/rounds/1", "/healthz", "/"]  # fmt: skip


def raw_status(port: int, request: bytes, half_close: bool = False) -> int | None:
    """The status of the server's answer to `request` sent as is; None when it closed without one."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        if half_close:
            connection.shutdown(socket.SHUT_WR)
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += chunk
        except (ConnectionResetError, TimeoutError):
            return None
    return int(received.split(b" ", 2)[1]) if received.startswith(b"HTTP/") else None


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=st.data())
def test_no_hostile_request_line_header_or_length_is_a_server_error(demo, data):
    port, _, parent_url = demo
    token = parent_url.rsplit("/", 1)[1]
    path = data.draw(st.sampled_from(PROTOCOL_PATHS)).replace("{token}", data.draw(st.one_of(st.just(token), SEGMENT)))
    method = data.draw(
        st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS", "HEAD", "FOO", "get", "X" * 300])
    )
    headers = [b"Host: 127.0.0.1", b"Connection: close"]
    body = b""
    half_close = False
    kind = data.draw(st.sampled_from(["method", "header", "host", "length", "chunked", "line"]))
    if kind == "header":
        headers.append(data.draw(st.sampled_from([
            b"X-Big: " + b"a" * 60_000, b"Cookie: " + b"; ".join(b"c%d=1" % i for i in range(2000)), b"X-\xff: v",
            "名字: v".encode(), b"X-Value: \xff\xfe", b"Accept: */*;q=x", b"Range: bytes=999999-", b"Range: bytes=a-b",
            b"If-Modified-Since: Mon, 99 Foo 9999", b"Accept-Language: zh-CN;q=abc", b"X-Forwarded-For: \xff",
            b"Content-Type: multipart/form-data", b"Cookie: console_session=%E4%B8%AD; console_csrf=\xff",
        ])))  # fmt: skip
    elif kind == "host":
        headers[0] = b"Host: " + data.draw(
            st.sampled_from([b"", b"127.0.0.1:99999", b"x:abc", b"[::1", "例子.测试".encode(), b"a" * 5000, b"a b"])
        )
    elif kind == "length":
        method = "POST"
        headers.append(
            b"Content-Type: " + data.draw(st.sampled_from([b"application/json", b"application/x-www-form-urlencoded"]))
        )
        headers.append(
            b"Content-Length: " + data.draw(st.sampled_from([b"-1", b"abc", b"99999999999999999999", b"1e3", b"100"]))
        )
        body, half_close = b"a=b", True
    elif kind == "chunked":
        method = "POST"
        headers += [b"Content-Type: application/x-www-form-urlencoded", b"Transfer-Encoding: chunked"]
        body = data.draw(
            st.sampled_from([b"3\r\na=b\r\n0\r\n\r\n", b"zz\r\nxx\r\n0\r\n\r\n", b"FFFFFFFFFFFFFFFFFF\r\na\r\n"])
        )
        half_close = True
    elif kind == "method":
        body = data.draw(st.binary(max_size=50))
        headers.append(b"Content-Length: %d" % len(body))
    if kind == "line":
        request = data.draw(st.sampled_from([
            b"GET " + path.encode() + b" HTTP/1.0\r\n\r\n", b"GET " + path.encode() + b" HTTP/9.9\r\nHost: x\r\n\r\n",
            b"GET * HTTP/1.1\r\nHost: x\r\n\r\n", b"GET /s/\xe4\xb8\xad\xff HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET http://127.0.0.1" + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n", b"\x16\x03\x01\x02\x00\r\n\r\n",
        ]))  # fmt: skip
    else:
        request = f"{method} {path} HTTP/1.1\r\n".encode() + b"\r\n".join(headers) + b"\r\n\r\n" + body
    status = raw_status(port, request, half_close)
    assert status is None or status < 500, (request[:300], status)
