"""Ballot stuffing against a running server on loopback: one phone submitting 200 times must be
limited or flagged; 50 phones behind one address (a school's NAT) must all be accepted, unflagged.

    python bench/stuffing.py

Every request is a valid answer form with its own signed nonce, opened three minutes before it is
sent (as a person would take), with varied answers: only the sender's behaviour differs.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import urllib.error
import urllib.request
import uuid
from collections import Counter
from pathlib import Path

from common import answer_forms, cli, free_port, serve_command, start_server, stop

SECRET = "stuffing-secret"
WECHAT = "Mozilla/5.0 (Linux; Android 10; V2001A) AppleWebKit/537.36 Mobile Safari/537.36 MicroMessenger/8.0.28"


def post(port: int, path: str, body: str, device: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=body.encode(),
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "cookie": f"sv_device={device}",
            "user-agent": WECHAT,
        },
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def flags_of(db: Path, path: str) -> Counter:
    token = path.rsplit("/", 1)[1]
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT flags FROM response JOIN link ON link.id = response.link WHERE link.token = ?", (token,)
        ).fetchall()
    counted = Counter(flag for (flags,) in rows for flag in flags.split(",") if flag)
    counted["stored"] = len(rows)
    counted["unflagged"] = sum(1 for (flags,) in rows if not flags)
    return counted


def main() -> None:
    with tempfile.TemporaryDirectory() as directory:
        db = Path(directory) / "stuffing.db"
        env = {**os.environ, "SURVEY_DATABASE_URL": str(db), "SURVEY_SECRET": SECRET}
        cli("demo", "--no-serve", "--empty", env=env)
        one_phone = answer_forms(env, 200, SECRET, seed=2, group="parent", opened_seconds_ago=180)
        school = answer_forms(env, 50, SECRET, seed=3, group="student", opened_seconds_ago=180)
        port = free_port()
        server = start_server(serve_command(port), env, port)
        try:
            phone = uuid.uuid4().hex
            one = Counter(post(port, path, body, phone) for path, body, _ in one_phone)
            many = Counter(post(port, path, body, uuid.uuid4().hex) for path, body, _ in school)
        finally:
            stop(server)
        report = {
            "one_device_200_submissions": {
                "accepted_303": one[303],
                "limited_429": one[429],
                "other": sum(n for status, n in one.items() if status not in (303, 429)),
                "stored": dict(flags_of(db, one_phone[0][0])),
            },
            "fifty_devices_one_address": {
                "accepted_303": many[303],
                "other": sum(n for status, n in many.items() if status != 303),
                "stored": dict(flags_of(db, school[0][0])),
            },
        }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
