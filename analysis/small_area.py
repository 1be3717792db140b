"""Fair school estimates: the Fay–Herriot area-level model and its EBLUP (Rao & Molina 2015, ch. 6).

Each school i has a direct estimate ŷ_i (its weighted 认可 share) with sampling variance ψ_i:

    ŷ_i = θ_i + e_i,   θ_i = x_i'β + v_i,   v_i ~ (0, σ²_v),  e_i ~ (0, ψ_i), ψ_i known.

σ²_v is fitted by REML with Fisher scoring (Rao & Molina 6.2.4): with V = diag(σ²_v + ψ_i) and
P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹ the score is −½ tr(P) + ½ ŷ'P²ŷ and the information ½ tr(P²);
a boundary solution is σ²_v = 0. β is the GLS fit at σ̂²_v. The EBLUP is

    θ̂_i = γ_i ŷ_i + (1 − γ_i) x_i'β̂,   γ_i = σ̂²_v / (σ̂²_v + ψ_i):

a school with few answers (large ψ_i) moves toward the county's mean x_i'β̂, a large one keeps
about its own figure. Its MSE is the Prasad–Rao estimate for REML (as samplics' EblupAreaModel):
g1 + g2 + 2 g3 with g1 = γ_i ψ_i, g2 = (1 − γ_i)² x_i'(X'V⁻¹X)⁻¹x_i and
g3 = (1 − γ_i)² / (σ̂²_v + ψ_i) · 2 / Σ_j (σ̂²_v + ψ_j)⁻².

``shrink_schools`` applies it to a result's school rows (intercept only: a school moves toward the
county mean of schools). Schools with zero sampling variance are handled as documented there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import msgspec
import numpy as np
from scipy import stats

from analysis.results import SchoolRow, ShrunkEstimate

# Fewer schools than this give no usable estimate of the between-school variance: no model then.
MIN_SCHOOLS = 5
VarianceRule = Literal["design", "pooled", "census"]
MAX_ITERATIONS = 100
TOLERANCE = 1e-12


@dataclass(frozen=True)
class FayHerriot:
    """A fitted model and its predictions, one entry per area."""

    estimate: np.ndarray  # the EBLUP θ̂_i
    mse: np.ndarray  # Prasad–Rao MSE (REML)
    gamma: np.ndarray  # the direct estimate's share γ_i
    synthetic: np.ndarray  # x_i'β̂
    beta: np.ndarray
    model_variance: float  # σ̂²_v (REML)
    iterations: int


def _projection(psi: np.ndarray, x: np.ndarray, sigma2: float) -> tuple[np.ndarray, np.ndarray]:
    """P = V⁻¹ − V⁻¹X(X'V⁻¹X)⁻¹X'V⁻¹ and (X'V⁻¹X)⁻¹ for V = diag(σ² + ψ)."""
    v_inv = 1 / (sigma2 + psi)
    weighted = x * v_inv[:, None]
    inverse = np.linalg.inv(x.T @ weighted)
    return np.diag(v_inv) - weighted @ inverse @ weighted.T, inverse


def _score_information(y: np.ndarray, psi: np.ndarray, x: np.ndarray, sigma2: float) -> tuple[float, float]:
    p, _ = _projection(psi, x, sigma2)
    py = p @ y
    return float(-0.5 * np.trace(p) + 0.5 * py @ py), float(0.5 * np.sum(p * p))


def reml_variance(y: np.ndarray, psi: np.ndarray, x: np.ndarray) -> tuple[float, int]:
    """σ̂²_v by REML Fisher scoring from the Prasad–Rao moment estimate; 0 when the maximum is there."""
    m, k = x.shape
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    hat = x @ np.linalg.pinv(x.T @ x) @ x.T
    moment = (np.sum((y - x @ ols) ** 2) - np.sum(psi * (1 - np.diag(hat)))) / (m - k)
    sigma2 = max(float(moment), float(np.mean(psi)) * 1e-3, 1e-12)
    for iteration in range(1, MAX_ITERATIONS + 1):
        score, information = _score_information(y, psi, x, sigma2)
        step = score / information
        if sigma2 + step <= 0:
            if _score_information(y, psi, x, 0.0)[0] <= 0:
                return 0.0, iteration  # the restricted likelihood falls from 0 on
            step = -sigma2 / 2
        sigma2 += step
        if abs(step) <= TOLERANCE * max(sigma2, 1e-12):
            return sigma2, iteration
    return sigma2, MAX_ITERATIONS


def fay_herriot(y: np.ndarray, psi: np.ndarray, x: np.ndarray | None = None) -> FayHerriot:
    """The Fay–Herriot EBLUP of each area from direct estimates y with known sampling variances psi > 0.

    x: the covariates with their intercept column (default: an intercept only)."""
    y, psi = np.asarray(y, dtype=float), np.asarray(psi, dtype=float)
    x = np.ones((y.size, 1)) if x is None else np.asarray(x, dtype=float)
    sigma2, iterations = reml_variance(y, psi, x)
    v = sigma2 + psi
    weighted = x / v[:, None]
    inverse = np.linalg.inv(x.T @ weighted)
    beta = inverse @ (weighted.T @ y)
    synthetic = x @ beta
    gamma = sigma2 / v
    g1 = gamma * psi
    g2 = (1 - gamma) ** 2 * np.einsum("ij,jk,ik->i", x, inverse, x)
    g3 = (1 - gamma) ** 2 / v * 2 / np.sum(v**-2)
    return FayHerriot(
        estimate=gamma * y + (1 - gamma) * synthetic,
        mse=g1 + g2 + 2 * g3,
        gamma=gamma,
        synthetic=synthetic,
        beta=beta,
        model_variance=sigma2,
        iterations=iterations,
    )


def sampling_variances(
    variance: np.ndarray, n: np.ndarray, zero: np.ndarray, census: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """ψ_i for the model, and which rule gave each ("design", "pooled" or "census").

    A school whose answers are all 认可 (or whose every stratum answered alike) has a design variance
    of 0, which would make the model take its 100% as exact. Its ψ_i is instead the pooled variance
    per respondent of the schools with a design variance (the mean of ψ_j n_j over them) divided by its
    own n_i: what its direct estimate would vary by if its answers varied as other schools' do. (The product's NCHS
    interval rule gives no variance to use: p(1 − p) is 0 at 100%.) A census school has no sampling
    error: it is kept out of the fit and its figure stands.
    """
    design = ~zero & ~census
    pooled = np.mean(variance[design] * n[design]) if design.any() else np.nan
    psi = np.where(design, variance, np.where(census, 0.0, pooled / np.maximum(n, 1)))
    rule = np.where(design, "design", np.where(census, "census", "pooled"))
    return psi, rule


def shrink_schools(schools: list[SchoolRow], confidence_level: float) -> list[SchoolRow]:
    """Each shown school's row with its Fay–Herriot estimate (intercept only), or the rows as they are
    where there are too few schools to fit the model. Suppressed schools (too few answers to show)
    neither enter the fit nor get an estimate."""
    shown = [k for k, s in enumerate(schools) if not s.overall.suppressed]
    if not shown:
        return schools
    e = [schools[k].overall for k in shown]
    y = np.array([r.estimate for r in e])
    n = np.array([r.n for r in e], dtype=float)
    census = np.array([r.interval_rule == "census" for r in e])
    zero = np.array([r.interval_rule in ("nchs", "zero_variance") or r.se <= 0 for r in e]) & ~census
    psi, rule = sampling_variances(np.array([r.se**2 for r in e]), n, zero, census)
    fit = ~census
    if fit.sum() < MIN_SCHOOLS or not np.all(np.isfinite(psi[fit])) or np.any(psi[fit] <= 0):
        return schools
    model = fay_herriot(y[fit], psi[fit])
    estimate, mse, gamma = y.copy(), np.zeros(y.size), np.ones(y.size)
    estimate[fit], mse[fit], gamma[fit] = model.estimate, model.mse, model.gamma
    half = stats.norm.ppf(1 - (1 - confidence_level) / 2) * np.sqrt(mse)
    out = list(schools)
    for j, k in enumerate(shown):
        out[k] = msgspec.structs.replace(
            schools[k],
            shrunk=ShrunkEstimate(
                estimate=float(estimate[j]),
                mse=float(mse[j]),
                ci_low=float(max(estimate[j] - half[j], 0.0)),
                ci_high=float(min(estimate[j] + half[j], 1.0)),
                weight=float(gamma[j]),
                synthetic=float(model.beta[0]),
                sampling_variance=float(psi[j]),
                variance_rule=cast(VarianceRule, str(rule[j])),
                model_variance=model.model_variance,
            ),
        )
    return out
