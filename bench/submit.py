"""Durable answer throughput: POST valid answer forms to /s/{token} on a live server (SQLite, one worker).

Starts `survey-service serve` on a fresh demo database, drives it from another process (wrk) on
loopback with many concurrent clients, counts what the database holds afterwards, and in the same
run measures a minimal Litestar app (bench/minimal_app.py) under the same server and load.

    python bench/submit.py [--seconds 15] [--connections 64]

Prints accepted durable responses/s, p50/p99 latency, errors, and the ratio to the minimal app.
Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
SECRET = "bench-secret"
# One wrk thread cycles through the prepared bodies: each nonce is sent once.
LUA = r"""
local requests = {}
local count = 0
local index = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, body = line:match("([^\t]+)\t(.*)")
    count = count + 1
    requests[count] = wrk.format("POST", path,
      {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
  end
end
function request()
  index = index % count + 1
  return requests[index]
end
"""
MINIMAL_LUA = r"""
wrk.method = "POST"
wrk.body = ""
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not come up")


def start(command: list[str], env: dict, health: str) -> subprocess.Popen:
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    wait_until_up(health, process)
    return process


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def wrk(url: str, script: Path, seconds: int, connections: int, *args: str) -> dict:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script), url]
    if args:
        command += ["--", *args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return {
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "rate": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50": re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1),
        "p99": re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1),
        "non_2xx_3xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0,
        "socket_errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out)),
    }


def answer_bodies(db: Path, count: int) -> list[str]:
    """Valid, distinct answer forms over every link, each with its own signed nonce."""
    from survey_service.questionnaire import load_questionnaires
    from survey_service.resources import questionnaires_dir
    from survey_service.respond.nonce import issue_nonce

    questionnaires = load_questionnaires(questionnaires_dir())
    with sqlite3.connect(db) as connection:
        links = connection.execute(
            "SELECT link.token, link.respondent_group, survey.questionnaires FROM link JOIN survey ON survey.id = link.survey"
        ).fetchall()
    rng = random.Random(1)
    lines = []
    for _ in range(count):
        token, group, chosen = rng.choice(links)
        questionnaire = questionnaires[json.loads(chosen)[group]]
        codes = [option.code for option in questionnaire.scale]
        form = {"_nonce": issue_nonce(SECRET, token)}
        form.update({item.id: rng.choice(codes[:4]) for item in questionnaire.rated_items})
        lines.append(f"/s/{token}\t{urlencode(form)}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--profile", metavar="SVG", help="record the server with py-spy (.svg flame graph, .txt collapsed stacks)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    db = work / "bench.db"
    env = {**os.environ, "SURVEY_SECRET": SECRET, "SURVEY_DATABASE_URL": str(db)}
    cli = [sys.executable, "-m", "survey_service"]
    subprocess.run([*cli, "demo", "--no-serve", "--db", str(db)], env=env, check=True, capture_output=True)

    bodies = work / "bodies.tsv"
    bodies.write_text("\n".join(answer_bodies(db, 40_000 * args.seconds // 10 + 100_000)) + "\n")
    script = work / "submit.lua"
    script.write_text(LUA)
    minimal_script = work / "minimal.lua"
    minimal_script.write_text(MINIMAL_LUA)

    port = free_port()
    serve = [*cli, "serve", "--db", str(db), "--port", str(port)]
    if os.environ.get("BENCH_SERVER"):
        serve = [sys.executable, os.environ["BENCH_SERVER"], str(port)]
    if args.profile:
        fmt = "raw" if args.profile.endswith(".txt") else "flamegraph"
        serve = ["py-spy", "record", "--subprocesses", "-f", fmt, "-o", args.profile, "--", *serve]
    server = start(serve, env, f"http://127.0.0.1:{port}/healthz")
    try:
        before = count_responses(db)
        result = wrk(f"http://127.0.0.1:{port}", script, args.seconds, args.connections, str(bodies))
    finally:
        stop(server)
    stored = count_responses(db) - before

    minimal_port = free_port()
    minimal = start(
        [sys.executable, "-m", "uvicorn", "minimal_app:app", "--app-dir", str(HERE), "--port", str(minimal_port),
         "--log-level", "warning", "--no-access-log"],
        env,
        f"http://127.0.0.1:{minimal_port}/healthz",
    )
    try:
        baseline = wrk(f"http://127.0.0.1:{minimal_port}/", minimal_script, args.seconds, args.connections)
    finally:
        stop(minimal)

    errors = result["non_2xx_3xx"] + result["socket_errors"]
    print(f"answer forms posted:       {result['requests']} in {args.seconds}s ({result['rate']:.0f}/s)")
    print(f"durable responses stored:  {stored} ({stored / args.seconds:.0f}/s)")
    print(f"latency p50 / p99:         {result['p50']} / {result['p99']}")
    print(f"errors:                    {errors} (non-2xx/3xx {result['non_2xx_3xx']}, socket {result['socket_errors']})")
    print(f"minimal Litestar app:      {baseline['rate']:.0f}/s (p50 {baseline['p50']}, p99 {baseline['p99']})")
    print(f"ratio to the minimal app:  {result['rate'] / baseline['rate']:.0%}")
    shutil.rmtree(work, ignore_errors=True)


def count_responses(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COUNT(*) FROM response").fetchone()[0]


if __name__ == "__main__":
    main()
