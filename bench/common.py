"""What the benchmarks share: a demo database, a server on a free loopback port, signed answer forms."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import re
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

from survey_service.core.groups import DEFAULT_QUESTIONNAIRES


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cli(*args: str, env: dict) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "survey_service", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout


def demo_database(prefix: str, env: dict | None = None) -> Path:
    """A fresh demo round without answers (`survey-service demo --no-serve --empty`) as bench.db in a new
    temporary directory."""
    db = Path(tempfile.mkdtemp(prefix=prefix)) / "bench.db"
    cli("demo", "--no-serve", "--empty", "--db", str(db), env={**(env or os.environ), "SURVEY_DATABASE_URL": str(db)})
    return db


def parent_links(db: Path | str) -> list[tuple]:
    """(survey, link id, school id, group) of each parent link of the demo round."""
    with sqlite3.connect(db) as connection:
        return connection.execute(
            "SELECT survey, id, school, respondent_group FROM link WHERE respondent_group = 'parent'"
        ).fetchall()


def start_server(command: list[str], env: dict, port: int, seconds: float = 60) -> subprocess.Popen:
    """Start a server in its own process group and wait until /healthz answers."""
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + seconds
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).close()
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server ({' '.join(command)}) did not start") from None
            time.sleep(0.2)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU used so far by one process (every thread)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_idle() -> float:
    """CPU-seconds all cores have spent idle (or waiting on the disk) since boot."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    return (int(fields[4]) + int(fields[5])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(server: subprocess.Popen) -> float:
    """User + system CPU used so far by the server's whole process group (its web workers and, on
    SQLite, its writer process; every thread): unlike requests per second, barely moved by other
    guests on a shared machine."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[2]) == server.pid:  # its process group (start_server makes it a group leader)
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def serve_command(port: int, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "survey_service", "serve", "--port", str(port), "--workers", str(workers)]


def stop(server: subprocess.Popen) -> None:
    """SIGINT, as Ctrl+C: the server commits what is waiting, then exits."""
    os.killpg(server.pid, signal.SIGINT)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def kill(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def links(env: dict) -> list[dict]:
    """The round's links as `links export` gives them."""
    lines = cli("links", "export", env=env).splitlines()
    header = lines[0].split(",")
    return [dict(zip(header, line.split(","))) for line in lines[1:]]


CODED_GROUPS = ("principal", "deputy")


class Phone(NamedTuple):
    """One phone as the server sees it: its signed device cookie (as the answer page sets it), the
    device id the cookie names, and a network address (sent as X-Forwarded-For from a trusted proxy)."""

    cookie: str
    device: str
    address: str


def phones(secret: str, count: int, seed: int = 1) -> list[Phone]:
    """`count` phones, each with its own device cookie signed with `secret` and its own address: the
    server must trust 127.0.0.1 as its proxy (PROXY_ENV). Without distinct addresses, thousands of new
    devices from one address and one browser would be, rightly, new devices churning (device_churn)."""
    from survey_service.respond.signals import DEVICE_COOKIE, new_device_cookie

    rng = random.Random(seed)
    out = []
    for _ in range(count):
        value, device = new_device_cookie(secret)
        address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
        out.append(Phone(f"{DEVICE_COOKIE}={value}", device, address))
    return out


# The benchmarks' server believes X-Forwarded-For from loopback (as behind a county's reverse proxy).
PROXY_ENV = {"SURVEY_TRUSTED_PROXIES": "127.0.0.1"}


def answer_forms(
    env: dict,
    count: int,
    secret: str,
    seed: int = 1,
    group: str | None = None,
    opened_seconds_ago: float = 0,
    devices: list[str] | None = None,
) -> list[tuple[str, str, str]]:
    """(path, urlencoded body, nonce): valid, distinct answers over every link (or one group's first
    link), each nonce signed as if the form had been opened `opened_seconds_ago`, and bound to
    `devices[i]` (the device cookie the form was issued to) when given."""
    from survey_service.core.resources import questionnaires_dir
    from survey_service.questionnaire import load_questionnaires
    from survey_service.respond.nonce import issue_nonce

    questionnaires = load_questionnaires(questionnaires_dir())
    rng = random.Random(seed)
    # Not the links whose answer page asks for a one-time access code (the demo round asks 校长 and
    # 人大代表/政协委员 for one): these forms carry none.
    every = [link for link in links(env) if link["group"] not in CODED_GROUPS]
    if group:
        every = [next(link for link in every if link["group"] == group)]
    forms = []
    for index in range(count):
        link = rng.choice(every)
        token = link["url"].rsplit("/", 1)[1]
        questionnaire = questionnaires[DEFAULT_QUESTIONNAIRES[link["group"]]]
        codes = [option.code for option in questionnaire.scale[:4]]
        device = devices[index] if devices else None
        nonce = issue_nonce(secret, token, now=time.time() - opened_seconds_ago, device_id=device)
        form = {"_nonce": nonce} | {item.id: rng.choice(codes) for item in questionnaire.rated_items}
        forms.append((f"/s/{token}", urlencode(form), nonce))
    return forms


def count_responses(db: str) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(*) FROM response").fetchone()[0]


POSTGRES_ADMIN = os.environ.get("SURVEY_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def fresh_database(kind: str, directory: Path, name: str) -> tuple[str, Callable[[], None]]:
    """A database URL for one run and the function that drops it: a SQLite file `name`.db in
    `directory`, or a new PostgreSQL database survey_`name`_… on SURVEY_TEST_POSTGRES_URL's server."""
    if kind == "sqlite":
        return str(directory / f"{name}.db"), lambda: None
    import asyncpg

    database = f"survey_{name}_{uuid.uuid4().hex[:8]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(POSTGRES_ADMIN)
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{database}"'))
    return POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + database, lambda: asyncio.run(
        admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    )


def wrk(url: str, script: Path, seconds: int, connections: int, *args: str, headers: tuple[str, ...] = ()) -> dict:
    """One wrk run (one thread, `connections` keep-alive connections) with a Lua script given `args`,
    each request carrying `headers` ("Name: value"); its rate, latency, errors and its own CPU."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    command.append(url)
    if args:
        command += ["--", *args]
    before, idle = resource.getrusage(resource.RUSAGE_CHILDREN), machine_idle()
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after, idle = resource.getrusage(resource.RUSAGE_CHILDREN), machine_idle() - idle
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {
        "wrk_cpu_us": (after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime) / requests * 1e6,
        "idle": idle,
        "requests": requests,
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "non_2xx_3xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "socket_errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    }


def fresh_copy(source: Path, target: Path) -> None:
    """A copy of the demo database (sqlite3's backup: what its WAL holds included)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    with contextlib.closing(sqlite3.connect(source)) as origin, contextlib.closing(sqlite3.connect(target)) as copy:
        origin.backup(copy)
        copy.execute("PRAGMA journal_mode=WAL")
