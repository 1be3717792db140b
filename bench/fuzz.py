"""Hostile requests against a live server: no response may be a server error (issue 13, item 4).

    python bench/fuzz.py [--requests 100000] [--seed 1] [--backends sqlite,postgres] [--connections 64]

For each backend, starts `survey-service serve` (two web workers; on SQLite beside its writer
process) on a fresh demo round with its simulated answers (PostgreSQL: a database created for the
run and dropped after it, from SURVEY_TEST_POSTGRES_URL or postgres@127.0.0.1), signs in a bureau
account and a school's operator, and sends `--requests` hostile requests from many connections at
once over raw HTTP/1.1 (so that nothing is cleaned up on the way): every route family (the answer
page and its post, the thank-you page, the JSON API, QR codes, static files, the console signed in
as each role or not, with and without the CSRF token, the results API, the login form), with odd
methods, headers, bodies and encodings. Each request is drawn from its own generator seeded with
`--seed` and its number, so a run can be repeated. Then runs `survey-service verify`.

Prints the status codes per route family and in all ("none": the server closed the connection
without answering, "timeout": no answer in time) and, if any response was a server error, the
server's first distinct tracebacks. Exits 1 when any response is ≥ 500 or verify fails.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from urllib.parse import quote, quote_from_bytes, urlencode

import httpx
from common import cli, free_port, fresh_database, links, serve_command

SECRET = "fuzz-secret-not-for-production"
PASSWORD = "fuzz-password-1"
HUGE = "99999999999999999999"
TIMEOUT = 30.0

# Strings that broke, or could break, something: NUL and control characters, bytes that are not
# UTF-8 once percent-decoded, numbers beyond any column, markup, template and SQL syntax, scripts
# written right to left, characters beyond the BMP, huge lengths.
HOSTILE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f",
    "\t\r\n",
    "\r\nSet-Cookie: x=1",
    "%",
    "%zz",
    "%00",
    "%ff%fe",
    "%c0%af",
    "%ed%a0%80",
    "+",
    "&",
    "=",
    ";",
    "'",
    '"',
    "\\",
    "' OR 1=1 --",
    "'); DROP TABLE response; --",
    "<script>alert(1)</script>",
    "{{7*7}}",
    "${7*7}",
    "{% raw %}",
    "../../../../etc/passwd",
    "..%2f..%2fetc%2fpasswd",
    "0",
    "-1",
    "1",
    "01",
    "1.5",
    "1e999",
    "-0",
    "NaN",
    "inf",
    HUGE,
    "-" + HUGE,
    "9" * 400,
    "0x10",
    "１２３",
    "١٢٣",
    "\u202eevil",
    "\ufeff",
    "\u3000",
    "😀",
    "𠀀𠀁",
    "乌恰县第一小学",
    "satisfied",
    "unknown",
    "parent",
    "WQ01",
    "true",
    "null",
    "[]",
    "{}",
    "a" * 256,
    "a" * 5000,
    "中" * 3000,
]
GROUPS = ["student", "parent", "teacher", "principal", "deputy", "public"]
ANSWER_KEYS = [
    "_nonce",
    "_lang",
    "_access_code",
    "access_code",
    "moral_education",
    "overall",
    "suggestions",
    "x",
    "",
    "a[b]",
]
CONSOLE_FIELDS = [
    "_csrf_token", "title", "region", "resident_population", "opens_at", "closes_at", "target", "confidence",
    "confidence_level", "design", "strata", "county_populations", "questionnaire_parent", "weight_parent",
    "population_parent", "reason", "link", "action", "scope", "school", "group", "format", "text", "status",
    "stage", "sender", "roster", "q", "payload", "note", "next", "location", "keep_reason", "ids", "flag",
    "expected", "exclude_reason", "count", "confirm", "code", "name", "students", "parents", "teachers",
    "principals", "username", "password",
]  # fmt: skip
CONSOLE_GETS = [
    "/console", "/console/rounds/new", "/console/roster-template.csv", "/console/rounds/{sid}",
    "/console/rounds/{sid}/edit", "/console/rounds/{sid}/close", "/console/rounds/{sid}/reopen",
    "/console/rounds/{sid}/extend", "/console/rounds/{sid}/letter", "/console/rounds/{sid}/links.csv",
    "/console/rounds/{sid}/roster", "/console/rounds/{sid}/roster/edit", "/console/rounds/{sid}/roster/edit/{code}",
    "/console/rounds/{sid}/progress", "/console/rounds/{sid}/audit", "/console/rounds/{sid}/review",
    "/console/rounds/{sid}/results", "/console/rounds/{sid}/suggestions", "/console/rounds/{sid}/codes",
    "/console/rounds/{sid}/schools/{code}", "/console/rounds/{sid}/schools/{code}/results",
    "/console/rounds/{sid}/schools/{code}/suggestions", "/console/rounds/{sid}/schools/{code}/links.csv",
    "/console/rounds/{sid}/schools/{code}/qr/{group}", "/console/rounds/{sid}/kit",
    "/console/rounds/{sid}/schools/{code}/kit", "/console/login", "/console/{junk}", "/console/rounds/{junk}",
]  # fmt: skip
# Pages that build a file or a whole report: asked for seldom, so that the run stays short.
CONSOLE_HEAVY = [
    "/console/rounds/{sid}/report", "/console/rounds/{sid}/results.xlsx", "/console/rounds/{sid}/links.xlsx",
    "/console/rounds/{sid}/qr.zip", "/console/rounds/{sid}/schools/{code}/qr.zip",
    "/console/rounds/{sid}/schools/{code}/links.xlsx", "/console/roster-template.xlsx",
]  # fmt: skip
CONSOLE_POSTS = [
    "/console/rounds", "/console/rounds/{sid}/edit", "/console/rounds/{sid}/close", "/console/rounds/{sid}/reopen",
    "/console/rounds/{sid}/extend", "/console/rounds/{sid}/letter", "/console/rounds/{sid}/open",
    "/console/rounds/{sid}/roster/add", "/console/rounds/{sid}/roster/import", "/console/rounds/{sid}/roster/preview",
    "/console/rounds/{sid}/roster/edit/{code}", "/console/rounds/{sid}/review", "/console/rounds/{sid}/review/{rid}",
    "/console/rounds/{sid}/codes", "/console/rounds/{sid}/codes/groups", "/console/rounds/{sid}/codes/void",
    "/console/login", "/console/{junk}",
]  # fmt: skip
METHODS = [
    "PUT",
    "DELETE",
    "PATCH",
    "TRACE",
    "OPTIONS",
    "HEAD",
    "CONNECT",
    "PROPFIND",
    "get",
    "FOO",
    "M-SEARCH",
    "X" * 300,
]


@dataclass
class Target:
    """What the fuzzer knows of the live server: its port, links, nonces, sessions."""

    port: int
    tokens: list[str]
    nonces: list[tuple[str, str]]  # (token, nonce) from the JSON API
    answers: dict[str, dict[str, str]]  # token -> a complete, valid answer to its questionnaire
    text_items: dict[str, list[str]]  # token -> its free-text items
    survey: int
    codes: list[str]
    bureau: dict[str, str]  # cookies: console_session, console_csrf
    school: dict[str, str]
    school_code: str
    anonymous: dict[str, str]  # an anonymous visitor's CSRF cookie (the login page's)


@dataclass
class Request:
    family: str
    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    fresh: bool = False  # a connection of its own, closed after the answer (for malformed requests)
    half_close: bool = False  # nothing more is sent after it (a body shorter than it says ends there)
    raw: bytes | None = None  # the whole request as is, when it is not HTTP at all

    def encode(self, port: int) -> bytes:
        if self.raw is not None:
            return self.raw
        head = [self.method.encode("latin-1", "replace") + b" " + self.target + b" HTTP/1.1"]
        names = {name.lower() for name, _ in self.headers}
        if b"host" not in names:
            head.append(b"Host: 127.0.0.1:%d" % port)
        if (
            b"content-length" not in names
            and b"transfer-encoding" not in names
            and (self.body or self.method == "POST")
        ):
            head.append(b"Content-Length: %d" % len(self.body))
        head += [name + b": " + value for name, value in self.headers]
        return b"\r\n".join(head) + b"\r\n\r\n" + self.body


# Drawing hostile pieces.


def text(rng: Random) -> str:
    roll = rng.random()
    if roll < 0.6:
        return rng.choice(HOSTILE)
    if roll < 0.8:
        return "".join(
            chr(rng.choice([rng.randrange(0, 128), rng.randrange(128, 0x3000), 0x4E2D]))
            for _ in range(rng.randrange(0, 40))
        )
    return rng.choice(HOSTILE) + rng.choice(HOSTILE)


def raw_bytes(rng: Random, limit: int = 300) -> bytes:
    return rng.randbytes(rng.randrange(0, limit))


def segment(rng: Random) -> bytes:
    """A path segment: percent-encoded text or bytes (NUL, not UTF-8, huge), sometimes raw."""
    roll = rng.random()
    if roll < 0.5:
        return quote(text(rng).encode("utf-8", "surrogatepass"), safe="").encode()
    if roll < 0.75:
        return quote_from_bytes(raw_bytes(rng, 80), safe="").encode()
    if roll < 0.9:
        return text(rng).encode("utf-8", "surrogatepass").replace(b" ", b"%20")  # raw, as a careless client sends
    return rng.choice([b"%", b"%zz", b"..", b".", b"%2e%2e", b"%2f", b"a%00b", b"a" * 70_000])


def token(rng: Random, target: Target) -> bytes:
    roll = rng.random()
    if roll < 0.2:
        return rng.choice(target.tokens).encode()
    if roll < 0.35:  # a token's shape, but no link
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "".join(rng.choice(alphabet) for _ in range(16)).encode()
    if roll < 0.5:  # a real token, mangled
        real = rng.choice(target.tokens)
        return quote(
            rng.choice([real + "x", real[:-1], real.upper(), real + "\x00", " " + real, real + "%"]), safe=""
        ).encode()
    return segment(rng)


def query(rng: Random, names: list[str]) -> bytes:
    if rng.random() < 0.5:
        return b""
    pairs = [(rng.choice(names + ["", "x"]), text(rng)) for _ in range(rng.randrange(1, 4))]
    encoded = "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs
    )
    if rng.random() < 0.2:
        encoded += "&" + rng.choice(
            ["%", "%zz=1", "lang=%ff", "again=%00", "again=" + HUGE, "a=" + "b" * 9000, "&&&", "=="]
        )
    if rng.random() < 0.05:  # raw bytes, not percent-encoded
        return (
            b"?" + encoded.encode() + rng.choice([b"&x=\xff\xfe", b"&lang=\xe4\xb8\xad", b"&\x00=\x00", b"&next=\x80"])
        )
    return b"?" + encoded.encode()


def headers(rng: Random, cookies: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
    """A few headers a browser sends, some hostile: cookies, languages, user agents, forwarding."""
    out: list[tuple[bytes, bytes]] = []
    cookie = "; ".join(f"{k}={v}" for k, v in (cookies or {}).items())
    if rng.random() < 0.3:
        cookie = "; ".join(
            filter(
                None,
                [
                    cookie,
                    f"sv_device={quote(text(rng))}",
                    rng.choice(["", "console_session=" + quote(text(rng)), "=;;=", "a" * 5000]),
                ],
            )
        )
    if cookie:
        out.append((b"Cookie", cookie.encode("utf-8", "surrogatepass")))
    if rng.random() < 0.3:
        out.append(
            (
                b"User-Agent",
                rng.choice(
                    [
                        b"",
                        b"MicroMessenger/8.0",
                        "\u4e2d\u6587".encode(),
                        raw_bytes(rng, 60).replace(b"\r", b"").replace(b"\n", b""),
                    ]
                ),
            )
        )
    if rng.random() < 0.2:
        out.append((b"Accept-Language", rng.choice([b"ug", b"*", b"zh-CN;q=abc", b"x" * 2000])))
    if rng.random() < 0.15:
        out.append(
            (b"X-Forwarded-For", rng.choice([b"1.2.3.4", b"not an address", b"::ffff:1.2.3.4, 999.1.1.1", b"\xff\xfe"]))
        )
    if rng.random() < 0.1:
        out.append((b"Accept-Encoding", rng.choice([b"gzip", b"br;q=2", b"*;q=-1", b"\x00"])))
    return out


def form_body(rng: Random, names: list[str], real: dict[str, str] | None = None) -> bytes:
    """An urlencoded body: a real form with a field spoiled, hostile pairs, or bytes."""
    roll = rng.random()
    if real is not None and roll < 0.35:
        fields = dict(real)
        for _ in range(rng.randrange(1, 3)):
            fields[rng.choice(list(fields) + names)] = text(rng)
        return urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()
    if roll < 0.7:
        pairs = [(rng.choice(names), text(rng)) for _ in range(rng.randrange(0, 12))]
        if rng.random() < 0.2 and pairs:
            pairs.append(pairs[0])  # a field twice
        return "&".join(
            f"{quote(k.encode('utf-8', 'surrogatepass'))}={quote(v.encode('utf-8', 'surrogatepass'))}" for k, v in pairs
        ).encode()
    if roll < 0.8:
        return b"&".join(b"f%d=1" % i for i in range(rng.choice([201, 1000, 5000])))
    if roll < 0.9:
        return rng.choice([b"%", b"a=%", b"a=%zz", b"a=%ff", b"%ff=1", b"a=%00", b"=&=&=", b"a" * 70_000, b"\x00"])
    return raw_bytes(rng)


def multipart_body(rng: Random, names: list[str]) -> tuple[bytes, bytes]:
    """(content type, body) of a multipart post: fields and a file, well formed or not."""
    boundary = rng.choice([b"fuzzboundary", b"", b"\x00", b"a" * 200, "边界".encode()])
    content_type = b"multipart/form-data; boundary=" + boundary if rng.random() < 0.9 else b"multipart/form-data"
    roll = rng.random()
    if roll < 0.5:
        parts = []
        for _ in range(rng.randrange(0, 5)):
            name = rng.choice(names).encode("utf-8", "surrogatepass")
            if rng.random() < 0.3:
                filename = rng.choice(
                    [b"roster.csv", b"roster.xlsx", b"../../x", "名单.csv".encode(), b"\x00.csv", b""]
                )
                disposition = b'form-data; name="' + name + b'"; filename="' + filename + b'"'
                content = rng.choice(
                    [raw_bytes(rng, 2000), b"code,name\nWQ99,\x00\x01school\n", b"PK\x03\x04" + raw_bytes(rng, 500)]
                )
                parts.append(
                    b"Content-Disposition: "
                    + disposition
                    + b"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    + content
                )
            else:
                value = text(rng).encode("utf-8", "surrogatepass")
                parts.append(b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n' + value)
        body = b"".join(b"--" + boundary + b"\r\n" + part + b"\r\n" for part in parts) + b"--" + boundary + b"--\r\n"
    elif roll < 0.8:
        body = b"--" + boundary + b"\r\n" + raw_bytes(rng, 400)
    else:
        body = rng.choice(
            [
                b"",
                b"--",
                b"--" + boundary,
                b"--" + boundary + b"\r\nContent-Disposition: form-data\r\n\r\n",
                raw_bytes(rng),
            ]
        )
    return content_type, body


def form_content_type(rng: Random) -> bytes:
    return rng.choice(
        [
            b"application/x-www-form-urlencoded",
            b"application/x-www-form-urlencoded; charset=utf-8",
            b"application/x-www-form-urlencoded; charset=gbk",
            b"APPLICATION/X-WWW-FORM-URLENCODED",
            b"application/x-www-form-urlencoded\x00",
            b"text/plain",
            b"application/json",
            b"",
            "表单".encode(),
        ]
    )


def json_value(rng: Random, depth: int = 0) -> object:
    roll = rng.random()
    if depth > 3 or roll < 0.5:
        return rng.choice([text(rng), 0, -1, 10**30, 1.5, True, None, float("1e308")])
    if roll < 0.75:
        return [json_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    return {text(rng): json_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def json_body(rng: Random, target: Target) -> bytes:
    roll = rng.random()
    tok, nonce = rng.choice(target.nonces)
    if roll < 0.4:
        submission: dict[str, object] = {"token": tok, "nonce": nonce, "answers": dict(target.answers[tok])}
        if roll < 0.15:  # complete, its free text hostile
            submission["answers"] = target.answers[tok] | {item: text(rng) for item in target.text_items[tok]}
            return json.dumps(submission, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        for _ in range(rng.randrange(1, 3)):
            key = rng.choice(["token", "nonce", "answers", "access_code", "extra", text(rng)])
            submission[key] = rng.choice(
                [json_value(rng), {text(rng): text(rng)}, token(rng, target).decode("latin-1")]
            )
        return json.dumps(submission, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
    if roll < 0.55:
        depth = rng.choice([17, 100, 1000, 5000, 20_000])
        opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
        inner = opener * depth + b"1" + closer * depth
        return rng.choice([inner, b'{"token":"x","nonce":"y","answers":' + inner + b"}"])
    if roll < 0.7:
        return rng.choice(
            [
                b'{"token": "\xff\xfe", "nonce": "x", "answers": {}}',
                b'{"token": "\\u0000", "nonce": "\\u0000", "answers": {"\\u0000": "\\u0000"}}',
                b'{"token": "\\ud800", "nonce": "x", "answers": {}}',
                b'{"token": 1e999}',
                b"\xef\xbb\xbf{}",
                b"{",
                b"",
                b"null",
                b"[]",
                b"123456789012345678901234567890",
                b'"' + b"a" * 70_000 + b'"',
            ]
        )
    if roll < 0.85:
        return json.dumps(json_value(rng), ensure_ascii=False).encode("utf-8", "surrogatepass")
    return raw_bytes(rng)


def fill(rng: Random, template: str, target: Target, code: str | None = None) -> bytes:
    def sid() -> str:
        return rng.choice(
            [str(target.survey)] * 6 + ["0", "2", "-1", HUGE, "-" + HUGE, "abc", "%00", "1.5", "01", "%201"]
        )

    def school_code() -> str:
        if rng.random() < 0.5:
            return code or rng.choice(target.codes)
        return segment(rng).decode("latin-1")

    path = template.replace("{sid}", sid()).replace("{code}", school_code())
    path = path.replace("{group}", rng.choice(GROUPS) if rng.random() < 0.5 else segment(rng).decode("latin-1"))
    path = path.replace("{rid}", rng.choice([str(rng.randrange(1, 2000)), HUGE, "0", "-1", "x"]))
    path = path.replace("{junk}", segment(rng).decode("latin-1"))
    return path.encode("latin-1", "replace")


# The route families.


def answer_page(rng: Random, target: Target) -> Request:
    return Request("answer page", "GET", b"/s/" + token(rng, target) + query(rng, ["lang", "again"]), headers(rng))


def answer_post(rng: Random, target: Target) -> Request:
    roll = rng.random()
    tok, nonce = rng.choice(target.nonces)
    path = b"/s/" + (tok.encode() if roll < 0.6 else token(rng, target))
    hs = headers(rng)
    if roll < 0.2:  # a complete answer, its free text hostile: stored, or refused with a reason
        fields = {"_nonce": nonce} | target.answers[tok] | {item: text(rng) for item in target.text_items[tok]}
        body = urlencode(fields, encoding="utf-8", errors="surrogatepass").encode()
        hs.append((b"Content-Type", b"application/x-www-form-urlencoded"))
    elif rng.random() < 0.75:
        body = form_body(rng, ANSWER_KEYS, {"_nonce": nonce} | target.answers[tok])
        hs.append((b"Content-Type", form_content_type(rng)))
    else:
        content_type, body = multipart_body(rng, ANSWER_KEYS)
        hs.append((b"Content-Type", content_type))
    return Request("answer post", "POST", path + (b"/" if rng.random() < 0.05 else b""), hs, body)


def thanks(rng: Random, target: Target) -> Request:
    return Request(
        "thank-you page", "GET", b"/s/" + token(rng, target) + b"/thanks" + query(rng, ["r", "repeat"]), headers(rng)
    )


def json_link(rng: Random, target: Target) -> Request:
    return Request("JSON links", "GET", b"/api/v1/links/" + token(rng, target) + query(rng, ["lang"]), headers(rng))


def json_responses(rng: Random, target: Target) -> Request:
    hs = headers(rng)
    hs.append(
        (
            b"Content-Type",
            rng.choice(
                [b"application/json"] * 6
                + [b"application/json; charset=latin-1", b"text/json", b"", b"application/x-www-form-urlencoded"]
            ),
        )
    )
    return Request("JSON responses", "POST", b"/api/v1/responses" + query(rng, ["lang"]), hs, json_body(rng, target))


def qr(rng: Random, target: Target) -> Request:
    suffix = rng.choice([b".png", b".svg", b".PNG", b".gif", b"", b".png.png", b"."])
    return Request("QR", rng.choice(["GET"] * 5 + ["HEAD"]), b"/qr/" + token(rng, target) + suffix, headers(rng))


def static(rng: Random, target: Target) -> Request:
    name = rng.choice(
        [
            b"console.css",
            b"console.js",
            b"",
            b"..",
            b"%2e%2e/%2e%2e/etc/passwd",
            b"a" * 300,
            b"a" * 300 + b".css",
            segment(rng),
        ]
    )
    hs = headers(rng)
    if rng.random() < 0.3:
        hs.append(
            (
                b"Range",
                rng.choice(
                    [
                        b"bytes=0-10",
                        b"bytes=999999-",
                        b"bytes=-0",
                        b"bytes=a-b",
                        b"bytes=5-1",
                        b"bytes=0-1,2-3,4-5",
                        b"lines=1-2",
                    ]
                ),
            )
        )
    if rng.random() < 0.2:
        hs.append(
            (
                rng.choice([b"If-None-Match", b"If-Modified-Since"]),
                rng.choice([b"*", b"garbage", b'"x"', b"Mon, 99 Foo 9999 99:99:99 GMT"]),
            )
        )
    return Request("static", rng.choice(["GET"] * 4 + ["HEAD"]), b"/static/console/" + name, hs)


def console(rng: Random, target: Target, family: str, cookies: dict[str, str], code: str | None) -> Request:
    roll = rng.random()
    # With a session: its CSRF token (as the form field, the header or not at all), or a wrong one.
    csrf = cookies.get("console_csrf", "")
    hs = headers(rng, cookies)
    if roll < 0.55:
        template = rng.choice(CONSOLE_HEAVY) if rng.random() < 0.03 else rng.choice(CONSOLE_GETS)
        return Request(
            family,
            rng.choice(["GET"] * 8 + ["HEAD", "POST"]),
            fill(rng, template, target, code)
            + query(rng, ["next", "school", "group", "q", "page", "audience", "done", "format", "flag", "status"]),
            hs,
        )
    template = rng.choice(CONSOLE_POSTS)
    if "logout" in template:
        template = "/console/rounds/{sid}/review"
    fields: dict[str, str] = {}
    choice = rng.random()
    if choice < 0.6:
        fields["_csrf_token"] = csrf
    elif choice < 0.75:
        hs.append((b"X-CSRFToken", csrf.encode()))
    elif choice < 0.9:
        fields["_csrf_token"] = text(rng)
    if rng.random() < 0.8:
        body = form_body(rng, CONSOLE_FIELDS, fields | {name: text(rng) for name in rng.sample(CONSOLE_FIELDS, 3)})
        hs.append((b"Content-Type", form_content_type(rng)))
    else:
        content_type, body = multipart_body(rng, CONSOLE_FIELDS)
        hs.append((b"Content-Type", content_type))
    return Request(family, "POST", fill(rng, template, target, code), hs, body)


def console_anonymous(rng: Random, target: Target) -> Request:
    return console(rng, target, "console, no session", dict(target.anonymous) if rng.random() < 0.7 else {}, None)


def console_bureau(rng: Random, target: Target) -> Request:
    cookies = dict(target.bureau)
    if rng.random() < 0.1:
        cookies.pop("console_csrf")
    return console(rng, target, "console, bureau", cookies, None)


def console_school(rng: Random, target: Target) -> Request:
    return console(
        rng, target, "console, school", dict(target.school), target.school_code if rng.random() < 0.7 else None
    )


def results_api(rng: Random, target: Target) -> Request:
    cookies = rng.choice([target.bureau, target.school, {}])
    path = fill(rng, "/api/v1/surveys/{sid}/results", target) + query(rng, ["ci", "level", "design"])
    return Request("results API", rng.choice(["GET"] * 6 + ["POST", "DELETE"]), path, headers(rng, cookies))


def login(rng: Random, target: Target) -> Request:
    csrf = text(rng) if rng.random() < 0.2 else target.anonymous["console_csrf"]
    fields = {
        "_csrf_token": csrf,
        "username": rng.choice(["admin", "fuzz-bureau", text(rng)]),
        "password": text(rng),
        "next": rng.choice(["/console", "//evil.example", "https://evil.example", text(rng)]),
    }
    hs = headers(rng, {"console_csrf": csrf} if rng.random() < 0.8 else {})
    hs.append((b"Content-Type", form_content_type(rng)))
    if rng.random() < 0.5:
        return Request("login", "GET", b"/console/login" + query(rng, ["next"]), hs)
    return Request(
        "login", "POST", b"/console/login", hs, form_body(rng, ["username", "password", "next", "_csrf_token"], fields)
    )


PATHS = [
    b"/s/%s",
    b"/s/%s/thanks",
    b"/api/v1/links/%s",
    b"/api/v1/responses",
    b"/qr/%s.png",
    b"/static/console/console.css",
    b"/console",
    b"/console/rounds/1",
    b"/healthz",
    b"/schema/openapi.json",
    b"/",
    b"/%s",
]


def protocol(rng: Random, target: Target) -> Request:
    """Odd methods, header sets, hosts, lengths and request lines: each on a connection of its own."""
    path = rng.choice(PATHS).replace(b"%s", rng.choice(target.tokens).encode() if rng.random() < 0.5 else segment(rng))
    roll = rng.random()
    request = Request("methods, headers, encodings", "GET", path, headers(rng), fresh=True)
    if roll < 0.25:
        request.method = rng.choice(METHODS)
        request.body = raw_bytes(rng, 100) if rng.random() < 0.5 else b""
    elif roll < 0.45:  # huge or many or odd headers
        kind = rng.randrange(6)
        if kind == 0:
            request.headers.append((b"X-Big", b"a" * rng.choice([8_000, 60_000, 200_000])))
        elif kind == 1:
            request.headers += [(b"X-H%d" % i, b"v") for i in range(rng.choice([100, 1000]))]
        elif kind == 2:
            request.headers.append((b"Cookie", b"; ".join(b"c%d=%d" % (i, i) for i in range(3000))))
        elif kind == 3:
            request.headers.append((rng.choice([b"X-\xff", "名字".encode(), b"Bad Name", b""]), b"v"))
        elif kind == 4:
            request.headers.append((b"X-Value", rng.choice([b"\x00", b"\xff\xfe", "中文".encode(), b"a\rb"])))
        else:
            request.headers.append(
                (b"Accept", rng.choice([b"*/*;q=x", b"text/html;level=" + b"9" * 400, b"\x00/\x00"]))
            )
    elif roll < 0.6:  # the Host header
        request.headers.append(
            (
                b"Host",
                rng.choice(
                    [
                        b"",
                        b"evil.example",
                        "例子.测试".encode(),
                        b"a" * 5000,
                        b"127.0.0.1:99999",
                        b"[::1",
                        b"\x00",
                        b"a b",
                    ]
                ),
            )
        )
        if rng.random() < 0.3:
            request.headers.append((b"Host", b"second.example"))
    elif roll < 0.8:  # lengths and chunks
        request.method = "POST"
        request.headers.append(
            (
                b"Content-Type",
                rng.choice(
                    [b"application/json", b"application/x-www-form-urlencoded", b"multipart/form-data; boundary=x"]
                ),
            )
        )
        kind = rng.randrange(7)
        if kind == 0:
            request.headers.append(
                (b"Content-Length", rng.choice([b"-1", b"abc", HUGE.encode(), b"1e3", b" 5", b"0x10", b""]))
            )
            request.body = b"a=b"
            request.half_close = True
        elif kind == 1:
            request.headers += [(b"Content-Length", b"3"), (b"Content-Length", b"5")]
            request.body = b"a=bcd"
        elif kind == 2:
            request.headers.append((b"Transfer-Encoding", b"chunked"))
            request.body = rng.choice(
                [
                    b"3\r\na=b\r\n0\r\n\r\n",
                    b"zz\r\nxx\r\n0\r\n\r\n",
                    b"FFFFFFFFFFFFFFFFFF\r\na\r\n",
                    b"0\r\n\r\n",
                    b"3\r\na=b\r\n",
                ]
            )
            request.half_close = request.body in (b"FFFFFFFFFFFFFFFFFF\r\na\r\n", b"3\r\na=b\r\n")
        elif kind == 3:
            request.headers += [(b"Transfer-Encoding", b"chunked"), (b"Content-Length", b"3")]
            request.body = b"3\r\na=b\r\n0\r\n\r\n"
        elif kind == 4:
            request.headers.append(
                (b"Transfer-Encoding", rng.choice([b"gzip", b"chunked, gzip", b"identity", b"\x00"]))
            )
            request.body = b"a=b"
        elif kind == 5:
            request.headers.append((b"Content-Length", b"100"))
            request.body = b"a=b"  # shorter than it says: the connection is half-closed after it
            request.half_close = True
        else:
            request.headers.append((b"Content-Encoding", rng.choice([b"gzip", b"br", b"deflate"])))
            request.body = raw_bytes(rng, 200)
    else:  # request lines that are barely HTTP
        request.raw = rng.choice(
            [
                b"GET " + path + b" HTTP/1.0\r\n\r\n",
                b"GET " + path + b" HTTP/2.0\r\nHost: x\r\n\r\n",
                b"GET " + path + b" HTTP/9.9\r\nHost: x\r\n\r\n",
                b"GET " + path + b"\r\n\r\n",
                b"GET http://127.0.0.1" + path + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
                b"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET //" + path + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /s/\xe4\xb8\xad\xff HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /s/a b HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET / HTTP/1.1\nHost: x\n\n",
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + raw_bytes(rng, 100),
                b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
                raw_bytes(rng, 500) + b"\r\n\r\n",
            ]
        )
    return request


FAMILIES: list[tuple[Callable[[Random, Target], Request], int]] = [
    (answer_page, 10),
    (answer_post, 14),
    (thanks, 5),
    (json_link, 6),
    (json_responses, 12),
    (qr, 5),
    (static, 4),
    (console_anonymous, 8),
    (console_bureau, 13),
    (console_school, 8),
    (results_api, 3),
    (login, 4),
    (protocol, 8),
]


def draw(seed: int, number: int, target: Target) -> Request:
    rng = Random(f"{seed}:{number}")
    make = rng.choices([f for f, _ in FAMILIES], weights=[w for _, w in FAMILIES])[0]
    return make(rng, target)


# A raw HTTP/1.1 client: it sends the bytes it is given and reads one response.


async def read_response(reader: asyncio.StreamReader, head_only: bool) -> tuple[int, bool]:
    """(status, whether the connection stays open) of one response, its body read and dropped."""
    while True:
        line = await reader.readline()
        if not line:
            raise ConnectionError("closed")
        status = int(line.split(b" ", 2)[1])
        length, chunked, close = None, False, line.startswith(b"HTTP/1.0")
        while (header := await reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = header.partition(b":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value:
                chunked = True
            elif name == b"connection":
                close = value == b"close"
        if status >= 200:
            break  # a 100 Continue is followed by the response itself
    if head_only or status in (204, 304):
        return status, not close
    if chunked:
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length is not None:
        await reader.readexactly(length)
    else:
        await reader.read()
        close = True
    return status, not close


def could_split(request: Request) -> bool:
    """A line break in its request line or a header, or a space in its target."""
    parts = [request.target, *(name + value for name, value in request.headers)]
    return b" " in request.target or any(b"\r" in part or b"\n" in part for part in parts)


@dataclass
class Tally:
    by_family: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    examples: dict[tuple[str, int], bytes] = field(default_factory=dict)  # the first of each family and 5xx status


async def send(port: int, request: Request, connection: list) -> int | str:
    data = request.encode(port)
    if not request.fresh and could_split(request):
        request.fresh = True  # never on a kept connection: the server could read it as two requests
    for attempt in range(2):
        if request.fresh or not connection:
            connection[:] = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
        reader, writer = connection
        try:
            writer.write(data)
            if request.half_close:
                writer.write_eof()  # the server closes too: it answers what it has read, or nothing
            await writer.drain()
            status, keep = await asyncio.wait_for(read_response(reader, request.method == "HEAD"), TIMEOUT)
        except TimeoutError:
            writer.close()
            connection.clear()
            return "timeout"
        except (ConnectionError, ValueError, IndexError, asyncio.IncompleteReadError):
            writer.close()
            connection.clear()
            if attempt == 0 and not request.fresh:
                continue  # a kept connection the server had closed meanwhile: once more on a new one
            return "none"
        if request.fresh or not keep:
            writer.close()
            connection.clear()
        return status
    return "none"


async def run_requests(target: Target, seed: int, total: int, connections: int) -> Tally:
    tally = Tally()
    numbers = iter(range(total))
    done = 0
    started = time.monotonic()

    async def worker() -> None:
        nonlocal done
        connection: list = []
        for number in numbers:
            request = draw(seed, number, target)
            status = await send(target.port, request, connection)
            tally.by_family[request.family][status] += 1
            if isinstance(status, int) and status >= 500 and (request.family, status) not in tally.examples:
                tally.examples[request.family, status] = request.encode(target.port)[:600]
            done += 1
            if done % 10_000 == 0:
                rate = done / (time.monotonic() - started)
                print(f"  {done:,} requests ({rate:,.0f}/s)", file=sys.stderr, flush=True)

    await asyncio.gather(*(worker() for _ in range(connections)))
    return tally


def print_table(title: str, tally: Tally) -> Counter:
    total: Counter = Counter()
    for counts in tally.by_family.values():
        total.update(counts)
    columns = sorted(total, key=lambda s: (isinstance(s, str), s if isinstance(s, int) else 0, str(s)))
    names = [str(c) for c in columns]
    width = max(len(f) for f in [*tally.by_family, "total"]) + 2
    print(f"\n{title}")
    print("route family".ljust(width) + "".join(n.rjust(8) for n in names) + "requests".rjust(10) + "≥500".rjust(7))
    rows = sorted(tally.by_family.items()) + [("total", total)]
    for family, counts in rows:
        errors = sum(n for s, n in counts.items() if isinstance(s, int) and s >= 500)
        print(
            family.ljust(width)
            + "".join(str(counts.get(c, 0)).rjust(8) for c in columns)
            + str(sum(counts.values())).rjust(10)
            + str(errors).rjust(7)
        )
    return total


# The live server.


def start(command: list[str], env: dict, port: int, log: Path) -> subprocess.Popen:
    """The server in its own process group, its output in `log`, once /healthz answers."""
    server = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}") from None
            time.sleep(0.2)


def stop(server: subprocess.Popen) -> None:
    server.terminate()  # SIGTERM to the parent: uvicorn stops its workers, then the writer stops
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def sign_in(port: int, username: str) -> dict[str, str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        client.get("/console/login")
        csrf = client.cookies["console_csrf"]
        response = client.post(
            "/console/login", data={"_csrf_token": csrf, "username": username, "password": PASSWORD, "next": "/console"}
        )
        assert response.status_code in (302, 303), (username, response.status_code)
        assert client.get("/console").status_code == 200
        return {"console_session": client.cookies["console_session"], "console_csrf": client.cookies["console_csrf"]}


def gather_target(port: int, env: dict) -> Target:
    rows = links(env)
    tokens = [row["url"].rsplit("/", 1)[1] for row in rows]
    nonces = []
    answers: dict[str, dict[str, str]] = {}
    text_items: dict[str, list[str]] = {}
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for tok in itertools.islice(itertools.cycle(tokens), 400):
            response = client.get(f"/api/v1/links/{tok}")
            if response.status_code == 200:
                form = response.json()
                nonces.append((tok, form["nonce"]))
                answers[tok] = {item["id"]: item["options"][0]["code"] for item in form["items"] if item["options"]}
                text_items[tok] = [item["id"] for item in form["items"] if item["kind"] == "text"]
    codes = sorted({row["school_code"] for row in rows if row["school_code"]})
    return Target(
        port=port,
        tokens=tokens,
        nonces=nonces,
        answers=answers,
        text_items=text_items,
        survey=int(rows[0]["survey"]),
        codes=codes,
        bureau=sign_in(port, "fuzz-bureau"),
        school=sign_in(port, "fuzz-school"),
        school_code=codes[0],
        anonymous=anonymous_csrf(port),
    )


def anonymous_csrf(port: int) -> dict[str, str]:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        client.get("/console/login")
        return {"console_csrf": client.cookies["console_csrf"]}


def tracebacks(log: Path, limit: int = 10) -> list[str]:
    """The first distinct tracebacks the server wrote (by their last line)."""
    found: dict[str, str] = {}
    for block in re.findall(
        r"Traceback \(most recent call last\):\n(?:[ \t].*\n)+\S.*", log.read_text(errors="replace")
    ):
        found.setdefault(block.splitlines()[-1][:200], block[-3000:])
    return list(found.values())[:limit]


def run_backend(kind: str, requests: int, seed: int, connections: int, workers: int, directory: Path) -> bool:
    database_url, drop = fresh_database(kind, directory, "fuzz")
    log = directory / f"server-{kind}.log"
    try:
        env = {
            **os.environ,
            "SURVEY_DATABASE_URL": database_url,
            "SURVEY_SECRET": SECRET,
            "SURVEY_PUBLIC_URL": "http://fuzz.test",
        }
        env.pop("SURVEY_WRITER_SOCKET", None)
        cli("demo", "--no-serve", env=env)
        cli("user", "add", "--username", "fuzz-bureau", "--role", "bureau", "--password", PASSWORD, env=env)
        first_school = min(row["school_code"] for row in links(env) if row["school_code"])
        cli(
            "user",
            "add",
            "--username",
            "fuzz-school",
            "--role",
            "school",
            "--school",
            first_school,
            "--password",
            PASSWORD,
            env=env,
        )
        port = free_port()
        server = start(serve_command(port, workers), env, port, log)
        try:
            target = gather_target(port, env)
            print(
                f"\n== {kind}: {requests:,} requests, seed {seed}, {connections} connections, {workers} workers",
                flush=True,
            )
            began = time.monotonic()
            tally = asyncio.run(run_requests(target, seed, requests, connections))
            seconds = time.monotonic() - began
        finally:
            stop(server)
        total = print_table(f"{kind}: status codes ({seconds:.0f} s, {requests / seconds:,.0f} requests/s)", tally)
        errors = sum(n for s, n in total.items() if isinstance(s, int) and s >= 500)
        verified = subprocess.run(
            [sys.executable, "-m", "survey_service", "verify"], env=env, capture_output=True, text=True
        )
        print(f"\n{kind}: responses ≥ 500: {errors}")
        print(f"{kind}: survey-service verify → exit {verified.returncode}")
        print("  " + (verified.stdout + verified.stderr).strip().replace("\n", "\n  "))
        if errors:
            for (family, status), example in sorted(tally.examples.items()):
                print(f"\n{family}: the first request answered {status}:\n{example!r}")
            for block in tracebacks(log):
                print("\n" + block)
        return errors == 0 and verified.returncode == 0
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100_000, help="hostile requests per backend")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory(prefix="survey-fuzz-") as directory:
        for kind in args.backends.split(","):
            ok &= run_backend(kind, args.requests, args.seed, args.connections, args.workers, Path(directory))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
