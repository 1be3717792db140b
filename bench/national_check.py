"""Is 迎检预判 calibrated? Simulated counties, each with its own round and the national team's survey.

Each county gets a finite population (6–30 schools of 40–3,000 students, their parents' households,
teachers and 1–3 principals; 60–300 人大代表/政协委员; 其他群众 drawn afresh, their number unknown to the
round), a true county-wide rate around the 85% target (N(85%, 1.5%), on the logit scale, with group and
school differences), and people who rate 13 items: a person's chance of 认可 varies (Beta), some items are
answered 不了解 (left out), y is the share of the rated items answered 认可. The county's own round asks
each school × group at a response rate of its own (家长 2–30%, 学生 2–20%, 教师 20–90%, most principals,
10–50% of deputies, 20–150 of the public) and is analysed by the product's estimator
(analysis.analyse_responses: the per-stratum and per-item totals, then analyse, as the service does);
its `national_check` is the prediction. The national team then draws its own sample by the national
rule (常住人口 × 1.5‰, at least 600; 家长 half, the others equal within their size; a simple random
sample of each group's people) and passes when its respondents' mean y is at or above 85%.

Printed: the reliability table by decile of predicted probability (0–10%, …, 90–100%: counties, mean
prediction, observed pass rate, difference), and the Brier score of the prediction against the naive
rule "pass if the round's estimate ≥ target" (1 or 0). Exit 1 when a decile with counties is off by more
than --tolerance (5 points).

    python bench/national_check.py [--counties 12000] [--seed 1] [--processes 2] [--no-items]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy import special

from analysis import Design, School, Settings, Stratum, analyse_responses
from analysis.design import GROUPS
from analysis.planning import group_targets, national_sample_size

ITEMS = 13
TARGET = 0.85
SCHOOL_GROUPS = ("student", "parent", "teacher", "principal")


@dataclass(frozen=True)
class Outcome:
    """One county: the prediction, the round's estimate, and what the national team found."""

    probability: float
    estimate: float
    national: float
    passed: bool
    safe_rate: float
    true_rate: float  # the national weighting's rate over the county's whole population


class People:
    """A group's people in one county: y of each, and the stratum (school index, -1 county) of each."""

    def __init__(self, y: np.ndarray, stratum: np.ndarray, rated: np.ndarray, recognised: np.ndarray):
        self.y, self.stratum, self.rated, self.recognised = y, stratum, rated, recognised


def _people(rng: np.random.Generator, mean: np.ndarray, concentration: float, unknown: float) -> tuple:
    """Per person (one row per entry of `mean`): y, rated items and recognised items."""
    chance = rng.beta(mean * concentration, (1 - mean) * concentration)
    rated = np.maximum(ITEMS - rng.binomial(ITEMS, unknown, len(mean)), 1)
    recognised = rng.binomial(rated, chance)
    return recognised / rated, rated, recognised


def item_answers(rng: np.random.Generator, rated: np.ndarray, recognised: np.ndarray, easiness: np.ndarray):
    """Which items each respondent rated (the rest 不了解) and recognised: `rated` random items, of
    which the `recognised` easiest (item easiness plus Gumbel noise) are 认可."""
    n = len(rated)
    order = np.argsort(rng.random((n, ITEMS)), axis=1)
    is_rated = np.zeros((n, ITEMS), dtype=bool)
    np.put_along_axis(is_rated, order, np.arange(ITEMS)[None, :] < rated[:, None], axis=1)
    key = np.where(is_rated, easiness[None, :] + rng.gumbel(size=(n, ITEMS)), -np.inf)
    rank = np.argsort(np.argsort(-key, axis=1), axis=1)
    return is_rated & (rank < recognised[:, None]), ~is_rated


def simulate_county(rng: np.random.Generator, items: bool = True) -> Outcome:
    """One county; `items` False leaves the per-item answers out of the round's analysis (drawn all the
    same, so that a seed gives the same counties): the prediction reads only the per-stratum totals."""
    schools = int(rng.integers(6, 31))
    students = np.clip(rng.lognormal(np.log(400), 0.8, schools), 40, 3000).astype(int)
    sizes = {
        "student": students,
        "parent": np.maximum((students * rng.uniform(0.75, 0.95)).astype(int), 30),
        "teacher": np.maximum((students / rng.uniform(10, 16)).astype(int), 4),
        "principal": rng.integers(1, 4, schools),
    }
    deputies = int(rng.integers(60, 301))
    resident = int(students.sum() * rng.uniform(5, 40))
    base = special.logit(np.clip(rng.normal(TARGET, 0.015), 0.70, 0.97))
    offset = {g: rng.normal(0, 0.2) for g in GROUPS}
    school_effect = rng.normal(0, 0.3, schools)
    concentration, unknown = rng.uniform(2, 8), rng.uniform(0, 0.12)
    easiness = rng.normal(0, 0.6, ITEMS)

    def group_mean(g: str, school: np.ndarray) -> np.ndarray:
        effect = np.where(school >= 0, school_effect[np.maximum(school, 0)], 0.0)
        return special.expit(base + offset[g] + effect + rng.normal(0, 0.15, len(school)))

    population: dict[str, People] = {}
    for g in SCHOOL_GROUPS:
        school = np.repeat(np.arange(schools), sizes[g])
        y, rated, recognised = _people(rng, group_mean(g, np.arange(schools))[school], concentration, unknown)
        population[g] = People(y, school, rated, recognised)
    county = np.full(deputies, -1)
    y, rated, recognised = _people(rng, group_mean("deputy", county), concentration, unknown)
    population["deputy"] = People(y, county, rated, recognised)
    public_mean = float(group_mean("public", np.array([-1]))[0])

    # The county's own round.
    rates = {"student": (0.02, 0.2), "parent": (0.02, 0.3), "teacher": (0.2, 0.9), "principal": (0.6, 1.0)}
    chosen = {
        g: rng.random(len(p.y)) < rng.uniform(*rates[g], schools)[p.stratum]
        for g, p in population.items()
        if g in rates
    }
    chosen["deputy"] = rng.random(deputies) < rng.uniform(0.1, 0.5)
    public_n = int(rng.integers(20, 151))
    public = _people(rng, np.full(public_n, public_mean), concentration, unknown)
    y = np.concatenate([population[g].y[chosen[g]] for g in chosen] + [public[0]])
    rated = np.concatenate([population[g].rated[chosen[g]] for g in chosen] + [public[1]])
    recognised = np.concatenate([population[g].recognised[chosen[g]] for g in chosen] + [public[2]])
    groups = [g for g in chosen for _ in range(int(chosen[g].sum()))] + ["public"] * public_n
    codes = [f"S{k}" for k in range(schools)]
    in_school = [None if s < 0 else codes[s] for g in chosen for s in population[g].stratum[chosen[g]]]
    item_recognised, item_excluded = item_answers(rng, rated, recognised, easiness)
    strata = [
        Stratum(group=g, school=codes[k], population=int(sizes[g][k])) for k in range(schools) for g in SCHOOL_GROUPS
    ]
    strata += [Stratum(group="deputy", population=deputies), Stratum(group="public")]
    design = Design(
        schools=[School(code=c) for c in codes],
        strata=strata,
        settings=Settings(target=TARGET, resident_population=resident),
    )
    result = analyse_responses(
        design,
        in_school + [None] * public_n,
        groups,
        y,
        item_names=[f"item{k + 1}" for k in range(ITEMS)] if items else (),
        item_recognised=item_recognised if items else None,
        item_excluded=item_excluded if items else None,
    )
    check = result.national_check
    assert check is not None and result.overall is not None

    # The national team's survey: a simple random sample of each group's people, by the national rule.
    caps = {g: float(len(p.y)) for g, p in population.items()} | {"public": np.inf}
    split = group_targets(national_sample_size(resident), caps)
    answers = [rng.choice(population[g].y, split[g], replace=False) for g in population if split.get(g)]
    answers.append(_people(rng, np.full(split["public"], public_mean), concentration, unknown)[0])
    national = float(np.concatenate(answers).mean())
    total = sum(split.values())
    true_rate = sum(split[g] / total * float(population[g].y.mean()) for g in population)
    true_rate += split["public"] / total * public_mean  # E[y] = E[π] for the public, drawn afresh
    return Outcome(
        probability=check.probability,
        estimate=result.overall.estimate,
        national=national,
        passed=national >= TARGET,
        safe_rate=check.safe_rate,
        true_rate=true_rate,
    )


def simulate(counties: int, seed: int, processes: int = 1, items: bool = True) -> list[Outcome]:
    """`counties` counties from independent streams of one seed (the same at any process count)."""
    streams = [(s, items) for s in np.random.SeedSequence(seed).spawn(counties)]
    if processes <= 1:
        return [_one(s) for s in streams]
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        return pool.map(_one, streams, chunksize=max(1, counties // (processes * 8)))


def _one(task: tuple[np.random.SeedSequence, bool]) -> Outcome:
    return simulate_county(np.random.default_rng(task[0]), task[1])


@dataclass(frozen=True)
class Decile:
    low: float
    high: float
    counties: int
    predicted: float
    observed: float


def reliability(outcomes: list[Outcome], bins: int = 10) -> list[Decile]:
    """Counties by decile (or other equal slice) of predicted probability, 0–10%, …, 90–100%: mean
    prediction beside the observed pass rate; slices without counties are left out."""
    p = np.array([o.probability for o in outcomes])
    passed = np.array([o.passed for o in outcomes], dtype=float)
    slot = np.minimum((p * bins).astype(int), bins - 1)
    return [
        Decile(
            k / bins,
            (k + 1) / bins,
            int((slot == k).sum()),
            float(p[slot == k].mean()),
            float(passed[slot == k].mean()),
        )
        for k in range(bins)
        if (slot == k).any()
    ]


def brier(outcomes: list[Outcome]) -> tuple[float, float]:
    """Brier score of the prediction and of the naive rule (1 when the round's estimate ≥ target)."""
    p = np.array([o.probability for o in outcomes])
    naive = np.array([o.estimate >= TARGET for o in outcomes], dtype=float)
    passed = np.array([o.passed for o in outcomes], dtype=float)
    return float(((p - passed) ** 2).mean()), float(((naive - passed) ** 2).mean())


def report(outcomes: list[Outcome], tolerance: float) -> tuple[str, bool]:
    rows = reliability(outcomes)
    lines = [
        "| 预测概率 | 县数 | 平均预测 | 实际通过率 | 差（百分点） |",
        "|---|---:|---:|---:|---:|",
    ]
    ok = True
    for d in rows:
        gap = (d.observed - d.predicted) * 100
        ok &= abs(gap) <= tolerance * 100
        lines.append(
            f"| {d.low:.0%}–{d.high:.0%} | {d.counties:,} | {d.predicted:.1%} | {d.observed:.1%} | {gap:+.1f} |"
        )
    model, naive = brier(outcomes)
    safe = [o for o in outcomes if o.true_rate >= o.safe_rate]
    lines += [
        "",
        f"Brier score: prediction {model:.4f}, naive rule (estimate ≥ target) {naive:.4f}",
        f"counties passing: {np.mean([o.passed for o in outcomes]):.1%} of {len(outcomes):,}",
        f"counties whose true rate is at or above their 90%-safe rate: {len(safe):,}, "
        f"of which passed {np.mean([o.passed for o in safe]) if safe else float('nan'):.1%}",
        f"every decile within ±{tolerance * 100:.0f} points: {'yes' if ok else 'NO'}",
    ]
    return "\n".join(lines), ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--counties", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--tolerance", type=float, default=0.05)
    parser.add_argument(
        "--no-items",
        dest="items",
        action="store_false",
        help="Analyse the rounds without their per-item answers (faster; the same prediction).",
    )
    args = parser.parse_args()
    started, cpu = time.perf_counter(), time.process_time()
    outcomes = simulate(args.counties, args.seed, args.processes, args.items)
    text, ok = report(outcomes, args.tolerance)
    print(text)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = time.process_time() - cpu + children.ru_utime + children.ru_stime
    print(
        f"{args.counties:,} counties in {time.perf_counter() - started:.0f} s on {args.processes} processes, "
        f"{used:.0f} s of CPU ({used / args.counties * 1000:.0f} ms a county); items analysed: {args.items}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
