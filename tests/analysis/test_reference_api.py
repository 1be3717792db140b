"""R's api data (survey package): published values and svyciprop on apistrat / apiclus1."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.cells import build_cells, recognition_totals
from analysis.design import CellTotals, Design, School, Settings, Stratum
from analysis.estimators import domain_means
from analysis.report import analyse
from analysis.responses import totals_from_responses
from support.reference_data import read_csv

METHODS = {"logit": "xlogit", "beta": "beta", "wald": "mean", "asin": "asin"}


def api_design(rows, stratum: str, populations: dict[str, float], **settings) -> Design:
    """Every R stratum (or cluster) is a 'school' of the student group."""
    codes = sorted({r[stratum] for r in rows})
    return Design(
        schools=[School(code=c) for c in codes],
        strata=[Stratum(group="student", school=c, population=int(populations[c])) for c in codes],
        settings=Settings(**settings),
    )


def api_totals(rows, stratum: str, column: str) -> list[CellTotals]:
    cells, _ = totals_from_responses(
        [r[stratum] for r in rows], ["student"] * len(rows), np.array([float(r[column]) for r in rows])
    )
    return cells


@pytest.fixture(scope="module")
def apistrat():
    rows = read_csv("apistrat.csv")
    return rows, api_design(rows, "stype", {r["stype"]: float(r["fpc"]) for r in rows})


@pytest.fixture(scope="module")
def apiclus1():
    rows = read_csv("apiclus1.csv")
    counts = {d: sum(r["dnum"] == d for r in rows) for d in {r["dnum"] for r in rows}}
    # All schools of a sampled district answered: each district's stratum is a census.
    return rows, api_design(rows, "dnum", counts, design="clusters", schools_in_county=757)


def test_apistrat_api00_published(apistrat, api_reference):
    rows, design = apistrat
    totals = api_totals(rows, "stype", "api00")
    found = domain_means(build_cells(design, totals), recognition_totals(totals), np.zeros(3, dtype=np.int64), 1)
    assert round(found.estimate[0], 2) == 662.29  # svymean(~api00, dstrat)
    assert round(float(np.sqrt(found.var[0])), 4) == 9.4089
    r = api_reference["apistrat"]["api00"]
    assert found.estimate[0] == pytest.approx(r["estimate"], abs=1e-9)
    assert np.sqrt(found.var[0]) == pytest.approx(r["se"], abs=1e-9)
    assert found.df[0] == r["df"] == 197
    assert found.deff[0] == pytest.approx(r["deff"], rel=1e-9)


def _check_ciprop(result_group, r, method, tol=1e-9):
    assert result_group.estimate == pytest.approx(r["estimate"], abs=1e-9)
    assert result_group.se == pytest.approx(r["se"], abs=1e-9)
    assert result_group.df == r["df"]
    ci = r["ci"][METHODS[method]]
    assert result_group.ci_low == pytest.approx(ci["low"], abs=tol)
    assert result_group.ci_high == pytest.approx(ci["high"], abs=tol)


@pytest.mark.parametrize("method", sorted(METHODS))
@pytest.mark.parametrize("level", [0.95, 0.90])
def test_apistrat_sch_wide_svyciprop(apistrat, api_reference, method, level):
    rows, design = apistrat
    design = Design(
        schools=design.schools, strata=design.strata, settings=Settings(method=method, confidence_level=level)
    )
    result = analyse(design, api_totals(rows, "stype", "sch_wide"))
    key = "sch_wide" if level == 0.95 else "sch_wide_90"
    _check_ciprop(result.groups["student"], api_reference["apistrat"][key], method)


def test_apistrat_sch_wide_published(apistrat):
    rows, design = apistrat
    student = analyse(design, api_totals(rows, "stype", "sch_wide")).groups["student"]
    assert round(student.estimate, 6) == 0.827948
    assert round(student.se, 7) == 0.0243448
    assert round(student.deff, 5) == 0.85557  # svymean(deff = TRUE) with the data's pw


def test_apistrat_logit_matches_r_glm_fit(apistrat, api_reference):
    """R's method="logit" comes from an IRLS fit: equal to the digits R prints."""
    rows, design = apistrat
    student = analyse(design, api_totals(rows, "stype", "sch_wide")).groups["student"]
    ci = api_reference["apistrat"]["sch_wide"]["ci"]["logit"]
    assert student.ci_low == pytest.approx(ci["low"], rel=1e-7)
    assert student.ci_high == pytest.approx(ci["high"], rel=1e-7)


@pytest.mark.parametrize("stype", ["E", "H", "M"])
def test_apistrat_domains_by_stype(apistrat, api_reference, stype):
    """School cells are single strata: R's subset(dstrat, stype == s)."""
    rows, design = apistrat
    result = analyse(design, api_totals(rows, "stype", "sch_wide"))
    school = next(s for s in result.schools if s.key == stype)
    _check_ciprop(school.groups["student"], api_reference["apistrat"]["sch_wide_by_stype"][stype], "logit")


def test_apiclus1_api00(apiclus1, api_reference):
    rows, design = apiclus1
    totals = api_totals(rows, "dnum", "api00")
    cells = build_cells(design, totals)
    found = domain_means(cells, recognition_totals(totals), np.zeros(cells.size, dtype=np.int64), 1)
    r = api_reference["apiclus1"]["api00"]
    assert found.estimate[0] == pytest.approx(r["estimate"], abs=1e-9)  # 644.17
    assert np.sqrt(found.var[0]) == pytest.approx(r["se"], abs=1e-9)  # 23.542
    assert found.df[0] == r["df"] == 14


@pytest.mark.parametrize("method", sorted(METHODS))
def test_apiclus1_sch_wide_svyciprop(apiclus1, api_reference, method):
    rows, design = apiclus1
    design = Design(
        schools=design.schools,
        strata=design.strata,
        settings=Settings(design="clusters", schools_in_county=757, method=method),
    )
    result = analyse(design, api_totals(rows, "dnum", "sch_wide"))
    _check_ciprop(result.groups["student"], api_reference["apiclus1"]["sch_wide"], method)
