"""Weighted domain means and their Taylor-linearised variance, as R's survey package.

A domain is a set of strata rows (a group, a school x group cell, a location x group,
an item x group); ``key`` maps each row to its domain (-1: in no domain). Within a
stratum the weight is constant, so with m rows in the domain, Σx and Σx² over them:

    p_d = Σ w·Σx / Σ w·m
    linearised stratum total  t_h = w_h (Σx − p_d m_h) / W_d
    its sum of squares        q_h = (w_h / W_d)² (Σx² − 2 p_d Σx + p_d² m_h)

Stratified (schools as strata): Var = Σ_h (1 − f_h) n_h/(n_h − 1) (q_h − t_h²/n_h), where
n_h counts all respondents of the stratum (those outside the domain add zeros, as R's
subset() keeps the stratum's sample size). A stratum with one respondent is centred
at the grand mean 0, as options(survey.lonely.psu = "adjust"): (1 − f_h) q_h.
Clusters (schools as PSUs): school totals T_s = Σ t_h over the school's strata, then
(1 − m/M) m/(m − 1) Σ (T_s − T̄)² over the m participating schools (ultimate cluster);
county-level strata stay element-sampled strata.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.cells import CellTable, Totals


@dataclass(frozen=True)
class DomainEstimates:
    """Per domain: estimate, variance, respondents, design df, deff, Kish n, census flag."""

    estimate: np.ndarray
    var: np.ndarray
    n: np.ndarray
    df: np.ndarray
    deff: np.ndarray  # nan where undefined
    srs_var: np.ndarray  # the variance under simple random sampling of the same n
    n_kish: np.ndarray
    census: np.ndarray  # bool: no sampling error (every stratum fully observed)


def domain_sum(key: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Σ values per domain; rows with key -1 are left out."""
    slot = np.where(key < 0, size, key)
    return np.bincount(slot, weights=values, minlength=size + 1)[:size]


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)


def _element_rows(cells: CellTable) -> np.ndarray:
    return (cells.school < 0) if cells.clustered else np.ones(cells.size, dtype=bool)


def linearised(
    cells: CellTable, values: Totals, key: np.ndarray, p: np.ndarray, total_weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per-stratum total t and sum of squares q of the linearised values of domain means."""
    inside = key >= 0
    pk = np.where(inside, p[np.where(inside, key, 0)], 0.0)
    scale = _divide(cells.weight, np.where(inside, total_weight[np.where(inside, key, 0)], 0))
    scale = np.where(inside, np.nan_to_num(scale), 0.0)
    t = scale * (values.s1 - pk * values.m)
    q = scale**2 * (values.s2 - 2 * pk * values.s1 + pk**2 * values.m)
    return t, q


def variance(cells: CellTable, t: np.ndarray, q: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """Design variance per domain from linearised stratum totals t and squares q."""
    n = cells.n
    safe_n = np.maximum(n, 1)
    within = np.where(n > 1, n / np.maximum(n - 1, 1) * (q - t**2 / safe_n), q)
    element = _element_rows(cells)
    var = domain_sum(np.where(element, key, -1), cells.element_fpc * within, size)
    if cells.clustered:
        var = var + _cluster_variance(cells, t, np.where(element, -1, key), size)
    return np.maximum(var, 0.0)


def _cluster_variance(cells: CellTable, t: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """Between-school variance of school totals, zero-padded over participating schools."""
    schools = cells.n_schools
    slot = np.where(key >= 0, key * schools + cells.school, -1)
    totals = domain_sum(slot, t, size * schools).reshape(size, schools)
    m = cells.psu_count
    sum_t, sum_t2 = totals.sum(axis=1), (totals**2).sum(axis=1)
    if m > 1:
        return cells.school_fpc * m / (m - 1) * (sum_t2 - sum_t**2 / m)
    return cells.school_fpc * sum_t2  # a lone school: lonely.psu = "adjust"


def degrees_of_freedom(cells: CellTable, m: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """PSUs minus strata in the domain, as R's degf() on the subset."""
    key = np.where(m > 0, key, -1)
    element = _element_rows(cells)
    element_key = np.where(element, key, -1)
    df = domain_sum(element_key, m, size) - domain_sum(element_key, np.ones_like(m), size)
    if cells.clustered:
        schools = cells.n_schools
        slot = np.where(~element & (key >= 0), key * schools + cells.school, -1)
        present = domain_sum(slot, m, size * schools).reshape(size, schools) > 0
        psus = present.sum(axis=1)
        df = df + psus - (psus > 0)
    return df


def is_census(cells: CellTable, m: np.ndarray, key: np.ndarray, size: int) -> np.ndarray:
    """Domains whose strata all carry a zero finite population factor."""
    factor = np.where(_element_rows(cells), cells.element_fpc, cells.school_fpc)
    sampled = domain_sum(np.where(m > 0, key, -1), (factor > 1e-7).astype(float), size)
    return sampled == 0


def srs_variance(
    cells: CellTable, values: Totals, key: np.ndarray, size: int, p: np.ndarray, total_weight: np.ndarray
) -> np.ndarray:
    """Var_SRS of the design effect Var / Var_SRS, as R's svymean(deff = TRUE).

    Var_SRS = S²_w (W − n)/(W n) with S²_w = n/(n − 1) Σw(x − p)²/W. Where the weights sum
    to n or less (no population known, or more respondents than population) R returns
    NA or Inf; here the with-replacement SRS variance S²_w / n is used instead
    (R's deff = "replace").
    """
    pk = np.where(key >= 0, p[np.where(key >= 0, key, 0)], 0.0)
    spread = cells.weight * (values.s2 - 2 * pk * values.s1 + pk**2 * values.m)
    n = domain_sum(key, values.m, size)
    s2_w = _divide(n, n - 1) * _divide(domain_sum(key, spread, size), total_weight)
    return np.where(total_weight > n, s2_w * _divide(total_weight - n, total_weight * n), _divide(s2_w, n))


def domain_means(cells: CellTable, values: Totals, key: np.ndarray, size: int) -> DomainEstimates:
    """Weighted mean of each domain with its design variance and companions."""
    total_weight = domain_sum(key, cells.weight * values.m, size)
    p = _divide(domain_sum(key, cells.weight * values.s1, size), total_weight)
    t, q = linearised(cells, values, key, p, total_weight)
    var = variance(cells, t, q, key, size)
    srs = srs_variance(cells, values, key, size, p, total_weight)
    return DomainEstimates(
        estimate=p,
        var=var,
        n=domain_sum(key, values.m, size),
        df=degrees_of_freedom(cells, values.m, key, size),
        deff=_divide(var, np.where(srs > 1e-300, srs, 0)),
        srs_var=srs,
        n_kish=_divide(total_weight**2, domain_sum(key, cells.weight**2 * values.m, size)),
        census=is_census(cells, values.m, key, size),
    )


def combined_means(
    cells: CellTable,
    values: Totals,
    part_key: np.ndarray,
    parts: DomainEstimates,
    coefficient: np.ndarray,
    key: np.ndarray,
    size: int,
) -> DomainEstimates:
    """Σ_g a_g p_g per domain, its variance from the combined linearised values.

    part_key maps rows to the parts (e.g. domain x group) whose estimates are in
    ``parts``; coefficient[part] is a_g; key maps rows to the combined domain. Summing
    a_g t_h per school gives the between-group covariance in the clusters design; with
    schools as strata the groups' strata are disjoint and this is Σ a_g² Var(p_g).
    Its Var_SRS is Σ a_g² Var_SRS(p_g): each group a simple random sample of its n_g.
    """
    total_weight = domain_sum(part_key, cells.weight * values.m, len(parts.estimate))
    t, q = linearised(cells, values, part_key, parts.estimate, total_weight)
    a = np.where(part_key >= 0, coefficient[np.where(part_key >= 0, part_key, 0)], 0.0)
    var = variance(cells, a * t, a**2 * q, key, size)
    domain_of_part = _part_domain(part_key, key, len(coefficient))
    estimate = domain_sum(domain_of_part, np.nan_to_num(coefficient * parts.estimate), size)
    srs = domain_sum(domain_of_part, coefficient**2 * np.nan_to_num(parts.srs_var), size)
    return DomainEstimates(
        estimate=estimate,
        var=var,
        n=domain_sum(key, values.m, size),
        df=degrees_of_freedom(cells, values.m, key, size),
        deff=_divide(var, np.where(srs > 1e-300, srs, 0)),
        srs_var=srs,
        n_kish=np.full(size, np.nan),
        census=is_census(cells, values.m, key, size),
    )


def _part_domain(part_key: np.ndarray, key: np.ndarray, parts: int) -> np.ndarray:
    """The combined domain of each part (-1 for parts without rows)."""
    domain = np.full(parts, -1, dtype=np.int64)
    rows = part_key >= 0
    domain[part_key[rows]] = key[rows]
    return domain


@dataclass(frozen=True)
class Summary:
    """Group estimates (domain x group, flattened) and their weighted combination per domain."""

    groups: DomainEstimates  # index d * len(GROUPS) + g
    combined: DomainEstimates  # index d
    coefficient: np.ndarray  # a_g per domain x group, renormalised over groups present


def summarise(
    cells: CellTable, values: Totals, domain: np.ndarray, size: int, base_weights: np.ndarray, normalise
) -> Summary:
    """Per domain: each group's weighted mean, and P = Σ a_g p_g over the groups present.

    ``normalise(base_weights, present)`` turns base weights into a_g per domain.
    """
    n_groups = len(base_weights)
    part_key = np.where(domain >= 0, domain * n_groups + cells.group, -1)
    parts = domain_means(cells, values, part_key, size * n_groups)
    present = (parts.n > 0).reshape(size, n_groups)
    coefficient = normalise(base_weights, present).reshape(-1)
    combined = combined_means(cells, values, part_key, parts, coefficient, domain, size)
    return Summary(groups=parts, combined=combined, coefficient=coefficient)
