"""Whole visits: a new phone loads the answer form (GET), reads it and posts it (POST), against the
product (SQLite, one web worker beside its writer process, as `survey-service serve` runs it) and a
bare Litestar form app (bench/bare_form_app.py: a constant form, a POST answered 303, no database)
under the same server and loop, driven in the same run by the same lean asyncio client.

Every visit is a new phone: an empty cookie jar (the answer page's device cookie is kept for the
post, as a browser keeps it), its own address (X-Forwarded-For, from a proxy the server trusts), a
phone's User-Agent and `Accept-Encoding: gzip`. It GETs a link (a random one of the demo round's
links whose form asks no access code: a bench phone has no code slip), parses the form's hidden
fields and radios, chooses an option for each, POSTs it and counts only 303s; afterwards the rows
actually stored are counted. GET alone is measured with wrk over every link (32 connections).

Both servers stay up for a run, and each app's visits (then its GETs) are taken in slices in turn,
product, bare app, product, ... (--slices, 3 by default): the machine's speed drifts by tens of
percent over minutes on a shared machine, and one app measured after the other read that drift as
a change of the ratio.

    python bench/visit.py [--seconds 15] [--get-seconds 10] [--clients 32] [--runs N] [--slices 3] [--profile out.json|out.txt]
    python bench/visit.py --rate 400 [--seconds 15] [--runs N]

Prints visits/s, GET requests/s, POST p50/p99, errors and the ratios to the bare app, the CPU per
visit of each process and how much of a core the web worker used (near 1: the one worker is what
limits the visits); with --runs N the median of each. Needs wrk (apt-get install wrk).

With --rate, new phones arrive at that many visits a second (Poisson, each on a new connection)
whatever the server's pace, and it prints the GET and POST latencies a phone sees at that load. The
32 clients above visit as fast as the server lets them, so their latency is set by the throughput
(32 clients / visits per second is each client's time per visit): that measures capacity, --rate
the latency at a county's load.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
import zlib
from collections import Counter
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlencode

from common import (
    CODED_GROUPS,
    PROXY_ENV,
    cli,
    count_responses,
    cpu_seconds,
    free_port,
    fresh_copy,
    links,
    process_cpu_seconds,
    serve_command,
    start_server,
    stop,
    wrk,
)

HERE = Path(__file__).resolve().parent
SECRET = "bench-secret"
WARM_UP_SECONDS = 1.0
AGENT = "Mozilla/5.0 (Linux; Android 12; V2118A) AppleWebKit/537.36 (KHTML, like Gecko) Mobile MicroMessenger/8.0.40"
PHONE_HEADERS = (
    f"User-Agent: {AGENT}",
    "Accept: text/html,application/xhtml+xml",
    "Accept-Encoding: gzip, deflate",
    "Accept-Language: zh-CN,zh;q=0.9",
)
GET_LUA = r"""
local paths = {}
local index = 0
function init(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
end
function request()
  index = index % #paths + 1
  return wrk.format("GET", paths[index])
end
"""
# What a visit may fail with on the client's side (counted as an error, the connection dropped).
VISIT_FAILURES = (OSError, asyncio.IncompleteReadError, ValueError)
HIDDEN = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)"')
RADIO = re.compile(r'<input type="radio" name="([^"]*)" value="([^"]*)"')
ACTION = re.compile(r'<form method="post" action="([^"]*)"')


class Connection:
    """One keep-alive HTTP/1.1 connection, as lean as a client can be: requests written whole,
    responses read by Content-Length (or chunks)."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, head: str, body: bytes = b"") -> tuple[int, dict[bytes, list[bytes]], bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(head.encode("latin-1") + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw[:-4].split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        headers: dict[bytes, list[bytes]] = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            headers.setdefault(name.strip().lower(), []).append(value.strip())
        if b"content-length" in headers:
            content = await self.reader.readexactly(int(headers[b"content-length"][0]))
        elif headers.get(b"transfer-encoding") == [b"chunked"]:
            content = await self._chunks()
        else:
            content = b""
        if headers.get(b"connection") == [b"close"]:
            self.close()
        return status, headers, content

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)
        await self.reader.readuntil(b"\r\n")
        return b"".join(parts)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


class Tally:
    def __init__(self) -> None:
        self.acknowledged = 0  # every 303, the warm-up's included
        self.visits = 0  # 303s after the warm-up
        self.latencies: list[float] = []  # POST, after the warm-up
        self.page_latencies: list[float] = []  # GET, after the warm-up
        self.errors: Counter[str] = Counter()
        self.page_bytes: Counter[int] = Counter()

    def add(self, other: Tally) -> None:
        """Count another slice's visits in with these."""
        self.acknowledged += other.acknowledged
        self.visits += other.visits
        self.latencies += other.latencies
        self.page_latencies += other.page_latencies
        self.errors.update(other.errors)
        self.page_bytes.update(other.page_bytes)


async def visit(connection: Connection, path: str, rng: random.Random, tally: Tally, counted: bool) -> None:
    """One new phone: GET the form, fill it in as the page offers, POST it."""
    address = f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
    common = f"Host: 127.0.0.1:{connection.port}\r\n" + "".join(f"{h}\r\n" for h in PHONE_HEADERS)
    common += f"X-Forwarded-For: {address}\r\n"
    started = time.perf_counter()
    status, headers, content = await connection.request(f"GET {path} HTTP/1.1\r\n{common}\r\n")
    if counted:
        tally.page_latencies.append(time.perf_counter() - started)
    if status != 200:
        tally.errors[f"GET {status}"] += 1
        return
    tally.page_bytes[len(content)] += 1
    if headers.get(b"content-encoding") == [b"gzip"]:
        content = zlib.decompress(content, 16 + zlib.MAX_WBITS)  # a gzip member; half gzip.decompress's cost
    html = content.decode()
    jar = "; ".join(cookie.split(b";", 1)[0].decode("latin-1") for cookie in headers.get(b"set-cookie", []))
    radios: dict[str, list[str]] = {}
    for name, value in RADIO.findall(html):
        radios.setdefault(name, []).append(value)
    action = ACTION.search(html)
    if action is None or not radios:
        tally.errors["no form"] += 1
        return
    fields = HIDDEN.findall(html) + [(name, rng.choice(values)) for name, values in radios.items()]
    body = urlencode(fields).encode()
    head = f"POST {action.group(1)} HTTP/1.1\r\n{common}"
    head += f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n"
    head += f"Cookie: {jar}\r\n\r\n" if jar else "\r\n"
    started = time.perf_counter()
    status, _, _ = await connection.request(head, body)
    elapsed = time.perf_counter() - started
    if status != 303:
        tally.errors[f"POST {status}"] += 1
        return
    tally.acknowledged += 1
    if counted:
        tally.visits += 1
        tally.latencies.append(elapsed)


async def drive(port: int, paths: list[str], clients: int, seconds: float, seed: int) -> tuple[Tally, float]:
    """`clients` phones' worth of concurrent visits for WARM_UP_SECONDS, then `seconds` counted."""
    tally = Tally()
    start = time.monotonic()
    counting_from, deadline = start + WARM_UP_SECONDS, start + WARM_UP_SECONDS + seconds

    async def client(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        connection = Connection(port)
        try:
            while (now := time.monotonic()) < deadline:
                try:
                    await visit(connection, rng.choice(paths), rng, tally, now >= counting_from)
                except VISIT_FAILURES as exc:
                    tally.errors[type(exc).__name__] += 1
                    connection.close()
        finally:
            connection.close()

    cpu = time.process_time()
    await asyncio.gather(*(client(n) for n in range(clients)))
    return tally, (time.process_time() - cpu)


async def arrive(port: int, paths: list[str], rate: float, seconds: float, seed: int) -> tuple[Tally, float]:
    """New phones arriving at `rate` visits per second (Poisson) for WARM_UP_SECONDS, then `seconds`
    counted, each on its own new connection, whatever the server's pace (open loop): the latency a
    phone sees at that load, not at the server's limit."""
    tally = Tally()
    rng = random.Random(seed)
    start = time.monotonic()
    counting_from, deadline = start + WARM_UP_SECONDS, start + WARM_UP_SECONDS + seconds
    visits: set[asyncio.Task] = set()

    async def phone(counted: bool, own: random.Random) -> None:
        connection = Connection(port)
        try:
            await visit(connection, own.choice(paths), own, tally, counted)
        except VISIT_FAILURES as exc:
            tally.errors[type(exc).__name__] += 1
        finally:
            connection.close()

    cpu = time.process_time()
    due = start
    while (now := time.monotonic()) < deadline:
        if due > now:
            await asyncio.sleep(due - now)
        task = asyncio.create_task(phone(due >= counting_from, random.Random(rng.random())))
        visits.add(task)
        task.add_done_callback(visits.discard)
        due += rng.expovariate(rate)
    await asyncio.gather(*visits)
    return tally, (time.process_time() - cpu)


def run_client(
    port: int, paths: list[str], clients: int, seconds: float, seed: int, rate: float | None = None
) -> tuple[Tally, float]:
    driving = arrive(port, paths, rate, seconds, seed) if rate else drive(port, paths, clients, seconds, seed)
    try:
        import uvloop

        return uvloop.run(driving)
    except ImportError:
        return asyncio.run(driving)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


class App(NamedTuple):
    name: str
    command: list[str]
    env: dict
    port: int
    visit_paths: list[str]
    get_paths: list[str]


class Measure:
    """One app's figures summed over its slices."""

    def __init__(self) -> None:
        self.tally = Tally()
        self.web = self.others = self.client = self.wall = 0.0  # CPU seconds of each process; wall seconds
        self.get_requests = 0
        self.get_seconds = 0.0
        self.get_cpu = 0.0
        self.get_errors = 0
        self.get_p99: list[str] = []


def measure_apps(args, apps: list[App], work: Path, run: int) -> list[dict]:
    """Each app's visits, then (not with --rate) its GETs alone with wrk, in `args.slices` slices taken
    in turn (product, bare app, product, ...) with both servers up, so that the machine's speed, which
    drifts by tens of percent over minutes on a shared machine, weighs on both alike."""
    servers = [start_server(app.command, app.env, app.port) for app in apps]
    measures = [Measure() for _ in apps]
    try:
        for piece in range(args.slices):
            for app, server, measure in zip(apps, servers, measures):
                # The web worker is the server process itself (one worker); on SQLite the writer is its child.
                web0, all0, wall0 = process_cpu_seconds(server.pid), cpu_seconds(server), time.monotonic()
                tally, client_cpu = run_client(
                    app.port, app.visit_paths, args.clients, args.seconds / args.slices, run * 100 + piece, args.rate
                )
                web1, all1, wall1 = process_cpu_seconds(server.pid), cpu_seconds(server), time.monotonic()
                measure.tally.add(tally)
                measure.web += web1 - web0
                measure.others += (all1 - all0) - (web1 - web0)
                measure.client += client_cpu
                measure.wall += wall1 - wall0
        if not args.rate:
            seconds = max(1, round(args.get_seconds / args.slices))
            script = work / "get.lua"
            script.write_text(GET_LUA)
            targets = [work / f"get-paths-{app.name}.txt" for app in apps]
            for app, paths in zip(apps, targets):
                paths.write_text("".join(f"{path}\n" for path in app.get_paths))
            for _ in range(args.slices):
                for app, server, measure, paths in zip(apps, servers, measures, targets):
                    get_alone(args, server, app.port, script, paths, seconds, measure)
    finally:
        for server in servers:
            stop(server)
    return [result(args, measure) for measure in measures]


def get_alone(args, server, port: int, script: Path, targets: Path, seconds: int, measure: Measure) -> None:
    """GET requests with wrk over the links listed in `targets` for `seconds`, and the server's CPU for them."""
    cpu = cpu_seconds(server)
    got = wrk(f"http://127.0.0.1:{port}", script, seconds, args.clients, str(targets), headers=PHONE_HEADERS)
    measure.get_cpu += cpu_seconds(server) - cpu
    measure.get_requests += got["requests"]
    measure.get_seconds += got["requests"] / got["rate"] if got["rate"] else seconds
    measure.get_errors += got["non_2xx_3xx"] + got["socket_errors"]
    measure.get_p99.append(got["p99"])


def result(args, measure: Measure) -> dict:
    """One app's figures from its slices' visits (CPU seconds of each process over their wall seconds)
    and GETs (None with --rate, which has no GET-only run)."""
    visits = max(measure.tally.acknowledged, 1)
    got = None
    if measure.get_requests:
        got = {
            "rate": measure.get_requests / measure.get_seconds,
            "cpu_us": measure.get_cpu / measure.get_requests * 1e6,
            "errors": measure.get_errors,
            "p99": " ".join(measure.get_p99),  # wrk's p99 of each slice
        }
    return {
        "tally": measure.tally,
        "rate": measure.tally.visits / args.seconds,
        "get": got,
        "web_us": measure.web / visits * 1e6,
        "writer_us": measure.others / visits * 1e6,
        "client_us": measure.client / visits * 1e6,
        # How much of a core the web worker used: near 1, the single worker is what limits the visits.
        "web_busy": measure.web / measure.wall,
    }


def report(name: str, result: dict) -> None:
    tally, got = result["tally"], result["get"]
    errors = sum(tally.errors.values())
    # With --rate the GETs' latency at that load; else the GET-only run's figures.
    pages = (
        f"  GET p50 {percentile(tally.page_latencies, 0.5) * 1e3:5.1f} ms  p99 {percentile(tally.page_latencies, 0.99) * 1e3:5.1f} ms"
        if got is None
        else ""
    )
    print(
        f"  {name:<9} visits {result['rate']:7.0f}/s{pages}  POST p50 {percentile(tally.latencies, 0.5) * 1e3:5.1f} ms"
        f"  p99 {percentile(tally.latencies, 0.99) * 1e3:5.1f} ms  errors {errors}"
        + (f" {dict(tally.errors)}" if errors else "")
        + ("" if got is None else f"  |  GET {got['rate']:7.0f}/s (p99 {got['p99']}, errors {got['errors']})")
    )
    print(
        f"  {'':<9} CPU per visit: web {result['web_us']:.0f} µs, writer {result['writer_us']:.0f} µs, "
        f"client {result['client_us']:.0f} µs; "
        + ("" if got is None else f"per GET (wrk): server {got['cpu_us']:.0f} µs; ")
        + f"web worker busy {result['web_busy']:.2f} of a core"
    )


def get_figure(result: dict, key: str) -> float:
    """A figure of the GET-only run (NaN with --rate, which has none)."""
    return float("nan") if result["get"] is None else result["get"][key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15, help="visits counted per app and run")
    parser.add_argument("--get-seconds", type=int, default=10, help="wrk GET per app and run")
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--runs", type=int, default=1, help="repeat; prints each run and the medians")
    parser.add_argument(
        "--slices",
        type=int,
        default=3,
        help="each run's visits (and GETs) in this many slices per app, taken in turn with the other app's",
    )
    parser.add_argument(
        "--rate",
        type=float,
        metavar="VISITS_PER_S",
        help="new phones arriving at this rate (open loop, each on a new connection) instead of --clients "
        "visiting as fast as the server lets them: POST latency at a given load; no GET-only run",
    )
    parser.add_argument(
        "--tmp",
        metavar="DIR",
        help="where the database lives (default: the system's temporary directory); /dev/shm shows what "
        "the answer's commit costs when fsync is free",
    )
    parser.add_argument(
        "--profile",
        metavar="FILE",
        help="record the product's web worker with py-spy (.txt collapsed stacks, else speedscope JSON)",
    )
    args = parser.parse_args()
    if args.slices < 1:
        parser.error("--slices must be at least 1")
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    started = time.monotonic()

    work = Path(tempfile.mkdtemp(prefix="bench-visit-", dir=args.tmp))
    db, demo = work / "bench.db", work / "demo.db"
    env = {**os.environ, **PROXY_ENV, "SURVEY_SECRET": SECRET, "SURVEY_DATABASE_URL": str(db)}
    cli("demo", "--no-serve", "--empty", "--db", str(demo), env={**env, "SURVEY_DATABASE_URL": str(demo)})
    every = links({**env, "SURVEY_DATABASE_URL": str(demo)})
    get_paths = ["/s/" + link["url"].rsplit("/", 1)[1] for link in every]
    visit_paths = ["/s/" + link["url"].rsplit("/", 1)[1] for link in every if link["group"] not in CODED_GROUPS]
    # The bare form has as many rated and free-text items as the parents' questionnaire.
    from survey_service.core.resources import questionnaires_dir
    from survey_service.questionnaire import ItemKind, load_questionnaires

    social = load_questionnaires(questionnaires_dir())["social"]
    free = sum(item.kind is ItemKind.text for item in social.items)
    bare_env = {**env, "BARE_FORM_ITEMS": f"{len(social.items) - free},{free}"}

    # This client's own collector kept off what lives for the whole run (the questionnaires read
    # above), so that its full collections cannot stall the visits in flight for long.
    gc.collect()
    gc.freeze()
    rows = []
    for run in range(1, args.runs + 1):
        fresh_copy(demo, db)
        port = free_port()
        serve = serve_command(port)
        if args.profile:
            fmt = "raw" if args.profile.endswith(".txt") else "speedscope"
            out = f"{args.profile}.run{run}" if run > 1 else args.profile
            # The web worker and (--subprocesses) the writer process; server CPU figures then count py-spy too.
            serve = ["py-spy", "record", "--subprocesses", "-f", fmt, "-o", out, "--", *serve]
        bare_port = free_port()
        bare_command = [sys.executable, "-m", "uvicorn", "bare_form_app:app", "--app-dir", str(HERE)]
        bare_command += ["--port", str(bare_port), "--log-level", "warning", "--no-access-log", "--no-proxy-headers"]
        product, bare = measure_apps(
            args,
            [
                App("product", serve, env, port, visit_paths, get_paths),
                App("bare", bare_command, bare_env, bare_port, ["/form"], ["/form"]),
            ],
            work,
            run,
        )
        stored = count_responses(str(db))

        tally = product["tally"]
        sizes = sorted(tally.page_bytes)
        row = {
            "visits": product["rate"] / bare["rate"],
            "get": get_figure(product, "rate") / get_figure(bare, "rate"),
            "p99": percentile(tally.latencies, 0.99) * 1e3,
            "bare_p99": percentile(bare["tally"].latencies, 0.99) * 1e3,
            "get_p99": percentile(tally.page_latencies, 0.99) * 1e3,
            "errors": sum(tally.errors.values())
            + (0 if args.rate else get_figure(product, "errors"))
            + sum(bare["tally"].errors.values()),
            "lost": tally.acknowledged - stored,
            "page": sizes[-1] if sizes else 0,
            "rate": product["rate"],
            "bare_rate": bare["rate"],
            "get_rate": get_figure(product, "rate"),
            "bare_get_rate": get_figure(bare, "rate"),
        }
        rows.append(row)
        print(f"run {run}:")
        report("product", product)
        report("bare app", bare)
        print(
            f"  answers acknowledged (303) {tally.acknowledged}, rows stored {stored}"
            + (
                ""
                if stored == tally.acknowledged
                else f"  ** {tally.acknowledged - stored} acknowledged but not stored **"
            )
        )
        print(f"  answer page on the wire (gzip): {sizes[0] if sizes else 0}–{row['page']} bytes")
        if not args.rate:
            print(f"  ratios: whole visits {row['visits']:.0%}, GET {row['get']:.0%}")
    med = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    if args.runs > 1 and args.rate:
        print(f"median of {args.runs} runs, {args.rate:.0f} new phones a second offered:")
        print(
            f"  visits {med['rate']:.0f}/s; GET p99 {med['get_p99']:.1f} ms; POST p99 {med['p99']:.1f} ms "
            f"(the bare app's {med['bare_p99']:.1f} ms); errors {max(r['errors'] for r in rows)} (most in a run); "
            f"acknowledged but not stored {max(r['lost'] for r in rows)}"
        )
    elif args.runs > 1:
        print(f"median of {args.runs} runs (each figure's own median):")
        print(
            f"  whole visits {med['rate']:.0f}/s vs {med['bare_rate']:.0f}/s; the runs' ratios' median "
            f"{med['visits']:.0%} (target ≥ 60%)\n"
            f"  GET {med['get_rate']:.0f}/s vs {med['bare_get_rate']:.0f}/s; the runs' ratios' median "
            f"{med['get']:.0%} (target ≥ 70%)\n"
            f"  POST p99 {med['p99']:.1f} ms (target ≤ 20 ms); errors {max(r['errors'] for r in rows)} (most in a run); "
            f"acknowledged but not stored {max(r['lost'] for r in rows)}; page {med['page']:.0f} bytes gzipped (target ≤ 5,120)"
        )
    print(f"took {time.monotonic() - started:.0f} s")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
