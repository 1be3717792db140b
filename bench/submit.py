"""Durable answer throughput: POST valid answer forms to /s/{token} on a live server (SQLite, one worker).

Starts `survey-service serve` on a fresh demo database, drives it from another process (wrk) on
loopback with many concurrent clients (each request a different phone: its own device cookie),
counts what the database holds afterwards, and in the same run measures a minimal Litestar app
(bench/minimal_app.py) under the same server and load.

    python bench/submit.py [--seconds 15] [--connections 64] [--profile out.svg|out.txt]

Prints accepted durable responses/s, p50/p99 latency, errors, and the ratio to the minimal app.
Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from common import answer_forms, cli, count_responses, free_port, serve_command, start_server, stop

HERE = Path(__file__).resolve().parent
SECRET = "bench-secret"
# One wrk thread cycles through the prepared requests: each nonce is sent once.
LUA = r"""
local requests = {}
local count = 0
local index = 0
function init(args)
  for line in io.lines(args[1]) do
    local path, cookie, body = line:match("([^\t]+)\t([^\t]+)\t(.*)")
    count = count + 1
    requests[count] = wrk.format("POST", path,
      {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = cookie}, body)
  end
end
function request()
  index = index % count + 1
  return requests[index]
end
"""
MINIMAL_LUA = 'wrk.method = "POST"\nwrk.body = ""\n'


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--profile", metavar="FILE", help="record the server with py-spy (.svg flame graph, .txt collapsed stacks)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")

    work = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    db = work / "bench.db"
    env = {**os.environ, "SURVEY_SECRET": SECRET, "SURVEY_DATABASE_URL": str(db)}
    cli("demo", "--no-serve", "--db", str(db), env=env)
    bodies = work / "bodies.tsv"
    forms = answer_forms(env, 6_000 * args.seconds, SECRET)
    bodies.write_text("".join(f"{path}\tsv_device={uuid.uuid4().hex}\t{body}\n" for path, body, _ in forms))
    script, minimal_script = work / "submit.lua", work / "minimal.lua"
    script.write_text(LUA)
    minimal_script.write_text(MINIMAL_LUA)

    port = free_port()
    serve = serve_command(port)
    if args.profile:
        fmt = "raw" if args.profile.endswith(".txt") else "flamegraph"
        serve = ["py-spy", "record", "--subprocesses", "-f", fmt, "-o", args.profile, "--", *serve]
    server = start_server(serve, env, port)
    try:
        before = count_responses(str(db))
        result = wrk(f"http://127.0.0.1:{port}", script, args.seconds, args.connections, str(bodies))
    finally:
        stop(server)
    stored = count_responses(str(db)) - before

    minimal_port = free_port()
    minimal = start_server(
        [sys.executable, "-m", "uvicorn", "minimal_app:app", "--app-dir", str(HERE), "--port", str(minimal_port),
         "--log-level", "warning", "--no-access-log"],
        env,
        minimal_port,
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


if __name__ == "__main__":
    main()
