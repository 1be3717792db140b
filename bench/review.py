"""The review at 5,000 flagged answers: how long the bureau waits for a page of the queue and for a
decision on all of them at once, against a running server.

A demo round (`survey-service demo --no-serve --empty`) gets `--flagged` answers from `--senders`
phones (each phone's answers flagged duplicate_device and burst, as stuffing is) and as many clean
ones, inserted with sqlite3 and tallied with `survey-service retally`; then the server runs, the
bureau signs in, and this times GET of queue pages (first, middle, last; the median of --repeat) and
one POST that keeps every flagged answer of the filter (each one audited, the tallies recounted).

    python bench/review.py [--flagged 5000] [--senders 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
import sqlite3
import statistics
import time
import urllib.parse
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

from common import cli, demo_database, free_port, parent_links, serve_command, start_server, stop

from survey_service.core.resources import questionnaires_dir
from survey_service.questionnaire import load_questionnaires
from survey_service.respond.answers import check_answers

PASSWORD = "bench-admin-pass"


def fill(db, flagged: int, senders: int) -> None:
    social = load_questionnaires(questionnaires_dir())["social"]
    scored = check_answers(social, {item.id: "satisfied" for item in social.rated_items})
    links = parent_links(db)
    start = datetime.now(UTC) - timedelta(hours=6)
    rows = []
    for k in range(2 * flagged):
        survey, link, school, group = links[k % len(links)]
        stuffed = k < flagged
        rows.append(
            (survey, link, school, group, social.id, social.version, "{}", scored.recognition, scored.score)
            + (scored.choices, (start + timedelta(seconds=k)).isoformat(), 60, uuid.uuid4().hex)
            + ("burst,duplicate_device" if stuffed else "", f"phone{k % senders}" if stuffed else uuid.uuid4().hex)
        )
    with sqlite3.connect(db) as connection:
        connection.executemany(
            "INSERT INTO response (survey, link, school, respondent_group, questionnaire_id, questionnaire_version,"
            " answers, recognition, score, choices, submitted_at, seconds_taken, nonce, flags, device_hash)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


class Console:
    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "console_csrf")

    def get(self, path: str) -> tuple[float, bytes]:
        started = time.perf_counter()
        with self.opener.open(self.base + path, timeout=600) as response:
            body = response.read()
        return time.perf_counter() - started, body

    def post(self, path: str, fields: dict) -> tuple[float, int]:
        data = urllib.parse.urlencode({"_csrf_token": self.csrf(), **fields}).encode()
        started = time.perf_counter()
        with self.opener.open(self.base + path, data=data, timeout=600) as response:
            response.read()
            return time.perf_counter() - started, response.status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--flagged", type=int, default=5000)
    parser.add_argument("--senders", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    db = demo_database("bench-review-")
    env = {**os.environ, "SURVEY_DATABASE_URL": str(db)}
    fill(db, args.flagged, args.senders)
    cli("retally", env=env)
    cli("user", "add", "--username", "chief", "--role", "bureau", "--password", PASSWORD, env=env)
    port = free_port()
    server = start_server(serve_command(port), env, port)
    try:
        console = Console(port)
        console.get("/console/login")
        console.post("/console/login", {"username": "chief", "password": PASSWORD, "next": "/console"})
        pages = -(-args.senders // 20)
        print(f"{args.flagged} flagged answers from {args.senders} phones, {args.flagged} clean; {pages} pages")
        for page in sorted({1, pages // 2 or 1, pages}):
            times = [console.get(f"/console/rounds/1/review?page={page}")[0] for _ in range(args.repeat)]
            print(f"GET review page {page:>3}: median {statistics.median(times) * 1000:7.1f} ms")
        with sqlite3.connect(db) as connection:
            [(pending,)] = connection.execute("SELECT count(*) FROM response WHERE flags != '' AND valid").fetchall()
        took, status = console.post(
            "/console/rounds/1/review",
            {
                "scope": "filter",
                "status": "pending",
                "expected": str(pending),
                "action": "keep",
                "keep_reason": "shared_device",
                "note": "bench: keep every flagged answer",
            },
        )
        _, body = console.get("/console/rounds/1/review")
        assert "审核已完成".encode() in body, "the review did not finish"
        print(
            f"POST keep all {args.flagged} (audited, tallies recounted, then the page): {took:.2f} s, status {status}"
        )
    finally:
        stop(server)
    with sqlite3.connect(db) as connection:
        [(decisions,)] = connection.execute("SELECT count(*) FROM review_decision").fetchall()
    print(f"audit rows: {decisions}")


if __name__ == "__main__":
    main()
