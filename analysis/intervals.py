"""Confidence intervals for design-based proportions, as R's survey::svyciprop.

Methods (t quantile on the design df throughout, as svyciprop's df = degf(design)):
  logit  svyciprop(method = "logit"/"xlogit"): logit(p) ± t·SE/(p(1 − p)), back-transformed.
         R's "logit" fits svyglm by IRLS, so it agrees with this closed form (R's
         "xlogit") to the glm's convergence tolerance (~1e-9).
  beta   svyciprop(method = "beta"), Korn–Graubard: Clopper–Pearson on the effective
         n = p(1 − p)/Var scaled by (t_{α/2, n−1} / t_{α/2, df})².
  wald   svyciprop(method = "mean"): p ± t·SE, clipped to [0, 1].
  asin   svyciprop(method = "asin"): sin²(asin √p ± t·SE/(2√(p(1 − p)))), angle clipped
         to [0, π/2] (R lets it fold back).
  wilson Wilson's score interval on the effective n with the t quantile (not in R).

Never NaN: where every answer is 认可 or none is (p = 0 or 1) the NCHS rule applies
(n* = n respondents; p = 1 gives [(α/2)^(1/n), 1], p = 0 gives [0, 1 − (α/2)^(1/n)]).
Where every stratum is a census the interval is [p, p]. Where the variance estimate is
0 otherwise (every stratum's answers equal), the method runs on n* = n, Var = p(1 − p)/n.
A design df below 1 is raised to 1 (R returns NaN there).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import special, stats

from analysis.design import IntervalMethod


@dataclass(frozen=True)
class Intervals:
    low: np.ndarray
    high: np.ndarray
    n_eff: np.ndarray  # p(1 − p)/Var, or n* under a rule; nan for a census
    rule: np.ndarray  # "design", "nchs", "census" or "zero_variance" per entry


def t_quantile(confidence_level: float, df: np.ndarray) -> np.ndarray:
    return stats.t.ppf(1 - (1 - confidence_level) / 2, np.maximum(df, 1))


def proportion_intervals(
    p: np.ndarray,
    var: np.ndarray,
    df: np.ndarray,
    n: np.ndarray,
    census: np.ndarray,
    confidence_level: float,
    method: IntervalMethod,
) -> Intervals:
    """Intervals for proportions p with design variance var, df and n respondents."""
    p, var, n = (np.asarray(x, dtype=float) for x in (p, var, n))
    alpha = 1 - confidence_level
    spread = p * (1 - p)
    zero_var = var <= 1e-14 * np.maximum(spread, 1e-300)
    rule = np.full(p.shape, "design", dtype=object)
    rule[zero_var] = "zero_variance"
    rule[(p <= 0) | (p >= 1)] = "nchs"
    rule[zero_var & census] = "census"
    regular = (rule == "design") | (rule == "zero_variance")
    var_used = np.where(rule == "zero_variance", spread / np.maximum(n, 1), var)
    safe_p = np.where(regular, p, 0.5)
    safe_var = np.where(regular, var_used, 0.25)
    low, high = _METHODS[method](safe_p, safe_var, np.asarray(df, dtype=float), n, confidence_level)
    n_eff = np.where(regular, safe_p * (1 - safe_p) / safe_var, n)
    tail = (alpha / 2) ** (1 / np.maximum(n, 1))
    low = np.select([rule == "census", (rule == "nchs") & (p >= 1), rule == "nchs"], [p, tail, 0.0], low)
    high = np.select([rule == "census", (rule == "nchs") & (p >= 1), rule == "nchs"], [p, 1.0, 1 - tail], high)
    n_eff = np.where(rule == "census", np.nan, n_eff)
    return Intervals(low=low, high=high, n_eff=n_eff, rule=rule)


def _logit(p, var, df, n, confidence_level):
    half = t_quantile(confidence_level, df) * np.sqrt(var) / (p * (1 - p))
    centre = special.logit(p)
    return special.expit(centre - half), special.expit(centre + half)


def _beta(p, var, df, n, confidence_level):
    alpha = 1 - confidence_level
    ratio = stats.t.ppf(alpha / 2, np.maximum(n - 1, 1)) / stats.t.ppf(alpha / 2, np.maximum(df, 1))
    n_eff = p * (1 - p) / var * ratio**2
    return (
        stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1),
        stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p)),
    )


def _wald(p, var, df, n, confidence_level):
    half = t_quantile(confidence_level, df) * np.sqrt(var)
    return np.clip(p - half, 0, 1), np.clip(p + half, 0, 1)


def _asin(p, var, df, n, confidence_level):
    half = t_quantile(confidence_level, df) * np.sqrt(var / (4 * p * (1 - p)))
    centre = np.arcsin(np.sqrt(p))
    return (np.sin(np.clip(centre - half, 0, np.pi / 2)) ** 2, np.sin(np.clip(centre + half, 0, np.pi / 2)) ** 2)


def _wilson(p, var, df, n, confidence_level):
    z = t_quantile(confidence_level, df)
    n_eff = p * (1 - p) / var
    shrink = 1 + z**2 / n_eff
    centre = (p + z**2 / (2 * n_eff)) / shrink
    half = z / shrink * np.sqrt(p * (1 - p) / n_eff + z**2 / (4 * n_eff**2))
    return centre - half, centre + half


_METHODS: dict[IntervalMethod, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "logit": _logit,
    "beta": _beta,
    "wald": _wald,
    "asin": _asin,
    "wilson": _wilson,
}


def one_sided_p_value(
    estimate: float, se: float, df: float, target: float, rule: str = "design", n: float = 1
) -> float:
    """P(T ≥ t) for t = (P − target)/SE on df: small when P is credibly above target.

    H0: P ≤ target, H1: P > target. Under the interval rules the p-value follows the
    interval: NCHS (every answer 认可) gives the exact binomial target^n (so it is below
    α/2 exactly when the lower bound (α/2)^(1/n) reaches the target); zero variance uses
    SE = √(p(1 − p)/n); a census (SE 0) is certain: 0 above the target, 1 otherwise.
    """
    if rule == "nchs":
        return float(target**n) if estimate >= 1 else 1.0
    if rule == "zero_variance":
        se = float(np.sqrt(estimate * (1 - estimate) / max(n, 1)))
    if se <= 0:
        return 0.0 if estimate > target else 1.0
    return float(stats.t.sf((estimate - target) / se, max(df, 1)))
