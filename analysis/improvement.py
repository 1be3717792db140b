"""整改清单: which schools and groups pull an item below the county, with the false discovery rate held.

Cells: each school × item (the school's groups combined with the round's group weights, renormalised
over the groups that rated the item, as every breakdown) and each respondent group × item. Each cell is
tested one-sided against the **rest of the county** on the same item, the same stratified estimator
without the cell's strata: a school against every other school and the county-level strata; a group
against the other groups, combined with their weights renormalised. Testing against the rest (not the
county figure, which contains the cell) makes the two sides disjoint sets of strata:

    D = P_cell − P_rest,   Var(D) = Var(P_cell) + Var(P_rest),   t = D / √Var(D)

exact in the stratified design (strata are sampled independently). For a group cell p_g − P equals
(1 − a_g)(p_g − P_rest), so the test is the same as against the county figure itself. A school cell
uses the within-school variance, as the school rows do; the rest keeps the round's design (in the
clusters design the between-school variance of the other schools' totals, the cell's school
zero-padded, as R's subset()). Var(P_rest) for every school at once comes from the group sums minus
the school's (Σ w·Σx, Σ w·m and the per-stratum squares): one pass over the strata, not one per school.
A group cell's contrast is linearised whole (estimators.combined_means), covariances included.

Where every answer of a cell is equal inside each of its strata its design variance is 0 by
construction, not by knowledge (5 answers all 不满意): the test then uses the variance of a simple
random sample of its n rated answers at the rest's rate, P_rest(1 − P_rest)/n, the variance the cell
would have if it were like the rest. A census cell (every stratum fully observed) keeps variance 0.
The p-value is Student's t on the Welch–Satterthwaite degrees of freedom of the two sides (each side's
design df). Benjamini–Hochberg (statsmodels' multipletests, "fdr_bh") runs over every cell tested, at
10%. Cells with fewer rated answers than the round's min_cell_size are not tested: 样本过少，未检验.

Per item, its contribution to the county shortfall: Σ_g a_g · max(0, target − p_g,item) with a_g the
county's group weights, the points its groups fall short of the target on this item, weighted as they
weigh in the county figure (each respondent's y averages their items, so lifting one item to the target
in every group lifts the county figure by about this over the number of items).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import numpy as np
from scipy import stats

from analysis.breakdowns import estimates
from analysis.cells import CellTable, Totals, build_cells, cell_of, item_totals, take
from analysis.design import GROUPS, CellTotals, Design, ItemTotals, Settings, group_populations
from analysis.estimators import Summary, combined_means, domain_means, domain_sum, summarise
from analysis.group_weights import base_weights, normalise
from analysis.results import Estimate, Improvement, ImprovementCell, ItemShortfall, UntestedCell

FDR = 0.10  # the false discovery rate held over every cell tested

ItemSet = tuple[str | None, Sequence[ItemTotals]]  # (questionnaire id, its item totals)


@dataclasses.dataclass(frozen=True)
class Tests:
    """Cells of one item set, tested or not: parallel arrays, one entry per cell."""

    kind: np.ndarray  # "school" / "group"
    key: np.ndarray  # school code / group
    item: np.ndarray
    questionnaire: str | None
    estimate: list[Estimate | None]
    county: np.ndarray
    rest: np.ndarray
    difference: np.ndarray  # P_cell − P_rest
    se: np.ndarray  # √Var(D) as tested
    df: np.ndarray
    n: np.ndarray  # rated answers
    tested: np.ndarray  # bool

    @property
    def p_value(self) -> np.ndarray:
        return lower_p_value(self.difference, self.se, self.df)


def lower_p_value(difference: np.ndarray, se: np.ndarray, df: np.ndarray) -> np.ndarray:
    """P(T ≤ t), t = D/SE on df: small when the cell is credibly below the rest (SE 0: 0 or 1)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(se > 0, difference / np.where(se > 0, se, 1), 0.0)
    p = stats.t.cdf(t, np.maximum(df, 1))
    return np.where(se > 0, p, np.where(difference < 0, 0.0, 1.0))


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """BH-adjusted p-values (statsmodels' fdr_bh): a cell is flagged where it is ≤ FDR."""
    if len(p) == 0:
        return np.array([])
    from statsmodels.stats.multitest import multipletests  # ~0.4 s to import: only when cells are tested

    return np.asarray(multipletests(p, alpha=FDR, method="fdr_bh")[1])


def satterthwaite(v1: np.ndarray, df1: np.ndarray, v2: np.ndarray, df2: np.ndarray) -> np.ndarray:
    """Welch–Satterthwaite df of Var = v1 + v2, each side with its own df (at least 1)."""
    df1, df2 = np.maximum(df1, 1), np.maximum(df2, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        df = (v1 + v2) ** 2 / (v1**2 / df1 + v2**2 / df2)
    return np.where(np.isfinite(df) & (df > 0), df, np.maximum(df1, df2))


def _null_variance(rule: np.ndarray, variance: np.ndarray, pooled: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The cell's variance as tested: P(1 − P)/n at the county's rate P where the design variance is 0 by
    construction (every answer equal in each stratum), the design variance otherwise."""
    constructed = (rule == "nchs") | (rule == "zero_variance")
    return np.where(constructed, pooled * (1 - pooled) / np.maximum(n, 1), variance)


def _group_sums(cells: CellTable, values: Totals, item: np.ndarray, items: int, schools: int):
    """Per item × group (K, G) and per school × item × group (S, K, G): Σ w·Σx (U), Σ w·m (V), m, and the
    three per-stratum square sums whose combination gives a group mean's stratified variance, and the
    answers outside census strata."""
    G = len(GROUPS)
    n = cells.n
    lonely = n <= 1
    factor = cells.element_fpc * np.where(lonely, 1.0, n / np.maximum(n - 1, 1))
    centre = np.where(lonely, 0.0, 1 / np.maximum(n, 1))
    w2 = cells.weight**2 * factor
    columns = np.stack(
        [
            cells.weight * values.s1,
            cells.weight * values.m,
            values.m,
            w2 * (values.s2 - centre * values.s1**2),
            w2 * (values.s1 - centre * values.s1 * values.m),
            w2 * (values.m - centre * values.m**2),
            values.m * (cells.element_fpc > 1e-7),  # answers in strata that are not a census
        ]
    )
    element = (cells.school < 0) if cells.clustered else np.ones(cells.size, dtype=bool)
    columns[3:6] *= element  # cluster rows' variance comes from school totals instead
    county_key = item * G + cells.group
    county = np.stack([domain_sum(county_key, c, items * G) for c in columns]).reshape(-1, items, G)
    school_key = np.where(cells.school >= 0, (cells.school * items + item) * G + cells.group, -1)
    school = np.stack([domain_sum(school_key, c, schools * items * G) for c in columns])
    return county, school.reshape(-1, schools, items, G)


def rest_of_county(
    cells: CellTable, values: Totals, item: np.ndarray, items: int, settings: Settings, base: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For every school × item (S, K): the rest of the county's estimate without the school, its design
    variance, from the group sums minus the school's (see the module's docstring), and Σ a_g²/m_g over
    its groups whose every answer is equal: times P(1 − P), what a test adds for them (_null_variance)."""
    schools = cells.n_schools
    county, school = _group_sums(cells, values, item, items, schools)
    u, v, m, sa, sb, sc, sampled = county[:, None] - school  # (7, S, K, G): the rest
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(v > 0, u / np.where(v > 0, v, 1), 0.0)
    present = m > 0
    a = normalise(settings, base, present.reshape(-1, len(GROUPS))).reshape(present.shape)
    estimate = np.sum(a * p, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(present & (v > 0), a / np.where(v > 0, v, 1), 0.0)  # a_g / W_g,rest
    variance = np.sum(d**2 * (sa - 2 * p * sb + p**2 * sc), axis=2)
    if cells.clustered:
        variance = variance + _cluster_rest_variance(cells, school, d, p)
    constructed = present & ((p <= 0) | (p >= 1)) & (sampled > 0)
    floor = np.sum(np.where(constructed, a**2 / np.maximum(m, 1), 0.0), axis=2)
    return estimate, np.maximum(variance, 0.0), floor


def _cluster_rest_variance(cells: CellTable, school: np.ndarray, d: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Between-school variance of the rest's school totals T_s' = Σ_g d_g (U_s'g − p_g V_s'g), s' ≠ s.

    Σ_s' T_s'² is a quadratic form in d and d·p over the all-schools sums of U Uᵀ, U Vᵀ, V Vᵀ; the
    school itself is taken out (its total in the rest is 0, zero-padded among the m schools)."""
    u, v = school[0], school[1]  # (S, K, G) per school
    dp = d * p
    uu = np.einsum("skg,skh->kgh", u, u)
    uv = np.einsum("skg,skh->kgh", u, v)
    vv = np.einsum("skg,skh->kgh", v, v)
    square = (
        np.einsum("skg,kgh,skh->sk", d, uu, d)
        - 2 * np.einsum("skg,kgh,skh->sk", d, uv, dp)
        + np.einsum("skg,kgh,skh->sk", dp, vv, dp)
    )
    total = np.einsum("skg,kg->sk", d, u.sum(axis=0)) - np.einsum("skg,kg->sk", dp, v.sum(axis=0))
    own = np.sum(d * u - dp * v, axis=2)  # the school's own total under the rest's coefficients
    square, total = square - own**2, total - own
    m = cells.psu_count
    if m > 1:
        return cells.school_fpc * m / (m - 1) * (square - total**2 / m)
    return cells.school_fpc * square


def group_contrasts(
    cells: CellTable, values: Totals, item: np.ndarray, items: int, settings: Settings, base: np.ndarray
):
    """Each group × item against the other groups on the item, per (K, G): D, Var(D) linearised whole,
    the other groups' estimate, Σ a'_h²/m_h over other groups whose every answer is equal (see
    rest_of_county), the other groups' rated answers, and whether there is a group and another to test.

    The item rows are repeated once per group tested (G copies): in copy g, the part (item, h) carries
    1 for h = g and −a'_h (the other groups' weights renormalised) otherwise."""
    G = len(GROUPS)
    copies = np.repeat(np.arange(G), cells.size)
    rows = np.tile(np.arange(cells.size), G)
    expanded = take(cells, rows)
    repeated = Totals(m=values.m[rows], s1=values.s1[rows], s2=values.s2[rows])
    domain = item[rows] * G + copies  # (item, group tested)
    part_key = domain * G + expanded.group
    parts = domain_means(expanded, repeated, part_key, items * G * G)
    present = (parts.n > 0).reshape(items, G, G)
    others = present & ~np.eye(G, dtype=bool)[None]
    weights = normalise(settings, base, others.reshape(-1, G)).reshape(items, G, G)
    coefficient = np.where(np.eye(G, dtype=bool)[None], 1.0, -weights).reshape(-1)
    contrast = combined_means(expanded, repeated, part_key, parts, coefficient, domain, items * G)
    rest = np.sum(weights * np.nan_to_num(parts.estimate.reshape(items, G, G)), axis=2)
    testable = present[:, np.arange(G), np.arange(G)] & others.any(axis=2)
    p = parts.estimate.reshape(items, G, G)
    constructed = others & ((p <= 0) | (p >= 1)) & ~parts.census.reshape(items, G, G)
    n = parts.n.reshape(items, G, G)
    floor = np.sum(np.where(constructed, weights**2 / np.maximum(n, 1), 0.0), axis=2)
    rest_n = np.sum(np.where(others, n, 0.0), axis=2)
    return contrast.estimate.reshape(items, G), contrast.var.reshape(items, G), rest, floor, rest_n, testable


def _set_tests(
    design: Design, cells: CellTable, totals: Sequence[CellTotals], item_set: ItemSet, base: np.ndarray
) -> tuple[Tests, Summary, list[str]]:
    """The cells of one item set tested against the rest of the county; the county's item summary."""
    questionnaire, items = item_set
    settings = design.settings
    weigh = functools.partial(normalise, settings)
    names, item_index, recognised, _ = item_totals(items)
    K, G, S = len(names), len(GROUPS), cells.n_schools
    item_cells = take(cells, cell_of(totals, items))
    county = summarise(item_cells, recognised, item_index, K, base, weigh)
    county_df = county.combined.df
    # School cells: within-school variance, as the school rows.
    within = dataclasses.replace(item_cells, clustered=False)
    school_domain = np.where(item_cells.school >= 0, item_cells.school * K + item_index, -1)
    schools = summarise(within, recognised, school_domain, S * K, base, weigh).combined
    rest, rest_var, rest_floor = rest_of_county(item_cells, recognised, item_index, K, settings, base)
    pooled = county.combined.estimate  # the county's rate of each item: what a floor's variance is taken at
    spread = pooled * (1 - pooled)
    school_est = estimates(schools, None, settings)
    school_rule = np.array([e.interval_rule if e else "design" for e in school_est])
    rest, rest_var = rest.reshape(-1), (rest_var + rest_floor * spread[None]).reshape(-1)
    cell_var = _null_variance(school_rule, schools.var, np.tile(pooled, S), schools.n)
    school_df = satterthwaite(cell_var, schools.df, rest_var, np.tile(county_df, S))
    # Group cells: the group's county-wide share of the item against the other groups.
    groups = county.groups
    difference, contrast_var, group_rest, group_floor, group_rest_n, testable = group_contrasts(
        item_cells, recognised, item_index, K, settings, base
    )
    group_est = estimates(groups, None, settings)
    group_rule = np.array([e.interval_rule if e else "design" for e in group_est])
    group_rest = group_rest.reshape(-1)
    own_var = _null_variance(group_rule, groups.var, np.repeat(pooled, G), groups.n)
    rest_part = np.maximum(contrast_var.reshape(-1) - groups.var, 0.0) + (group_floor * spread[:, None]).reshape(-1)
    group_df = satterthwaite(own_var, groups.df, rest_part, np.repeat(county_df, G))
    codes = np.array([s.code for s in design.schools], dtype=object)
    # A cell is tested with at least min_cell_size rated answers; one whose rest of the county has fewer
    # (a lone school, a questionnaire's only other group of three deputies) has nothing to be tested
    # against, and is neither tested nor listed.
    least = max(settings.min_cell_size, 1)
    school_tested = schools.n >= least
    group_tested = groups.n >= least
    keep_school = (schools.n > 0) & (np.tile(county.combined.n, S) - schools.n >= least)
    keep_group = (groups.n > 0) & testable.reshape(-1) & (group_rest_n.reshape(-1) >= least)
    item_names = np.array(names, dtype=object)
    tests = Tests(
        kind=np.array(["school"] * int(keep_school.sum()) + ["group"] * int(keep_group.sum()), dtype=object),
        key=np.concatenate([np.repeat(codes, K)[keep_school], np.tile(np.array(GROUPS, dtype=object), K)[keep_group]]),
        item=np.concatenate([np.tile(item_names, S)[keep_school], np.repeat(item_names, G)[keep_group]]),
        questionnaire=questionnaire,
        estimate=[e for e, k in zip(school_est, keep_school) if k] + [e for e, k in zip(group_est, keep_group) if k],
        county=np.concatenate(
            [np.tile(county.combined.estimate, S)[keep_school], np.repeat(county.combined.estimate, G)[keep_group]]
        ),
        rest=np.concatenate([rest[keep_school], group_rest[keep_group]]),
        difference=np.concatenate([(schools.estimate - rest)[keep_school], difference.reshape(-1)[keep_group]]),
        se=np.sqrt(np.concatenate([(cell_var + rest_var)[keep_school], (own_var + rest_part)[keep_group]])),
        df=np.concatenate([school_df[keep_school], group_df[keep_group]]),
        n=np.concatenate([schools.n[keep_school], groups.n[keep_group]]),
        tested=np.concatenate([school_tested[keep_school], group_tested[keep_group]]),
    )
    return tests, county, names


def _cell_struct(tests: Tests, k: int, names: dict[str, str], p: float, adjusted: float) -> ImprovementCell:
    e = tests.estimate[k]
    assert e is not None
    kind, key = str(tests.kind[k]), str(tests.key[k])
    return ImprovementCell(
        kind="school" if kind == "school" else "group",
        key=key,
        name=names.get(key, "") if kind == "school" else "",
        questionnaire=tests.questionnaire,
        item=str(tests.item[k]),
        estimate=e.estimate,
        se=e.se,
        ci_low=e.ci_low,
        ci_high=e.ci_high,
        n=int(tests.n[k]),
        county=float(tests.county[k]),
        gap=e.estimate - float(tests.county[k]),
        rest=float(tests.rest[k]),
        se_difference=float(tests.se[k]),
        df=float(tests.df[k]),
        p_value=p,
        p_adjusted=adjusted,
    )


def shortfall(county: Summary, names: list[str], item_set: ItemSet, target: float, weights: np.ndarray):
    """Each item's contribution Σ_g a_g · max(0, target − p_g,item), a_g the county's group weights."""
    G = len(GROUPS)
    p = county.groups.estimate.reshape(len(names), G)
    rated = county.groups.n.reshape(len(names), G) > 0
    below = np.where(rated, weights[None] * np.maximum(target - np.nan_to_num(p), 0.0), 0.0)
    return [
        ItemShortfall(
            questionnaire=item_set[0],
            item=name,
            county=float(county.combined.estimate[i]),
            contribution=float(below[i].sum()),
            share=None,
            groups={str(g): float(below[i, j]) for j, g in enumerate(GROUPS) if rated[i, j]},
            flagged=0,
        )
        for i, name in enumerate(names)
        if county.combined.n[i] > 0
    ]


def improvement(design: Design, totals: Sequence[CellTotals], item_sets: Sequence[ItemSet]) -> Improvement | None:
    """The 整改清单 over every item set (one per questionnaire, or one of items merged by id): cells
    significantly below the county with BH at FDR over all cells tested, cells too small to test, and
    the items ranked by their contribution to the county shortfall. None without item answers."""
    item_sets = [(q, items) for q, items in item_sets if any(i.n_rated > 0 for i in items)]
    if not item_sets:
        return None
    settings = design.settings
    cells = build_cells(design, totals)
    base = base_weights(settings, group_populations(design))
    present = np.array([np.any((cells.group == g) & (cells.n > 0)) for g in range(len(GROUPS))])
    weights = normalise(settings, base, present)[0]
    names = {s.code: s.name or s.code for s in design.schools}
    found, items = [], []
    for item_set in item_sets:
        tests, county, item_names = _set_tests(design, cells, totals, item_set, base)
        found.append(tests)
        items += shortfall(county, item_names, item_set, settings.target, weights)
    p = [t.p_value[t.tested] for t in found]
    adjusted = benjamini_hochberg(np.concatenate(p))
    flagged: list[ImprovementCell] = []
    untested: list[UntestedCell] = []
    start = 0
    for tests, p_set in zip(found, p):
        where = np.flatnonzero(tests.tested)
        for k, p_k, adj in zip(where, p_set, adjusted[start : start + len(where)]):
            if adj <= FDR and tests.difference[k] < 0:
                flagged.append(_cell_struct(tests, int(k), names, float(p_k), float(adj)))
        start += len(where)
        untested += [
            UntestedCell(
                kind="school" if tests.kind[k] == "school" else "group",
                key=str(tests.key[k]),
                name=names.get(str(tests.key[k]), "") if tests.kind[k] == "school" else "",
                questionnaire=tests.questionnaire,
                item=str(tests.item[k]),
                n=int(tests.n[k]),
            )
            for k in np.flatnonzero(~tests.tested)
        ]
    flagged.sort(key=lambda c: (c.p_adjusted, c.gap))
    total = sum(row.contribution for row in items)
    count: dict[tuple[str | None, str], int] = {}
    for c in flagged:
        count[(c.questionnaire, c.item)] = count.get((c.questionnaire, c.item), 0) + 1
    for row in items:
        row.share = row.contribution / total if total > 0 else None
        row.flagged = count.get((row.questionnaire, row.item), 0)
    items.sort(key=lambda row: (-row.contribution, row.county))
    return Improvement(
        fdr=FDR,
        min_rated=max(settings.min_cell_size, 1),
        tested=int(sum(t.tested.sum() for t in found)),
        flagged=flagged,
        untested=untested,
        items=items,
    )
