"""Ballot stuffing against a live server with two web workers, on SQLite and on PostgreSQL: five
senders, each on a link of its own, from an address of its own (X-Forwarded-For from a trusted proxy).

    python bench/stuffing.py [--backend sqlite|postgres|both] [--redis redis://127.0.0.1:6379/15]

- one phone, one cookie, 200 tries                    target: ≤ 10 stored
- cookie-less (never returns the cookie), 500 tries   target: ≤ 60 stored, ≥ 99% of the stored flagged
- clearing its cookies before each form, 500 tries    target: ≥ 99% refused or flagged
- a new User-Agent and a made-up cookie each time     target: ≥ 99% refused or flagged
- 50 honest phones behind one address (a school's Wi-Fi), each with its own cookie and a realistic
  mix of User-Agents                                  target: 50 stored, 0 flagged

Every try opens the form on the server (GET /s/{token}: a nonce bound to the device cookie the page
sets or was sent) and posts it later with valid, varied answers: only the sender's behaviour
differs. All forms are opened first and posted 40 s later or more, so that no answer is a speeder
because a script is faster than a person. PostgreSQL: SURVEY_TEST_POSTGRES_URL (an admin URL; a
fresh database is created and dropped). With --redis, each backend runs again with SURVEY_REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import sqlite3
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from common import PROXY_ENV, cli, free_port, fresh_database, links, serve_command, start_server, stop

SECRET = "stuffing-secret"
WECHAT = (
    "Mozilla/5.0 (Linux; Android 10; V2001A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/86.0.4240.99 XWEB/4317 MMWEBSDK/20220903 Mobile Safari/537.36 MicroMessenger/8.0.28.2240"
)
LANGUAGE = "zh-CN,zh;q=0.9"
HOLD_SECONDS = 40

# Phones as a county's parents and teachers carry them: mostly Android in WeChat's browser (model,
# Android and WeChat/XWEB builds in the User-Agent), some iPhones (only the iOS and WeChat versions).
ANDROID_MODELS = [
    "V2001A", "V2055A", "V2163A", "PEHM00", "PDCM00", "PGBM10", "M2006C3LC", "22041216C", "M2102J2SC",
    "ANA-AN00", "NOH-AN00", "JAD-AL50", "ELS-AN00", "ALN-AL00", "SM-G9910", "RMX3350", "V2134A", "PFJM10",
]  # fmt: skip
ANDROID_VERSIONS = ["10", "11", "12", "13", "14"]
CHROME_BUILDS = [("86.0.4240.99", "4317"), ("107.0.5304.141", "5061"), ("111.0.5563.116", "1110005")]
WECHAT_ANDROID = ["8.0.28.2240", "8.0.34.2340", "8.0.40.2420", "8.0.42.2460", "8.0.47.2560"]
IOS_VERSIONS = ["15_7", "16_5", "16_6", "17_1", "17_5"]
WECHAT_IOS = ["8.0.38(0x1800262c)", "8.0.42(0x18002a2f)", "8.0.47(0x18002f2c)"]


def phone_agent(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return (
            f"Mozilla/5.0 (iPhone; CPU iPhone OS {rng.choice(IOS_VERSIONS)} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Mobile/15E148 MicroMessenger/{rng.choice(WECHAT_IOS)} NetType/WIFI Language/zh_CN"
        )
    chrome, xweb = rng.choice(CHROME_BUILDS)
    return (
        f"Mozilla/5.0 (Linux; Android {rng.choice(ANDROID_VERSIONS)}; {rng.choice(ANDROID_MODELS)} Build/TP1A; wv) "
        f"AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/{chrome} XWEB/{xweb} MMWEBSDK/20230805 "
        f"Mobile Safari/537.36 MicroMessenger/{rng.choice(WECHAT_ANDROID)} WeChat/arm64 Weixin NetType/WIFI "
        "Language/zh_CN ABI/arm64"
    )


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def request(port: int, path: str, headers: dict, body: str | None = None) -> tuple[int, str, str | None]:
    """(status, body text, the sv_device cookie the response sets, if any)."""
    data = body.encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
    try:
        with OPENER.open(req, timeout=30) as response:
            status, text, cookie = response.status, response.read().decode(), response.headers.get("set-cookie")
    except urllib.error.HTTPError as error:
        status, text, cookie = error.code, error.read().decode(errors="replace"), error.headers.get("set-cookie")
    found = re.search(r"sv_device=([^;]+)", cookie or "")
    return status, text, found.group(1) if found else None


class Try:
    """One form opened by a sender and posted later."""

    def __init__(self, path: str, headers: dict, post_cookie: str | None, nonce: str, fields: dict):
        self.path, self.headers, self.post_cookie, self.nonce, self.fields = path, headers, post_cookie, nonce, fields


def open_form(port: int, path: str, headers: dict, rng: random.Random) -> tuple[str, str | None, dict]:
    """GET the form: (its nonce, the cookie it sets, valid answers to its rated items)."""
    status, page, cookie = request(port, path, headers)
    assert status == 200, (status, page[:300])
    nonce = re.search(r'name="_nonce" value="([^"]+)"', page).group(1)
    options: dict[str, list[str]] = {}
    for item, code in re.findall(r'type="radio" name="([^"]+)" value="([^"]+)"', page):
        options.setdefault(item, []).append(code)
    return nonce, cookie, {item: rng.choice(codes[:4]) for item, codes in options.items()}


def prepare(port: int, tokens: dict[str, str], rng: random.Random) -> dict[str, list[Try]]:
    tries: dict[str, list[Try]] = {}

    def base(address: str, agent: str) -> dict:
        return {"x-forwarded-for": address, "user-agent": agent, "accept-language": LANGUAGE}

    # One phone, one cookie: it keeps the cookie its first form set.
    path = f"/s/{tokens['one_phone']}"
    headers = base("203.0.113.10", WECHAT)
    _, cookie, _ = open_form(port, path, headers, rng)
    headers["cookie"] = f"sv_device={cookie}"
    tries["one_phone"] = []
    for _ in range(200):
        nonce, _, fields = open_form(port, path, headers, rng)
        tries["one_phone"].append(Try(path, headers, cookie, nonce, fields))
    # Cookie-less: never sends a cookie back.
    path = f"/s/{tokens['cookieless']}"
    headers = base("203.0.113.20", WECHAT)
    tries["cookieless"] = []
    for _ in range(500):
        nonce, _, fields = open_form(port, path, headers, rng)
        tries["cookieless"].append(Try(path, headers, None, nonce, fields))
    # Clearing its cookies before each form: each form sets a new cookie, sent with its answer.
    path = f"/s/{tokens['clearing']}"
    headers = base("203.0.113.30", WECHAT)
    tries["clearing"] = []
    for _ in range(500):
        nonce, cookie, fields = open_form(port, path, headers, rng)
        tries["clearing"].append(Try(path, headers, cookie, nonce, fields))
    # A new User-Agent and a made-up cookie each time.
    path = f"/s/{tokens['rotating']}"
    tries["rotating"] = []
    for _ in range(500):
        made_up = uuid.uuid4().hex
        headers = base("203.0.113.40", phone_agent(rng)) | {"cookie": f"sv_device={made_up}"}
        nonce, _, fields = open_form(port, path, headers, rng)
        tries["rotating"].append(Try(path, headers, made_up, nonce, fields))
    # 50 honest phones at a school, one Wi-Fi address: each its own phone, its own cookie.
    path = f"/s/{tokens['honest']}"
    tries["honest"] = []
    for _ in range(50):
        headers = base("198.51.100.7", phone_agent(rng))
        nonce, cookie, fields = open_form(port, path, headers, rng)
        tries["honest"].append(Try(path, headers, cookie, nonce, fields))
    return tries


def send(port: int, attempt: Try) -> int:
    headers = {k: v for k, v in attempt.headers.items() if k != "cookie"}
    headers["content-type"] = "application/x-www-form-urlencoded"
    if attempt.post_cookie:
        headers["cookie"] = f"sv_device={attempt.post_cookie}"
    status, _, _ = request(port, attempt.path, headers, urlencode({"_nonce": attempt.nonce} | attempt.fields))
    return status


def stored_flags(database_url: str, token: str) -> list[str]:
    sql = "SELECT flags FROM response JOIN link ON link.id = response.link WHERE link.token = "
    if database_url.startswith("postgresql://"):
        import asyncpg

        async def read() -> list[str]:
            connection = await asyncpg.connect(database_url)
            try:
                return [row["flags"] for row in await connection.fetch(sql + "$1", token)]
            finally:
                await connection.close()

        return asyncio.run(read())
    with sqlite3.connect(database_url) as connection:
        return [flags for (flags,) in connection.execute(sql + "?", (token,))]


PATTERNS = ["one_phone", "cookieless", "clearing", "rotating", "honest"]


def run(kind: str, redis_url: str | None) -> dict[str, dict]:
    with tempfile.TemporaryDirectory() as directory:
        database_url, drop = fresh_database(kind, Path(directory), "stuffing")
        try:
            env = {**os.environ, **PROXY_ENV, "SURVEY_DATABASE_URL": database_url, "SURVEY_SECRET": SECRET}
            env.pop("SURVEY_REDIS_URL", None)
            if redis_url:
                env["SURVEY_REDIS_URL"] = redis_url
                import redis

                redis.Redis.from_url(redis_url).flushdb()
            cli("demo", "--no-serve", "--empty", env=env)
            # Five links of groups that need no access code, one per sender (a school's 学生 link for the
            # honest phones).
            usable = [link for link in links(env) if link["group"] in ("parent", "student", "teacher")]
            students = [link for link in usable if link["group"] == "student"]
            others = [link for link in usable if link["group"] != "student"]
            chosen = [*others[:4], students[0]]
            tokens = {name: link["url"].rsplit("/", 1)[1] for name, link in zip(PATTERNS, chosen)}
            port = free_port()
            server = start_server(serve_command(port, workers=2), env, port)
            try:
                rng = random.Random(13)
                opened = time.monotonic()
                tries = prepare(port, tokens, rng)
                time.sleep(max(0.0, HOLD_SECONDS - (time.monotonic() - opened)))
                statuses = {name: Counter(send(port, attempt) for attempt in tries[name]) for name in PATTERNS}
            finally:
                stop(server)
            out = {}
            for name in PATTERNS:
                flags = stored_flags(database_url, tokens[name])
                sent = sum(statuses[name].values())
                flagged = sum(1 for f in flags if f)
                refused = statuses[name][429]
                out[name] = {
                    "tries": sent,
                    "stored": len(flags),
                    "flagged": flagged,
                    "refused_429": refused,
                    "other": sent - statuses[name][303] - refused,
                    "refused_or_flagged": (refused + flagged) / sent,
                    "flags": Counter(flag for f in flags for flag in f.split(",") if flag),
                }
            return out
        finally:
            drop()


TARGETS = {
    "one_phone": lambda r: r["stored"] <= 10,
    "cookieless": lambda r: r["stored"] <= 60 and r["flagged"] >= 0.99 * r["stored"],
    "clearing": lambda r: r["refused_or_flagged"] >= 0.99,
    "rotating": lambda r: r["refused_or_flagged"] >= 0.99,
    "honest": lambda r: r["stored"] == 50 and r["flagged"] == 0,
}
LABELS = {
    "one_phone": "one phone, one cookie",
    "cookieless": "cookie-less",
    "clearing": "clearing cookies",
    "rotating": "rotating UA, made-up cookies",
    "honest": "50 honest phones, one NAT",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--redis", metavar="URL", help="run each backend again with SURVEY_REDIS_URL=URL (flushed)")
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    runs = [(kind, None) for kind in kinds] + ([(kind, args.redis) for kind in kinds] if args.redis else [])
    print(
        "| backend (2 workers) | sender | tries | stored | flagged | refused 429 | other | refused or flagged | flags | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for kind, redis_url in runs:
        results = run(kind, redis_url)
        for name in PATTERNS:
            r = results[name]
            flags = ", ".join(f"{flag} {n}" for flag, n in sorted(r["flags"].items()))
            print(
                f"| {kind}{' + Redis' if redis_url else ''} | {LABELS[name]} | {r['tries']} | {r['stored']} | "
                f"{r['flagged']} | {r['refused_429']} | {r['other']} | {r['refused_or_flagged']:.1%} | {flags} | "
                f"{'met' if TARGETS[name](r) else 'MISSED'} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
