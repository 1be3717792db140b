"""The assembled result: verdicts, breakdowns, suppression, coverage, validity, JSON."""

from __future__ import annotations

import math
import time

import msgspec
import numpy as np
import pytest

from analysis.design import CellTotals, Design, ItemTotals, School, Settings, Stratum, ValidityCounts
from analysis.report import analyse, analyse_responses, verdict


def county_design(**settings) -> Design:
    return Design(
        schools=[School(code="A")],
        strata=[Stratum(group="parent", school="A", population=5000), Stratum(group="public")],
        settings=Settings(**settings),
    )


def binary_totals(group: str, n: int, yes: int, school: str | None = None) -> CellTotals:
    return CellTotals(group=group, school=school, n=n, sum_y=yes, sum_y2=yes)


@pytest.mark.parametrize("rate, expected", [(0.95, "met"), (0.70, "not_met"), (0.86, "inconclusive")])
def test_verdicts(rate, expected):
    n = 400
    totals = [binary_totals("parent", n, round(rate * n), "A"), binary_totals("public", n, round(rate * n))]
    overall = analyse(county_design(), totals).overall
    assert overall.verdict == expected
    assert (overall.p_value < 0.05) == (expected == "met")
    assert (overall.p_value > 0.95) == (expected == "not_met")


def test_verdict_bounds():
    assert verdict(0.85, 0.9, 0.85) == "met"  # lower bound at the target
    assert verdict(0.80, 0.849, 0.85) == "not_met"
    assert verdict(0.84, 0.85, 0.85) == "inconclusive"


def test_group_weight_presets():
    totals = [binary_totals("parent", 100, 90, "A"), binary_totals("public", 50, 40)]
    default = analyse(county_design(), totals).overall
    assert default.group_weights == {"parent": 0.5, "public": 0.5}
    assert default.estimate == pytest.approx(0.5 * 0.9 + 0.5 * 0.8)
    custom = analyse(county_design(group_weights={"parent": 3.0, "public": 1.0}), totals).overall
    assert custom.estimate == pytest.approx(0.75 * 0.9 + 0.25 * 0.8)
    # No population for 其他群众: the population preset leaves it out, with a note.
    result = analyse(county_design(group_weights="population"), totals)
    assert result.overall.group_weights == {"parent": 1.0, "public": 0.0}
    assert any(n.code == "group_weight_zero" for n in result.notes)


def test_school_suppression_coverage_and_validity(school_design, school_totals):
    cells, items = school_totals
    design = school_design()
    design = Design(
        schools=design.schools,
        strata=[*design.strata, Stratum(group="student", school=None, population=50)],
        settings=design.settings,
    )
    result = analyse(design, cells, items, ValidityCounts(returned=700, valid=425, excluded={"too_fast": 275}))
    schools = {row.key: row for row in result.schools}
    assert schools["S05"].groups["teacher"].suppressed  # a lone respondent
    assert schools["S01"].groups["principal"].suppressed  # population 1
    assert not schools["S01"].groups["student"].suppressed
    assert schools["S01"].location == "城区"
    # Suppressed cells still count in the totals.
    assert result.groups["principal"].n == 6
    assert [m.school for m in result.coverage.missing] == [None]
    assert result.coverage.missing[0].population_share == pytest.approx(50 / 2500)
    assert result.validity.rate == pytest.approx(425 / 700) and result.validity.below_threshold
    codes = {n.code for n in result.notes}
    assert {"coverage", "validity", "nchs", "census"} <= codes


def test_locations_and_stages(school_design, school_totals):
    cells, items = school_totals
    result = analyse(school_design(), cells, items)
    assert [row.key for row in result.locations] == ["乡村", "城区", "镇区"]
    assert {row.key for row in result.stages} == {"小学", "初中", "九年一贯制", "完全中学"}
    rural = next(row for row in result.locations if row.key == "乡村")
    assert rural.groups["student"].n == 24 + 28  # S03 and S04
    assert "deputy" not in rural.groups  # county-level strata belong to no location


def test_json_shape_and_no_nan(school_design, school_totals):
    cells, items = school_totals
    result = analyse(school_design(), cells, items, ValidityCounts(returned=430, valid=425))
    data = msgspec.json.decode(msgspec.json.encode(result))
    assert {"target", "level", "method", "design", "overall", "groups", "schools", "items", "validity"} <= set(data)
    fields = {"estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff", "df"}
    assert fields | {"verdict", "p_value"} <= set(data["overall"])
    assert all(fields <= set(g) for g in data["groups"].values())

    def finite(x):
        if isinstance(x, dict):
            return all(finite(v) for v in x.values())
        if isinstance(x, list):
            return all(finite(v) for v in x)
        return not isinstance(x, float) or math.isfinite(x)

    assert finite(data)


def test_per_respondent_path_equals_aggregates():
    schools = ["A"] * 6 + [None] * 4
    groups = ["parent"] * 6 + ["public"] * 4
    y = np.array([1, 0.5, 0.75, 1, 0, 1, 1, 0.25, np.nan, 1])
    score = y * 100
    from_rows = analyse_responses(county_design(), schools, groups, y, score)
    parent, public = y[:6], y[6:][~np.isnan(y[6:])]
    totals = [
        CellTotals(
            group="parent",
            school="A",
            n=6,
            sum_y=parent.sum(),
            sum_y2=(parent**2).sum(),
            sum_score=100 * parent.sum(),
            sum_score2=(100 * parent**2).sum() * 100,
        ),
        CellTotals(
            group="public",
            n=3,
            sum_y=public.sum(),
            sum_y2=(public**2).sum(),
            sum_score=100 * public.sum(),
            sum_score2=(100 * public**2).sum() * 100,
        ),
    ]
    from_totals = analyse(county_design(), totals)
    assert from_rows.overall.estimate == pytest.approx(from_totals.overall.estimate, abs=1e-15)
    assert from_rows.overall.se == pytest.approx(from_totals.overall.se, abs=1e-15)
    assert from_rows.groups["public"].n == 3
    assert from_rows.overall.score == pytest.approx(100 * from_rows.overall.estimate)


def test_large_county_from_totals_is_fast():
    """200 schools x 4 groups + 2 county groups, 12 items: the service's aggregate path."""
    rng = np.random.default_rng(7)
    schools = [
        School(code=f"S{k:03d}", location=["城区", "镇区", "乡村"][k % 3], stage=["小学", "初中"][k % 2])
        for k in range(200)
    ]
    strata, cells, items = [], [], []
    for school in schools:
        for group, population in (("student", 800), ("parent", 700), ("teacher", 50), ("principal", 1)):
            strata.append(Stratum(group=group, school=school.code, population=population))
            n = min(population, int(rng.integers(1, 2000)))
            cells.append(binary_totals(group, n, int(rng.binomial(n, 0.85)), school.code))
            items += [
                ItemTotals(
                    item=f"q{j}", group=group, school=school.code, n_rated=n, n_recognised=int(rng.binomial(n, 0.85))
                )
                for j in range(12)
            ]
    strata += [Stratum(group="deputy", population=300), Stratum(group="public")]
    cells += [binary_totals("deputy", 200, 190), binary_totals("public", 5000, 4100)]
    design = Design(schools=schools, strata=strata)
    start = time.perf_counter()
    result = analyse(design, cells, items)
    elapsed = time.perf_counter() - start
    assert len(result.schools) == 200 and len(result.items) == 12
    assert elapsed < 1.0, elapsed
