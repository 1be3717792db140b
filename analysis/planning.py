"""How many to ask: sample sizes and per school x group quotas.

National rule: 常住人口 × 1.5‰, at least 600 in a county under 400,000 people; 家长 at
least 50% of the sample, the other groups roughly equal. Statistical rule: the n that
gives a margin ±e at the confidence level for an expected rate p and design effect,
with the finite population correction. Quotas go to a group's strata (schools) in
proportion to the stratum's population, capped at that population, rounded by largest
remainders so that they add up to the total.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import msgspec
import numpy as np
from scipy import stats

from analysis.design import GROUPS, Design, Group

NATIONAL_RATE = 1.5 / 1000
NATIONAL_MINIMUM = 600
MINIMUM_BELOW_POPULATION = 400_000


class Quota(msgspec.Struct, kw_only=True):
    group: Group
    school: str | None
    population: int | None
    quota: int


class QuotaPlan(msgspec.Struct, kw_only=True):
    total: int  # the sample size asked for
    planned: int  # what the quotas add up to (less when populations are too small)
    groups: dict[str, int]
    quotas: list[Quota]


def national_sample_size(resident_population: int) -> int:
    """常住人口 × 1.5‰ rounded up; at least 600 below 400,000 people."""
    n = math.ceil(resident_population * NATIONAL_RATE - 1e-9)
    if resident_population < MINIMUM_BELOW_POPULATION:
        n = max(n, NATIONAL_MINIMUM)
    return n


def statistical_sample_size(
    margin: float,
    confidence_level: float = 0.95,
    expected: float = 0.85,
    deff: float = 1.0,
    population: int | None = None,
) -> int:
    """n with z·SE = margin for a proportion near ``expected``.

    n0 = z² p(1 − p) deff / e²; with a population N (sampling without replacement,
    S² = N p(1 − p)/(N − 1)): n = n0 N / (n0 + N − 1), never above N.
    """
    z = stats.norm.ppf(1 - (1 - confidence_level) / 2)
    n0 = z**2 * expected * (1 - expected) * deff / margin**2
    if population is not None:
        n0 = min(n0 * population / (n0 + population - 1), population)
    return math.ceil(n0 - 1e-9)


def largest_remainder(total: int, shares: Sequence[float], caps: Sequence[float] | None = None) -> list[int]:
    """Integers proportional to shares adding up to total, each at most its cap.

    Shares of capped entries are spread over the others (repeatedly); when the caps
    add up to less than total, every entry gets its cap.
    """
    share = np.asarray(shares, dtype=float)
    caps_arr = np.full(len(share), np.inf) if caps is None else np.asarray(caps, dtype=float)
    exact = np.zeros(len(share))
    free = (share > 0) & (caps_arr > 0)
    remaining = float(total)
    while free.any() and remaining > 1e-9:
        proposal = remaining * share * free / share[free].sum()
        over = free & (exact + proposal >= caps_arr)
        if not over.any():
            exact = exact + proposal
            break
        remaining -= float((caps_arr[over] - exact[over]).sum())
        exact[over] = caps_arr[over]
        free &= ~over
    floor = np.floor(exact + 1e-9)
    extra = int(round(min(total, exact.sum()) - floor.sum()))
    order = np.argsort(-(exact - floor), kind="stable")
    floor[order[: max(extra, 0)]] += 1
    return [int(x) for x in floor]


def group_targets(total: int, caps: dict[Group, float]) -> dict[Group, int]:
    """Split the total over groups: 家长 half, the others equal (within their caps)."""
    groups = [g for g in GROUPS if g in caps]
    others = sum(1 for g in groups if g != "parent")
    shares = [max(others, 1) if g == "parent" else 1 for g in groups]
    counts = largest_remainder(total, shares, [caps[g] for g in groups])
    return dict(zip(groups, counts, strict=True))


def plan_quotas(design: Design, total: int) -> QuotaPlan:
    """Per school x group quotas for a sample of ``total`` respondents."""
    by_group: dict[Group, list] = {}
    for stratum in design.strata:
        by_group.setdefault(stratum.group, []).append(stratum)
    caps = {
        g: (math.inf if any(s.population is None for s in strata) else float(sum(s.population for s in strata)))
        for g, strata in by_group.items()
    }
    targets = group_targets(total, caps)
    quotas = []
    for group, strata in by_group.items():
        known = all(s.population is not None for s in strata)
        shares = [s.population if known else 1 for s in strata]
        counts = largest_remainder(targets[group], shares, [s.population for s in strata] if known else None)
        quotas += [
            Quota(group=group, school=s.school, population=s.population, quota=c)
            for s, c in zip(strata, counts, strict=True)
        ]
    return QuotaPlan(
        total=total, planned=sum(q.quota for q in quotas), groups={g: int(c) for g, c in targets.items()}, quotas=quotas
    )
