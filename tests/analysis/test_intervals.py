"""Interval methods beyond R's: Wilson, the NCHS rule, zero variance, tiny df."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from analysis.intervals import one_sided_p_value, proportion_intervals


def one(p, var, df=30, n=40, census=False, level=0.95, method="logit"):
    ci = proportion_intervals(
        np.array([p]), np.array([var]), np.array([df]), np.array([n]), np.array([census]), level, method
    )
    return ci.low[0], ci.high[0], ci.n_eff[0], ci.rule[0]


def test_wilson_is_statsmodels_wilson_on_effective_n_with_t_quantile():
    p, var, df = 0.83, 0.0006, 40
    low, high, n_eff, rule = one(p, var, df=df, method="wilson")
    t = stats.t.ppf(0.975, df)
    alpha = 2 * stats.norm.sf(t)  # the normal tail that has the t quantile
    expected = proportion_confint(p * n_eff, n_eff, alpha=alpha, method="wilson")
    assert (low, high) == pytest.approx(expected, abs=1e-12)
    assert rule == "design" and n_eff == pytest.approx(p * (1 - p) / var)


def test_beta_is_statsmodels_clopper_pearson_on_adjusted_effective_n():
    p, var, df, n = 0.83, 0.0006, 40, 60
    low, high, _, _ = one(p, var, df=df, n=n, method="beta")
    ratio = stats.t.ppf(0.025, n - 1) / stats.t.ppf(0.025, df)
    n_eff = p * (1 - p) / var * ratio**2
    assert (low, high) == pytest.approx(proportion_confint(p * n_eff, n_eff, alpha=0.05, method="beta"), abs=1e-12)


@pytest.mark.parametrize("method", ["logit", "beta", "wilson", "wald", "asin"])
def test_nchs_rule_where_every_answer_is_recognised(method):
    low, high, n_eff, rule = one(1.0, 0.0, n=10, method=method)
    assert rule == "nchs" and n_eff == 10
    assert (low, high) == pytest.approx((0.025 ** (1 / 10), 1.0))
    low, high, _, _ = one(0.0, 0.0, n=10, method=method)
    assert (low, high) == pytest.approx((0.0, 1 - 0.025 ** (1 / 10)))


def test_census_interval_is_the_estimate():
    assert one(0.9, 0.0, census=True)[:2] == (0.9, 0.9)
    assert one(0.9, 0.0, census=True)[3] == "census"


def test_zero_variance_uses_respondent_count():
    low, high, n_eff, rule = one(0.75, 0.0, n=20, method="wald")
    half = stats.t.ppf(0.975, 30) * np.sqrt(0.75 * 0.25 / 20)
    assert rule == "zero_variance" and n_eff == 20
    assert (low, high) == pytest.approx((0.75 - half, 0.75 + half))


@pytest.mark.parametrize("method", ["logit", "beta", "wilson", "wald", "asin"])
def test_never_nan(method):
    p = np.array([0.0, 1e-9, 0.5, 0.999999, 1.0, 0.8, 0.8])
    var = np.array([0.0, 1e-12, 0.01, 1e-9, 0.0, 0.0, 0.02])
    df = np.array([0, 1, 0, 5, 3, 10, -1])
    ci = proportion_intervals(p, var, df, np.ones(7) * 3, np.zeros(7, dtype=bool), 0.95, method)
    assert np.isfinite(ci.low).all() and np.isfinite(ci.high).all()
    assert (ci.low >= 0).all() and (ci.high <= 1).all() and (ci.low <= ci.high).all()


def test_one_sided_p_value():
    assert one_sided_p_value(0.90, 0.02, 50, 0.85) == pytest.approx(stats.t.sf(2.5, 50))
    assert one_sided_p_value(0.85, 0.02, 50, 0.85) == pytest.approx(0.5)
    assert one_sided_p_value(0.80, 0.0, 50, 0.85) == 1.0
    assert one_sided_p_value(0.90, 0.0, 50, 0.85) == 0.0


def test_p_value_follows_the_interval_rules():
    assert one_sided_p_value(1.0, 0.0, 11, 0.85, "nchs", 12) == pytest.approx(0.85**12)
    assert one_sided_p_value(0.0, 0.0, 11, 0.85, "nchs", 12) == 1.0
    se = np.sqrt(0.9 * 0.1 / 20)
    assert one_sided_p_value(0.9, 0.0, 19, 0.85, "zero_variance", 20) == pytest.approx(stats.t.sf(0.05 / se, 19))
