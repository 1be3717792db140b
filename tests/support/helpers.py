"""Small helpers the tests share: find a link, read a form page, fill it in."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from survey_service.distribution.service import LinkRow

POSTGRES_URL = os.environ.get("SURVEY_TEST_POSTGRES_URL")


def link_for(links: list[LinkRow], group: str, school_code: str = "WQ01") -> LinkRow:
    county = group in ("deputy", "public")
    return next(link for link in links if link.group == group and (county or link.school_code == school_code))


def nonce_of(html: str) -> str:
    return re.search(r'name="_nonce" value="([^"]+)"', html).group(1)


def radio_items(html: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r'type="radio" name="([a-z_]+)"', html)))


def filled_form(html: str, option: str = "satisfied", **overrides: str) -> dict[str, str]:
    """Every rated item answered with `option`, as a browser would post it."""
    form = {"_nonce": nonce_of(html)} | {item: option for item in radio_items(html)}
    form.update(overrides)
    return form


def token_of(link: LinkRow) -> str:
    return link.url.rsplit("/", 1)[1]


async def fetch(settings, sql: str, *args) -> list[dict]:
    """Read the database on a connection of its own (the app under test runs on another event loop).

    Write `?` placeholders; they become `$1…` on PostgreSQL.
    """
    if settings.is_postgres:
        import asyncpg

        from survey_service.db.sql import numbered

        connection = await asyncpg.connect(settings.database_url)
        try:
            return [dict(r) for r in await connection.fetch(numbered(sql), *args)]
        finally:
            await connection.close()
    import sqlite3

    with sqlite3.connect(settings.sqlite_path) as connection:
        connection.row_factory = sqlite3.Row
        rows = [dict(r) for r in connection.execute(sql, args)]
    connection.close()
    return rows


async def insert_responses(settings, columns: list[str], rows: list[list]) -> None:
    """Store answers straight into the database, with the tallies the response writer keeps beside
    them (ledger/tally.py's own rule and statements)."""
    import msgspec

    from survey_service.ledger.tally import Counted, plan_add, tallies_of

    placeholders = "(" + ", ".join("?" * len(columns)) + ")"
    per_batch = max(1, 900 // len(columns))  # fetch's SQLite connection takes at most 999 parameters
    for start in range(0, len(rows), per_batch):
        batch = rows[start : start + per_batch]
        await fetch(
            settings,
            f"INSERT INTO response ({', '.join(columns)}) VALUES " + ", ".join([placeholders] * len(batch)),
            *[value for row in batch for value in row],
        )
    defaults = {"valid": True, "exclusion": "", "kept": "", "flags": ""}
    tallies = tallies_of(msgspec.convert([{**defaults, **dict(zip(columns, row))} for row in rows], list[Counted]))
    for start in range(0, len(tallies), 50):
        plan, result = plan_add(dict(list(tallies.items())[start : start + 50])), None
        try:
            while True:
                sql, args = plan.send(result)
                result = [tuple(row.values()) for row in await fetch(settings, sql, *args)]
        except StopIteration as done:
            await fetch(settings, *done.value[:1], *done.value[1])


@contextlib.asynccontextmanager
async def services(settings):
    """The engine bound on this event loop, for calling services directly after an app under test
    (which binds it on its own loop) has finished."""
    from survey_service.db.engine import connected

    async with connected(settings) as engine:
        yield engine


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running(command: list[str], directory: Path, env: dict | None = None) -> Iterator[subprocess.Popen]:
    """A survey-service command as a subprocess, stopped (SIGTERM) afterwards."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SURVEY_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "survey_service", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=base | (env or {}),
        cwd=directory,
    )
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=20)


def wait_for_health(port: int, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return
        except OSError:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with {server.returncode}") from None
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextlib.contextmanager
def demo_server(directory: Path, *, answers: bool = False) -> Iterator[tuple[int, list[str]]]:
    """`survey-service demo` on a free port, as a bureau starts it; yields (port, lines it printed).
    Without the simulated answers (`--empty`) unless asked: most tests post or store their own."""
    port = free_port()
    command = ["demo", "--db", str(directory / "demo.db"), "--port", str(port), "--admin-password", "demo-admin-pass"]
    if not answers:
        command.append("--empty")
    with running(command, directory) as server:
        printed: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("全部链接") for line in printed) and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line and server.poll() is not None:
                raise RuntimeError(f"the demo exited with {server.returncode}")
            printed.append(line.strip())
        wait_for_health(port, server)
        yield port, printed


async def open_answer_page(client, token: str) -> str:
    """The form of /s/{token}; a phone that answered this link before gets "您已提交过本问卷" there, and
    takes its explicit 再填一份 link to answer again (as a shared phone would)."""
    html = (await client.get(f"/s/{token}")).text
    if 'name="_nonce"' not in html and (again := re.search(r"\?again=(\d+)", html)):
        html = (await client.get(f"/s/{token}?again={again.group(1)}")).text
    return html


async def answer(client, link, option="satisfied", **overrides) -> int:
    """Open the link's answer page and post it filled in (`mixed`: satisfied, fairly, basically in turn); the status."""
    html = await open_answer_page(client, token_of(link))
    items = radio_items(html)
    form = filled_form(html, option, **overrides)
    if 'name="access_code"' in html and "access_code" not in overrides:  # its group needs a one-time code
        from support.access_codes import issue

        form["access_code"] = (await issue(client.app.state.respond.settings, token_of(link)))[0]
    if option == "mixed":
        form.update(
            {item: ["satisfied", "fairly_satisfied", "basically_satisfied"][i % 3] for i, item in enumerate(items)}
        )
    posted = await client.post(f"/s/{token_of(link)}", data=form, follow_redirects=False)
    return posted.status_code
