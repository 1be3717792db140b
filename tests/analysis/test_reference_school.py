"""The generated school survey against R's survey package (tests/reference/make_reference.R).

Edge cases in the data: a lone teacher in S05 (lonely.psu = "adjust"), every 人大代表
answer 认可 (NCHS rule), census strata (S02 teachers, every principal), strata with
more respondents than population (S04 parents, S05 principals: weights sum below n),
其他群众 without a population (no fpc).
"""

from __future__ import annotations

import math

import pytest

from analysis.design import GROUPS
from analysis.report import analyse

METHODS = {"logit": "xlogit", "beta": "beta", "wald": "mean", "asin": "asin"}
DESIGNS = ["strata", "clusters"]


@pytest.fixture(scope="module")
def results(school_design, school_totals):
    cells, items = school_totals
    return {
        (design, method): analyse(school_design(design=design, method=method, schools_in_county=12), cells, items)
        for design in DESIGNS
        for method in METHODS
    }


def r_deff(r: dict) -> float | None:
    """R's deff, or its with-replacement deff where R's is NA (weights sum to n or less)."""
    if r["weight_sum"] > r["n"]:
        return r["deff"]
    return r["deff_replace"]


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("group", GROUPS)
def test_group_estimates(results, school_reference, design, group):
    found = results[(design, "logit")].groups[group]
    r = school_reference[design]["groups"][group]
    assert found.estimate == pytest.approx(r["estimate"], abs=1e-9)
    assert found.se == pytest.approx(r["se"], abs=1e-9)
    assert found.df == r["df"]
    assert found.n == r["n"]
    expected = r_deff(r)
    if expected is None:  # every answer equal: R's 0/0
        assert found.deff is None
    else:
        assert found.deff == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("group", GROUPS)
def test_group_intervals(results, school_reference, design, method, group):
    found = results[(design, method)].groups[group]
    r = school_reference[design]["groups"][group]
    if found.interval_rule != "design":  # R's NaN or degenerate: test_edge_case_rules
        assert (group, found.interval_rule) in {("principal", "census"), ("deputy", "nchs")}
        return
    ci = r["ci"][METHODS[method]]
    # R's "mean" interval can leave [0, 1] (clusters principal: 1.017); ours is clipped.
    assert found.ci_low == pytest.approx(max(ci["low"], 0.0), abs=1e-9)
    assert found.ci_high == pytest.approx(min(ci["high"], 1.0), abs=1e-9)
    assert found.n_eff == pytest.approx(r["estimate"] * (1 - r["estimate"]) / r["var"], rel=1e-9)
    if method == "logit":  # R's svyglm fit, to the digits R prints
        assert found.ci_low == pytest.approx(r["ci"]["logit"]["low"], rel=1e-7)
        assert found.ci_high == pytest.approx(r["ci"]["logit"]["high"], rel=1e-7)


def test_edge_case_rules(results):
    groups = results[("strata", "logit")].groups
    assert groups["principal"].interval_rule == "census"  # every principal answered
    assert groups["principal"].ci_low == groups["principal"].ci_high == groups["principal"].estimate
    deputy = groups["deputy"]
    assert deputy.interval_rule == "nchs" and deputy.estimate == 1.0
    assert deputy.ci_low == pytest.approx(0.025 ** (1 / 12)) and deputy.ci_high == 1.0
    assert deputy.n_eff == 12
    for result in results.values():
        for estimate in [result.overall, *result.groups.values()]:
            assert all(math.isfinite(x) for x in (estimate.estimate, estimate.se, estimate.ci_low, estimate.ci_high))


@pytest.mark.parametrize("design", DESIGNS)
def test_overall(results, school_reference, design):
    overall = results[(design, "logit")].overall
    r = school_reference[design]["overall"]
    assert overall.estimate == pytest.approx(r["estimate"], abs=1e-9)
    assert overall.se == pytest.approx(r["se"], abs=1e-9)  # svycontrast(svyby(...), a)
    assert overall.df == r["df"]
    assert overall.n == r["n"]
    assert overall.group_weights == pytest.approx(r["weights"])


@pytest.mark.parametrize("design", DESIGNS)
def test_items(results, school_reference, design):
    result = results[(design, "logit")]
    items = {row.key: row for row in result.items}
    assert [row.overall.estimate for row in result.items] == sorted(row.overall.estimate for row in result.items)
    for item, r in school_reference[design]["items"].items():
        row = items[item]
        assert row.overall.estimate == pytest.approx(r["overall"]["estimate"], abs=1e-9)
        assert row.overall.se == pytest.approx(r["overall"]["se"], abs=1e-9)
        for group, rg in r["groups"].items():
            found = row.groups[group]
            assert found.estimate == pytest.approx(rg["estimate"], abs=1e-9)
            assert found.se == pytest.approx(rg["se"], abs=1e-9)
            assert found.df == rg["df"]
            if found.interval_rule == "design":
                ci = rg["ci"]["xlogit"]
                assert found.ci_low == pytest.approx(ci["low"], abs=1e-9)
                assert found.ci_high == pytest.approx(ci["high"], abs=1e-9)
