"""Durable answer throughput: POST valid answer forms to /s/{token} on a live server (SQLite, one web worker
beside its writer process).

Starts `survey-service serve` on a fresh copy of one demo database for every run, drives it from
another process (wrk) on loopback with many concurrent clients (each request a different phone: its
own device cookie), counts what the database holds afterwards, and in the same run measures a
minimal Litestar app (bench/minimal_app.py) under the same server and load.

    python bench/submit.py [--seconds 15] [--connections 64] [--runs N] [--profile out.svg|out.txt]

Prints accepted durable responses/s, p50/p99 latency, errors, and the ratio to the minimal app.
Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from common import (
    PROXY_ENV,
    answer_forms,
    cli,
    count_responses,
    cpu_seconds,
    free_port,
    fresh_copy,
    phones,
    serve_command,
    start_server,
    stop,
    wrk,
)

HERE = Path(__file__).resolve().parent
SECRET = "bench-secret"
FORMS_PER_SECOND = 15_000
# One wrk thread cycles through the prepared requests: each nonce is sent once.
LUA = r"""
local requests = {}
local count = 0
local index = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, cookie, address, body = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)")
    count = count + 1
    requests[count] = wrk.format("POST", path,
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = cookie,
       ["X-Forwarded-For"] = address}, body)
  end
end
function request()
  index = index % count + 1
  return requests[index]
end
"""
MINIMAL_LUA = 'wrk.method = "POST"\nwrk.body = ""\n'


def measure(args, env: dict, db: Path, work: Path, run: int) -> tuple[dict, int, dict]:
    """One run: the product (fresh answer forms), then the minimal app, under the same load; each
    result carries the server's CPU time per request (`cpu_us`)."""
    bodies = work / f"bodies-{run}.tsv"
    # More distinct forms than the server can take: a form sent twice is a cheap duplicate, not an answer.
    # Each a different phone: its own signed device cookie, its form bound to it, its own address.
    senders = phones(SECRET, FORMS_PER_SECOND * args.seconds, seed=run)
    forms = answer_forms(env, len(senders), SECRET, seed=run, devices=[phone.device for phone in senders])
    bodies.write_text(
        "".join(f"{path}\t{phone.cookie}\t{phone.address}\t{body}\n" for (path, body, _), phone in zip(forms, senders))
    )
    script, minimal_script = work / "submit.lua", work / "minimal.lua"
    script.write_text(LUA)
    minimal_script.write_text(MINIMAL_LUA)

    port = free_port()
    serve = serve_command(port, args.workers)
    if args.profile:
        fmt = "raw" if args.profile.endswith(".txt") else "flamegraph"
        serve = ["py-spy", "record", "--subprocesses", "-f", fmt, "-o", args.profile, "--", *serve]
    server = start_server(serve, env, port)
    try:
        before, cpu = count_responses(str(db)), cpu_seconds(server)
        result = wrk(f"http://127.0.0.1:{port}", script, args.seconds, args.connections, str(bodies))
        result["cpu_us"] = (cpu_seconds(server) - cpu) / result["requests"] * 1e6
    finally:
        stop(server)
        bodies.unlink()  # about 75 MB a run, read once by wrk
    stored = count_responses(str(db)) - before

    minimal_port = free_port()
    minimal = start_server(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "minimal_app:app",
            "--app-dir",
            str(HERE),
            "--port",
            str(minimal_port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        minimal_port,
    )
    try:
        cpu = cpu_seconds(minimal)
        baseline = wrk(f"http://127.0.0.1:{minimal_port}/", minimal_script, args.seconds, args.connections)
        baseline["cpu_us"] = (cpu_seconds(minimal) - cpu) / baseline["requests"] * 1e6
    finally:
        stop(minimal)
    return result, stored, baseline


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=1, help="web workers (the targets are for one)")
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="repeat, alternating product and minimal app; "
        "prints each run and the median (a shared machine's speed drifts)",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="record the server with py-spy (.svg flame graph, .txt collapsed stacks)"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    db, demo = work / "bench.db", work / "demo.db"
    env = {**os.environ, **PROXY_ENV, "SURVEY_SECRET": SECRET, "SURVEY_DATABASE_URL": str(db)}
    cli("demo", "--no-serve", "--empty", "--db", str(demo), env={**env, "SURVEY_DATABASE_URL": str(demo)})
    rates, ratios = [], []
    for run in range(1, args.runs + 1):
        # Every run starts from the same fresh demo round: a database grown by the runs before it
        # (about 45,000 answers each) makes each answer dearer to index, and the runs incomparable.
        fresh_copy(demo, db)
        result, stored, baseline = measure(args, env, db, work, run)
        errors = result["non_2xx_3xx"] + result["socket_errors"]
        rates.append(stored / args.seconds)
        # Durable answers stored, not requests answered: the stricter of the two.
        ratios.append(stored / args.seconds / baseline["rate"])
        if result["requests"] > FORMS_PER_SECOND * args.seconds:
            print(f"  warning: wrk sent some forms twice (FORMS_PER_SECOND = {FORMS_PER_SECOND} is too few)")
        print(f"run {run}:")
        print(f"  answer forms posted:       {result['requests']} in {args.seconds}s ({result['rate']:.0f}/s)")
        print(f"  durable responses stored:  {stored} ({stored / args.seconds:.0f}/s)")
        print(f"  latency p50 / p99:         {result['p50']} / {result['p99']}")
        print(
            f"  errors:                    {errors} (non-2xx/3xx {result['non_2xx_3xx']}, socket {result['socket_errors']})"
        )
        print(
            f"  CPU per answer:            server {result['cpu_us']:.0f} µs, wrk {result['wrk_cpu_us']:.0f} µs; "
            f"machine idle {result['idle'] / args.seconds / os.cpu_count():.0%}"
        )
        print(
            f"  minimal Litestar app:      {baseline['rate']:.0f}/s (p50 {baseline['p50']}, p99 {baseline['p99']}; "
            f"CPU per request: server {baseline['cpu_us']:.0f} µs, wrk {baseline['wrk_cpu_us']:.0f} µs; "
            f"machine idle {baseline['idle'] / args.seconds / os.cpu_count():.0%})"
        )
        print(f"  ratio to the minimal app:  {ratios[-1]:.0%}")
    if args.runs > 1:
        print(
            f"median of {args.runs} runs: {statistics.median(rates):.0f} durable responses/s (target ≥ 2,000), "
            f"ratio {statistics.median(ratios):.0%} (target ≥ 35%)"
        )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
