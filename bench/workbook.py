"""The bureau's results workbook on a large round: time and peak memory to build it as the workbook
process does (read the answers, write the report's sheets and one 原始数据 row per answer), and the
results page's heatmap counts, which come from the tallies. Then, on a live server (SQLite, one web
worker), how many requests/s that worker answers (/healthz under wrk) alone and while a bureau
account downloads the workbook, which is built in a process of its own.

Stores the answers straight through the SQLite response store (flags, hash chain and tallies as the
writer keeps them), in batches of 500, into a fresh demo database.

    python bench/workbook.py [--answers 100000]

Needs wrk (apt-get install wrk) and httpx (the test extra).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import threading
import time
from pathlib import Path

from common import cli, demo_database, free_port, parent_links, serve_command, start_server, stop
from submit import wrk
from writer import Scored, a_row

SECRET = "bench-secret-bench-secret-bench-secret"
PASSWORD = "bench-password-1"


async def fill(db: str, links: list, answers: int) -> None:
    from survey_service.ledger.store import SQLiteResponseStore

    scored, store = Scored(), SQLiteResponseStore(db)
    for start in range(0, answers, 500):
        await store.insert([a_row(links[(start + i) % len(links)], scored) for i in range(min(500, answers - start))])
    await store.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def responsiveness(db: str, survey: int, seconds: int = 8) -> None:
    """The web worker's requests/s alone, then while the workbook is downloaded."""
    import httpx

    env = {**os.environ, "SURVEY_SECRET": SECRET, "SURVEY_DATABASE_URL": db}
    cli("user", "add", "--username", "bench", "--role", "bureau", "--password", PASSWORD, env=env)
    port = free_port()
    server = start_server(serve_command(port), env, port)
    script = Path(db).with_name("get.lua")
    script.write_text('wrk.method = "GET"\n')
    try:
        url = f"http://127.0.0.1:{port}"
        alone = wrk(f"{url}/healthz", script, seconds, 16)
        bureau = httpx.Client(base_url=url, timeout=600)
        bureau.get("/console/login")
        bureau.post(
            "/console/login",
            data={
                "_csrf_token": bureau.cookies["console_csrf"],
                "username": "bench",
                "password": PASSWORD,
                "next": "/console",
            },
        )
        took: list[float] = []

        def download() -> None:
            started = time.perf_counter()
            assert bureau.get(f"/console/rounds/{survey}/results.xlsx").status_code == 200
            took.append(time.perf_counter() - started)

        downloading = threading.Thread(target=download)
        downloading.start()
        time.sleep(1)
        during = wrk(f"{url}/healthz", script, seconds, 16)
        downloading.join()
    finally:
        stop(server)
    print(
        f"web worker alone: {alone['rate']:,.0f} requests/s (p99 {alone['p99']}); while the workbook is "
        f"downloaded ({took[0]:.1f} s): {during['rate']:,.0f} requests/s (p99 {during['p99']})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    args = parser.parse_args()
    from survey_service.cli import run_with_database
    from survey_service.core.resources import questionnaires_dir
    from survey_service.core.settings import Settings
    from survey_service.questionnaire import load_questionnaires
    from survey_service.results.school_items import school_item_counts
    from survey_service.results.workbook_process import build

    db = str(demo_database("bench-workbook-"))
    links = parent_links(db)
    survey = links[0][0]
    asyncio.run(fill(db, links, args.answers))
    questionnaires = load_questionnaires(questionnaires_dir())

    async def heatmap() -> None:
        started = time.perf_counter()
        counts = await school_item_counts(survey, questionnaires)
        print(
            f"heatmap counts from the tallies: {(time.perf_counter() - started) * 1000:.0f} ms "
            f"({sum(c.rated for c in counts.values()):,} rated answers)"
        )

    settings = Settings(database_url=db)
    run_with_database(settings, heatmap)
    base = peak_mb()
    started = time.perf_counter()
    content = build(settings, survey, questionnaires)  # what the workbook process runs
    print(
        f"results workbook, {args.answers:,} answers: {time.perf_counter() - started:.1f} s, "
        f"{len(content) / 1e6:.1f} MB; peak memory {peak_mb():.0f} MB ({base:.0f} MB before)"
    )
    responsiveness(db, survey)


if __name__ == "__main__":
    main()
