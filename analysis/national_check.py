"""迎检预判: the chance that the national team's own survey finds the county at or above the target.

The national team draws its own sample (planning.national_sample_size: 常住人口 × 1.5‰, at least
600 below 400,000 people; 家长 half, the other groups about equal, never more than a group has) and
computes its figure F = Σ a_g ȳ_g from the same per-respondent y as the round (the share of rated
items answered 认可), with a_g the respondents' share n_g / n ("respondents", the pooled rate of all
its answers) or the round's own group weights ("round").

Two sources of uncertainty, independent samples:
- the county's true group rates P_g are known only through this round: Σ a_g P_g ≈ N(Σ a_g p̂_g,
  V_round), V_round the round's design variance of Σ a_g p̂_g (with the between-group covariance of
  the clusters design);
- given P_g, ȳ_g is the mean of n_g respondents drawn from the group's N_g people:
  Var = deff · S²_g / n_g · (1 − n_g / N_g), S²_g the group's element variance of y as the round
  estimates it (weighted, from Σy and Σy² per stratum; y is a share of items, so S²_g is not
  p(1 − p)), deff the national sample's design effect (1: spread over the schools in proportion).
So F − target ≈ N(Σ a_g p̂_g − target, V_round + V_national), and P(pass) = Φ(.../√(V_round + V_nat)).

A group whose round answers are all equal (every deputy 认可: S² = 0, SE = 0) would claim a certainty
no sample of a few dozen gives: its S² is then κ p̃(1 − p̃), p̃ = (n p̂ + ½)/(n + 1) and κ the other
groups' S²/(p(1 − p)), and the same variance enters V_round for its n round respondents.

The 90%-safe rate: the smallest county-wide true rate Σ a_g P_g at which the national sample alone
passes with ≥ 90% chance, every group's rate moved by the same amount δ, S²_g moving with it as
κ_g q(1 − q) (κ_g = S²_g / (p̂_g(1 − p̂_g)) of the round). Beside it, the estimate this round (with
its own standard error) would need for the same chance.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from analysis.cells import CellTable, Totals
from analysis.design import GROUPS, Design, Group, NationalWeighting, group_populations
from analysis.estimators import DomainEstimates, combined_means, domain_sum
from analysis.planning import NATIONAL_MINIMUM, group_targets, national_sample_size
from analysis.results import NationalCheck, NationalGroup, NationalVerdict

# 很可能通过 from a 90% chance (as the safe rate), 很可能不通过 below 50% (failing is then likelier).
LIKELY_PASS = 0.90
LIKELY_FAIL = 0.50
SAFE_LEVEL = 0.90


def normal_cdf(z: np.ndarray) -> np.ndarray:
    return 0.5 * special.erfc(-np.asarray(z, dtype=float) / np.sqrt(2))


def pass_probability(expected: np.ndarray | float, variance: np.ndarray | float, target: float) -> np.ndarray:
    """Φ((expected − target)/√variance); with no variance, 1 at or above the target, else 0."""
    expected, variance = np.asarray(expected, dtype=float), np.asarray(variance, dtype=float)
    sd = np.sqrt(np.maximum(variance, 0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (expected - target) / np.where(sd > 0, sd, 1.0)
    return np.where(sd > 0, normal_cdf(z), (expected >= target - 1e-12).astype(float))


def national_factor(
    sample: np.ndarray, population: np.ndarray, weight: np.ndarray, deff: np.ndarray | float
) -> np.ndarray:
    """Per group a_g² deff (1 − n_g/N_g) / n_g: the national variance per unit of element variance
    (N_g nan: no correction; no one asked: 0)."""
    sample = np.asarray(sample, dtype=float)
    fpc = np.where(np.isnan(population), 1.0, np.clip(1 - sample / np.where(population > 0, population, 1), 0, 1))
    per_unit = np.where(sample > 0, deff * fpc / np.where(sample > 0, sample, 1), 0.0)
    return np.asarray(weight, dtype=float) ** 2 * per_unit


def national_variance(
    element_var: np.ndarray, sample: np.ndarray, population: np.ndarray, weight: np.ndarray, deff: np.ndarray | float
) -> np.ndarray:
    """Σ a_g² deff S²_g / n_g (1 − n_g/N_g) over the last axis (groups)."""
    return (national_factor(sample, population, weight, deff) * element_var).sum(axis=-1)


def national_sample(
    resident_population: int, groups: list[Group], population: dict[Group, float]
) -> tuple[int, dict[Group, int]]:
    """The national sample size and its split: 家长 half, the other groups equal, within their size."""
    total = national_sample_size(max(resident_population, 0))
    caps = {g: population.get(g, np.inf) for g in groups}
    return total, group_targets(total, caps)


def smallest_shift(
    estimate: np.ndarray,
    kappa: np.ndarray,
    sample: np.ndarray,
    population: np.ndarray,
    weight: np.ndarray,
    deff: np.ndarray | float,
    target: float,
    level: float = SAFE_LEVEL,
    extra_var: np.ndarray | float = 0.0,
) -> np.ndarray:
    """The county-wide rate Σ a_g q_g, q_g = clip(p̂_g + δ), at the smallest δ with
    Φ((Σ a_g q_g − target)/√(V_nat(q) + extra_var)) ≥ level: bisection, vectorised over the leading axes of
    `estimate` (groups last) broadcast with those of `extra_var`."""
    z = float(special.ndtri(level))
    estimate, extra = np.asarray(estimate, dtype=float), np.asarray(extra_var, dtype=float)
    factor = national_factor(sample, population, weight, deff) * kappa

    def rate_and_margin(delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = np.clip(estimate + delta[..., None], 0.0, 1.0)
        rate = (weight * q).sum(axis=-1)
        return rate, rate - target - z * np.sqrt((factor * q * (1 - q)).sum(axis=-1) + extra)

    low = np.full(np.broadcast_shapes(estimate.shape[:-1], extra.shape), -1.0)
    high = -low
    for _ in range(40):  # δ within 2⁻³⁹
        middle = (low + high) / 2
        passes = rate_and_margin(middle)[1] >= 0
        high, low = np.where(passes, middle, high), np.where(passes, low, middle)
    return rate_and_margin(high)[0]


def verdict(probability: float) -> NationalVerdict:
    if probability >= LIKELY_PASS:
        return "likely_pass"
    if probability < LIKELY_FAIL:
        return "likely_fail"
    return "at_risk"


def element_variance(cells: CellTable, values: Totals, groups: DomainEstimates) -> np.ndarray:
    """Each group's weighted element variance of y: n/(n − 1) Σ w (y − p_g)² / Σ w (nan without two answers)."""
    size = len(GROUPS)
    p = np.nan_to_num(groups.estimate[cells.group])
    spread = domain_sum(cells.group, cells.weight * (values.s2 - 2 * p * values.s1 + p**2 * values.m), size)
    total_weight = domain_sum(cells.group, cells.weight * values.m, size)
    n = groups.n
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 1, n / np.maximum(n - 1, 1) * spread / np.where(total_weight > 0, total_weight, 1), np.nan)


def check(
    cells: CellTable,
    values: Totals,
    groups: DomainEstimates,
    round_weights: np.ndarray,
    group_population: dict[Group, int],
    *,
    target: float,
    resident_population: int,
    weighting: NationalWeighting = "respondents",
    design_effect: float | None = 1.0,
) -> NationalCheck | None:
    """The national check from the round's strata (cells, recognition totals), its group estimates (in
    GROUPS order) and its own group weights; None without answers. design_effect None: each group's
    round deff (at least 1)."""
    present = np.flatnonzero(groups.n > 0)
    if not len(present):
        return None
    names = [GROUPS[k] for k in present]
    total, split = national_sample(resident_population, names, {g: float(n) for g, n in group_population.items()})
    sample = np.array([split[g] for g in names], dtype=float)
    population = np.array([group_population.get(g, np.nan) for g in names], dtype=float)
    if weighting == "round" and round_weights[present].sum() > 0:
        weight = round_weights[present] / round_weights[present].sum()
    else:
        weight = sample / sample.sum()

    estimate = groups.estimate[present]
    n_round = groups.n[present]
    s2 = element_variance(cells, values, groups)[present]
    binary = estimate * (1 - estimate)
    informative = (binary > 0) & (s2 > 0)
    kappa = np.where(informative, np.clip(s2 / np.where(binary > 0, binary, 1), 0, 1), np.nan)
    pooled = float(np.average(kappa[informative], weights=n_round[informative])) if informative.any() else 1.0
    kappa = np.where(informative, kappa, pooled)
    smoothed = (n_round * estimate + 0.5) / (n_round + 1)
    s2 = np.where(informative, s2, pooled * smoothed * (1 - smoothed))
    # A group with no sampling variance in the round (all answers equal): its fallback S² for its
    # n round respondents (element fpc kept as the round's: 1 − n/N).
    round_fpc = np.where(
        np.isnan(population), 1.0, np.clip(1 - n_round / np.where(population > 0, population, 1), 0, 1)
    )
    fallback = np.where(groups.var[present] > 0, 0.0, s2 / n_round * round_fpc)

    coefficient = np.zeros(len(GROUPS))
    coefficient[present] = weight
    combined = combined_means(cells, values, cells.group, groups, coefficient, np.zeros(cells.size, dtype=np.int64), 1)
    var_round = float(combined.var[0] + (weight**2 * fallback).sum())
    deff = np.maximum(np.nan_to_num(groups.deff[present], nan=1.0), 1.0) if design_effect is None else design_effect
    var_national = float(national_variance(s2, sample, population, weight, deff))
    expected = float((weight * estimate).sum())
    probability = float(pass_probability(expected, var_round + var_national, target))
    # The 90%-safe true rate (the national sample alone) and the estimate a round this precise needs.
    safe_rate, safe_estimate = smallest_shift(
        estimate, kappa, sample, population, weight, deff, target, extra_var=np.array([0.0, var_round])
    )
    return NationalCheck(
        probability=probability,
        verdict=verdict(probability),
        target=target,
        expected=expected,
        se_round=float(np.sqrt(var_round)),
        se_national=float(np.sqrt(var_national)),
        se=float(np.sqrt(var_round + var_national)),
        sample_size=total,
        resident_population=resident_population,
        minimum_assumed=resident_population <= 0 and total == NATIONAL_MINIMUM,
        weighting=weighting,
        design_effect=design_effect,
        safe_level=SAFE_LEVEL,
        safe_rate=float(safe_rate),
        safe_estimate=float(safe_estimate),
        groups=[
            NationalGroup(
                group=g,
                sample=int(sample[k]),
                weight=float(weight[k]),
                estimate=float(estimate[k]),
                se=float(np.sqrt(groups.var[present][k] + fallback[k])),
                element_sd=float(np.sqrt(s2[k])),
                population=None if np.isnan(population[k]) else int(population[k]),
            )
            for k, g in enumerate(names)
        ],
        absent_groups=[g for k, g in enumerate(GROUPS) if k not in set(present.tolist())],
    )


def of_round(
    design: Design, cells: CellTable, values: Totals, groups: DomainEstimates, round_weights: np.ndarray
) -> NationalCheck | None:
    """check() with the round's settings (its target, 常住人口, national weighting and design effect)."""
    settings = design.settings
    return check(
        cells,
        values,
        groups,
        round_weights,
        group_populations(design),
        target=settings.target,
        resident_population=settings.resident_population,
        weighting=settings.national_weighting,
        design_effect=settings.national_design_effect,
    )
