"""The answer page's latency over a worker's first minute: wrk GETs over every link of the demo round
in slices of a few seconds, from the moment the server answers /healthz, each slice's rate and p99.

What it shows: whether phones wait on the worker's own upkeep, such as the links it reads when it
starts and again as its link cache (SURVEY_LINK_CACHE_SECONDS, 30 s) runs out; a slice with a p99
far above the others is a moment when many requests waited on the same thing.

    python bench/page_over_time.py [--slices 14] [--seconds 3] [--connections 32]

Needs wrk (apt-get install wrk).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

from common import PROXY_ENV, cli, free_port, links, serve_command, start_server, stop, wrk
from visit import GET_LUA, PHONE_HEADERS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=14)
    parser.add_argument("--seconds", type=int, default=3, help="each slice's length")
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="bench-page-over-time-"))
    db = work / "bench.db"
    env = {**os.environ, **PROXY_ENV, "SURVEY_SECRET": "bench-secret", "SURVEY_DATABASE_URL": str(db)}
    cli("demo", "--no-serve", "--empty", "--db", str(db), env=env)
    script, paths = work / "get.lua", work / "paths.txt"
    script.write_text(GET_LUA)
    paths.write_text("".join("/s/" + link["url"].rsplit("/", 1)[1] + "\n" for link in links(env)))
    port = free_port()
    server = start_server(serve_command(port), env, port)
    started = time.monotonic()
    try:
        for _ in range(args.slices):
            got = wrk(
                f"http://127.0.0.1:{port}", script, args.seconds, args.connections, str(paths), headers=PHONE_HEADERS
            )
            print(
                f"  {time.monotonic() - started:5.1f} s  {got['rate']:7.0f} pages/s  p50 {got['p50']:>8}  p99 {got['p99']:>8}"
                f"  errors {got['non_2xx_3xx'] + got['socket_errors']}",
                flush=True,
            )
    finally:
        stop(server)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
