"""The full report from the database at county scale, and samplics on the same data.

Generates (once, cached) a SQLite database with one round of 1,000,000 responses over 200 schools,
6 groups and a 12-item questionnaire, inserted with sqlite3 executemany (not through the app), then
tallied once as `survey-service retally` does (the response writer keeps the tallies as answers arrive).
Then, in a fresh subprocess, times the full report exactly as `survey-service report` makes it
(`round_result`, then JSON and Markdown) and reads its peak memory (ru_maxrss); and in this
process times samplics' TaylorEstimator for the six group estimates on the same respondents.

    python bench/report.py [--responses 1000000] [--db /tmp/survey-bench.db] [--fresh]

Targets (issue 3): the report ≤ 2 s and ≤ 1 GB, at least 10× faster than samplics.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sqlite3
import subprocess
import sys
import time
import warnings
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import numpy as np

from survey_service.core.groups import Group
from survey_service.core.resources import questionnaires_dir
from survey_service.core.settings import Settings
from survey_service.db.engine import bind, close_pool, make_engine, open_pool
from survey_service.db.migrate import migrate
from survey_service.questionnaire import load_questionnaires

SCHOOLS = 200
ITEMS = 12
GROUPS = [g.value for g in Group]
GROUP_SHARE = [0.20, 0.50, 0.15, 0.01, 0.07, 0.07]  # student, parent, teacher, principal, deputy, public
OPTION_SHARE = [0.45, 0.25, 0.15, 0.10, 0.05]  # 满意, 比较满意, 基本满意, 不满意, 不了解
SEED = 20261122


def bench_questionnaire():
    """The social questionnaire cut to its first 12 rated items, for every group."""
    social = load_questionnaires(questionnaires_dir())["social"]
    return msgspec.structs.replace(
        social, id="bench", groups=GROUPS, overall_item=None, items=social.rated_items[:ITEMS], translations={}
    )


def generate(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Respondents: group, school index (-1 county), choices codes, y and score."""
    group = rng.choice(len(GROUPS), size=n, p=GROUP_SHARE)
    school = np.where(group < 4, rng.integers(0, SCHOOLS, size=n), -1)
    codes = rng.choice(5, size=(n, ITEMS), p=OPTION_SHARE).astype(np.uint8)
    q = bench_questionnaire()
    recognised = np.array([o.recognised for o in q.scale])[codes]
    counted = ~np.array([o.excluded for o in q.scale])[codes]
    points = np.array([o.score or 0.0 for o in q.scale])[codes]
    with np.errstate(invalid="ignore", divide="ignore"):
        y = recognised.sum(axis=1) / counted.sum(axis=1)
        score = np.where(counted, points, 0).sum(axis=1) / counted.sum(axis=1)
    choices = (codes + ord("0")).view(f"S{ITEMS}").ravel()  # one 12-byte code per respondent
    return dict(group=group, school=school, choices=choices, y=y, score=score)


def populations(data: dict, rng: np.random.Generator) -> np.ndarray:
    """N_h per school × school-level group: 2 to 10 times the respondents (a sample, not a census)."""
    n = np.zeros((SCHOOLS, 4), dtype=np.int64)
    school_level = data["school"] >= 0
    np.add.at(n, (data["school"][school_level], data["group"][school_level]), 1)
    return (n * rng.uniform(2, 10, size=n.shape)).astype(np.int64) + 1


def build_database(path: Path, n: int) -> None:
    rng = np.random.default_rng(SEED)
    data = generate(n, rng)
    sizes = populations(data, rng)
    county = {"deputy": int((data["group"] == 4).sum() * 3)}
    path.unlink(missing_ok=True)
    asyncio.run(_migrate(path))
    now = datetime.now(UTC).isoformat()
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO survey (id, title, region, resident_population, opens_at, closes_at, target, "
            "confidence_level, group_weights, questionnaires, county_populations, created_at) "
            "VALUES (1, 'bench', 'bench county', 2000000, ?, ?, 0.85, 0.95, '{}', ?, ?, ?)",
            (now, now, json.dumps({g: "bench" for g in GROUPS}), json.dumps(county), now),
        )
        db.executemany(
            "INSERT INTO school (id, survey, code, name, stage, location, students, parents, teachers, "
            "principals) VALUES (?, 1, ?, ?, '小学', ?, ?, ?, ?, ?)",
            [
                (s + 1, f"S{s:03d}", f"学校{s:03d}", ("城区", "镇区", "乡村")[s % 3], *map(int, sizes[s]))
                for s in range(SCHOOLS)
            ],
        )
        links = [(None, g) for g in ("deputy", "public")] + [(s + 1, g) for s in range(SCHOOLS) for g in GROUPS[:4]]
        db.executemany(
            "INSERT INTO link (id, survey, school, respondent_group, token) VALUES (?, 1, ?, ?, ?)",
            [(k + 1, s, g, f"t{k}") for k, (s, g) in enumerate(links)],
        )
        link_of = {key: k + 1 for k, key in enumerate(links)}
        school, version = data["school"], bench_questionnaire().version
        rows = (
            (
                1,
                link_of[(None if school[i] < 0 else int(school[i]) + 1, GROUPS[data["group"][i]])],
                None if school[i] < 0 else int(school[i]) + 1,
                GROUPS[data["group"][i]],
                "bench",
                version,
                "{}",
                None if np.isnan(data["y"][i]) else float(data["y"][i]),
                data["choices"][i].decode(),
                None if np.isnan(data["score"][i]) else float(data["score"][i]),
                now,
                60,
                f"n{i}",
                True,
            )
            for i in range(n)
        )
        db.executemany(
            "INSERT INTO response (survey, link, school, respondent_group, questionnaire_id, "
            "questionnaire_version, answers, recognition, choices, score, submitted_at, seconds_taken, "
            "nonce, valid) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    np.savez(
        path.with_suffix(".npz"),
        **{k: v for k, v in data.items() if k != "choices"},
        populations=sizes,
        deputy=county["deputy"],
    )
    start = time.perf_counter()
    asyncio.run(_retally(path))
    print(
        f"tallied the {n:,} responses in {time.perf_counter() - start:.1f} s (a one-off recount, as "
        "`survey-service retally` does; the response writer keeps tallies as answers arrive)"
    )


async def _retally(path: Path) -> None:
    from survey_service.integrity.service import retally

    engine = bind(make_engine(Settings(database_url=str(path))))
    await open_pool(engine)
    try:
        await retally(1)
    finally:
        await close_pool(engine)


async def _migrate(path: Path) -> None:
    engine = bind(make_engine(Settings(database_url=str(path))))
    await open_pool(engine)
    try:
        await migrate()
    finally:
        await close_pool(engine)


def report_once(path: Path) -> None:
    """Child process: the full report as `survey-service report` makes it; prints timings as JSON."""
    from survey_service.results.markdown import report_markdown
    from survey_service.results.service import item_labels, round_result

    questionnaires = {"bench": bench_questionnaire()}

    async def run() -> list[float]:
        engine = bind(make_engine(Settings(database_url=str(path))))
        await open_pool(engine)
        times = []
        for _ in range(3):
            start = time.perf_counter()
            result = await round_result(1, questionnaires=questionnaires)
            msgspec.json.encode(result)
            report_markdown(result, item_labels(questionnaires))
            times.append(time.perf_counter() - start)
        await close_pool(engine)
        print(
            json.dumps(
                {
                    "times": times,
                    "estimate": result.overall.estimate,
                    "se": result.overall.se,
                    "groups": {g: [e.estimate, e.se] for g, e in result.groups.items()},
                    "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                }
            )
        )

    asyncio.run(run())


def samplics_groups(path: Path) -> tuple[float, dict]:
    """samplics' Taylor estimates of the six group means on the same respondents."""
    warnings.simplefilter("ignore")
    from samplics.estimation import TaylorEstimator
    from samplics.utils.types import PopParam, SinglePSUEst

    saved = np.load(path.with_suffix(".npz"))
    valid = ~np.isnan(saved["y"])
    group, school, y = saved["group"][valid], saved["school"][valid], saved["y"][valid]
    stratum = np.where(school >= 0, school, SCHOOLS) * len(GROUPS) + group
    keys, index, n_h = np.unique(stratum, return_inverse=True, return_counts=True)
    population = np.array(
        [
            saved["populations"][k // len(GROUPS), k % len(GROUPS)]
            if k // len(GROUPS) < SCHOOLS
            else (int(saved["deputy"]) if k % len(GROUPS) == 4 else 0)
            for k in keys
        ],
        dtype=float,
    )
    known = population > 0
    weight = np.where(known, population / n_h, 1.0)[index]
    fpc = dict(zip(keys, np.where(known, 1 - n_h / np.where(known, population, 1), 1.0)))
    domain = np.array(GROUPS)[group]
    start = time.perf_counter()
    estimator = TaylorEstimator(PopParam.mean)
    estimator.estimate(
        y=y,
        samp_weight=weight,
        stratum=stratum,
        psu=np.arange(len(y)),
        domain=domain,
        fpc=fpc,
        single_psu=SinglePSUEst.skip,
    )
    elapsed = time.perf_counter() - start
    return elapsed, {g: [float(estimator.point_est[g]), float(estimator.stderror[g])] for g in GROUPS}


def _cached(path: Path, responses: int) -> bool:
    """A database from an earlier run with as many responses and the current schema."""
    from survey_service.respond.tables import Response
    from survey_service.surveys.tables import Survey

    if not path.exists() or not path.with_suffix(".npz").exists():
        return False
    with sqlite3.connect(path) as db:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'response_tally'").fetchone():
            return False
        for table in (Response, Survey):
            columns = {row[1] for row in db.execute(f"PRAGMA table_info({table._meta.tablename})")}
            if not {c._meta.db_column_name for c in table._meta.columns} <= columns:
                return False
        tallied = db.execute("SELECT SUM(returned) FROM response_tally").fetchone()[0]
        return db.execute("SELECT COUNT(*) FROM response").fetchone()[0] == responses == tallied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, default=Path("/tmp/survey-bench.db"))
    parser.add_argument("--fresh", action="store_true", help="Regenerate the database.")
    parser.add_argument("--report-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_child:
        report_once(args.db)
        return
    if args.fresh or not _cached(args.db, args.responses):
        start = time.perf_counter()
        build_database(args.db, args.responses)
        print(f"generated {args.responses:,} responses in {time.perf_counter() - start:.1f} s: {args.db}")
    child = subprocess.run(
        [sys.executable, __file__, "--report-child", "--db", str(args.db)], capture_output=True, text=True
    )
    if child.returncode:
        sys.exit(f"the report failed:\n{child.stderr}")
    report = json.loads(child.stdout)
    samplics_time, samplics_groups_ = samplics_groups(args.db)
    agree = max(abs(report["groups"][g][k] - samplics_groups_[g][k]) for g in GROUPS for k in (0, 1))
    first, best = report["times"][0], min(report["times"])
    print(
        f"full report from the database ({args.responses:,} responses, {SCHOOLS} schools, "
        f"{len(GROUPS)} groups, {ITEMS} items):"
    )
    print(f"  time: first {first:.3f} s, best of 3 {best:.3f} s   (target ≤ 2 s)")
    print(f"  peak memory of the report process (ru_maxrss): {report['max_rss_mb']:.0f} MB   (target ≤ 1024 MB)")
    print(f"  overall 社会认可度 {report['estimate']:.4f} (SE {report['se']:.5f})")
    print(
        f"samplics TaylorEstimator, six group estimates: {samplics_time:.3f} s "
        f"(largest difference from ours in estimate or SE: {agree:.1e})"
    )
    print(
        f"  ratio samplics / our full report: {samplics_time / first:.1f}x (first run), "
        f"{samplics_time / best:.1f}x (best)   (target ≥ 10x)"
    )


if __name__ == "__main__":
    main()
