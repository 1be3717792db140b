"""The bureau's results workbook on a large round: time and peak memory to read the answers and write
the workbook (the report's sheets and one 原始数据 row per answer), and the results page's heatmap
counts, which come from the tallies.

Stores the answers straight through the SQLite response store (flags, hash chain and tallies as the
writer keeps them), in batches of 500, into a fresh demo database.

    python bench/workbook.py [--answers 100000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from common import cli, stop_shadowing_analysis
from writer import Scored, a_row


async def fill(db: str, links: list, answers: int) -> None:
    from survey_service.respond.store import SQLiteResponseStore

    scored, store = Scored(), SQLiteResponseStore(db)
    for start in range(0, answers, 500):
        await store.insert([a_row(links[(start + i) % len(links)], scored) for i in range(min(500, answers - start))])
    await store.close()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=100_000)
    args = parser.parse_args()
    stop_shadowing_analysis()
    from zoneinfo import ZoneInfo

    from survey_service.cli import run_with_database
    from survey_service.console.answer_sheet import raw_answer_header, raw_answer_rows, raw_answers
    from survey_service.console.results_workbook import results_xlsx
    from survey_service.console.school_items import school_item_counts
    from survey_service.questionnaire import load_questionnaires
    from survey_service.resources import questionnaires_dir
    from survey_service.results.service import item_labels, round_result
    from survey_service.settings import Settings

    db = str(Path(tempfile.mkdtemp(prefix="bench-workbook-")) / "bench.db")
    cli("demo", "--no-serve", "--db", db, env={**os.environ, "SURVEY_DATABASE_URL": db})
    with sqlite3.connect(db) as connection:
        survey, = connection.execute("SELECT id FROM survey").fetchone()
        links = connection.execute(
            "SELECT survey, id, school, respondent_group FROM link WHERE respondent_group = 'parent'").fetchall()
    asyncio.run(fill(db, links, args.answers))
    questionnaires = load_questionnaires(questionnaires_dir())

    async def measure() -> None:
        started = time.perf_counter()
        counts = await school_item_counts(survey, questionnaires)
        print(f"heatmap counts from the tallies: {(time.perf_counter() - started) * 1000:.0f} ms "
              f"({sum(c.rated for c in counts.values()):,} rated answers)")
        base = peak_mb()
        started = time.perf_counter()
        result = await round_result(survey, questionnaires=questionnaires)
        answers = await raw_answers(survey)
        read = time.perf_counter()
        rows = raw_answer_rows(answers, questionnaires, ZoneInfo("Asia/Shanghai"))
        content = results_xlsx(result, item_labels(questionnaires), raw_answer_header(questionnaires), rows)
        done = time.perf_counter()
        print(f"results workbook, {len(answers):,} answers: read {read - started:.1f} s, written {done - read:.1f} s, "
              f"{len(content) / 1e6:.1f} MB; peak memory {peak_mb():.0f} MB ({base:.0f} MB before)")

    run_with_database(Settings(database_url=db), measure)


if __name__ == "__main__":
    main()
