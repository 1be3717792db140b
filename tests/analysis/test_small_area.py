"""Fay–Herriot school estimates (analysis.small_area) against samplics' EblupAreaModel, whose values
tests/reference/make_fay_herriot.py committed; and what the model does to a county's schools."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import CellTotals, Design, School, Settings, Stratum, analyse
from analysis.small_area import MIN_SCHOOLS, fay_herriot
from support.generated_county import SMALL_SCHOOL, generated_county
from support.reference_data import read_json

REFERENCE = read_json("fay_herriot_reference.json")


@pytest.mark.parametrize("case", sorted(REFERENCE))
def test_estimates_and_mse_match_samplics(case):
    given, samplics = REFERENCE[case]["input"], REFERENCE[case]["samplics"]
    y = np.array(given["y"])
    x = np.column_stack([np.ones(y.size), *np.array(given.get("x", np.empty((y.size, 0)))).T])
    model = fay_herriot(y, np.array(given["psi"]), x)
    assert model.estimate == pytest.approx(samplics["estimate"], abs=1e-9)
    assert model.mse == pytest.approx(samplics["mse"], abs=1e-9, rel=1e-7)
    assert model.beta == pytest.approx(samplics["beta"], abs=1e-9)
    assert model.model_variance == pytest.approx(samplics["model_variance"], abs=1e-12, rel=1e-7)
    if case.startswith("no_school_variance"):  # the boundary: every school gets the county mean
        assert model.model_variance == 0 and model.estimate == pytest.approx(np.full(y.size, model.beta[0]))
    else:
        assert model.model_variance > 0


def test_a_school_with_six_answers_all_recognised_moves_toward_the_county_mean():
    design, cells = generated_county()
    result = analyse(design, cells)
    small = next(s for s in result.schools if s.key == SMALL_SCHOOL)
    assert small.overall.estimate == 1.0 and small.overall.n == 6 and small.overall.se == 0
    s = small.shrunk
    assert s is not None and s.variance_rule == "pooled" and s.sampling_variance > 0
    assert s.synthetic < s.estimate < small.overall.estimate  # between the county mean and its 100%
    assert s.weight < 0.5 and s.ci_low < s.estimate < s.ci_high <= 1
    # The county mean the school is pulled toward is the schools' GLS mean: within the direct estimates.
    direct = [r.overall.estimate for r in result.schools]
    assert min(direct) < s.synthetic < max(direct)
    # Large schools keep about their own figure, and their MSE is below their sampling variance.
    for row in result.schools:
        if row.overall.n >= 150:
            assert row.shrunk is not None and row.shrunk.weight > 0.7 > 3 * s.weight
            assert row.shrunk.mse < row.overall.se**2
            assert abs(row.shrunk.estimate - row.overall.estimate) < abs(s.estimate - small.overall.estimate) / 5


def _county(schools: int, census_school: bool = False, suppressed: bool = False) -> tuple[Design, list[CellTotals]]:
    codes = [f"S{k}" for k in range(schools)]
    strata, cells = [], []
    rng = np.random.default_rng(5)
    for k, code in enumerate(codes):
        n = 3 if suppressed and k == 0 else 40
        population = n if census_school and k == 0 else 400
        y = rng.binomial(8, rng.uniform(0.8, 0.95), n) / 8
        strata.append(Stratum(group="parent", school=code, population=population))
        cells.append(CellTotals(group="parent", school=code, n=n, sum_y=float(y.sum()), sum_y2=float(y @ y)))
    design = Design(schools=[School(code=c, name=c) for c in codes], strata=strata, settings=Settings())
    return design, cells


def test_too_few_schools_for_the_model_leave_no_shrunk_estimate():
    result = analyse(*_county(MIN_SCHOOLS - 1))
    assert all(s.shrunk is None for s in result.schools)
    assert all(s.shrunk is not None for s in analyse(*_county(MIN_SCHOOLS)).schools)


def test_a_school_every_member_of_which_answered_keeps_its_figure():
    result = analyse(*_county(8, census_school=True))
    census = result.schools[0]
    assert census.overall.interval_rule == "census" and census.shrunk is not None
    assert census.shrunk.estimate == census.overall.estimate and census.shrunk.mse == 0
    assert census.shrunk.variance_rule == "census" and census.shrunk.weight == 1
    assert all(s.shrunk is not None and s.shrunk.variance_rule == "design" for s in result.schools[1:])


def test_a_school_too_small_to_show_has_no_shrunk_estimate_and_stays_out_of_the_fit():
    with_small = analyse(*_county(8, suppressed=True))
    assert with_small.schools[0].overall.suppressed and with_small.schools[0].shrunk is None
    others = [s.shrunk for s in with_small.schools[1:]]
    assert all(s is not None for s in others)
    fit = fay_herriot(
        np.array([s.overall.estimate for s in with_small.schools[1:]]),
        np.array([s.overall.se**2 for s in with_small.schools[1:]]),
    )
    assert [s.estimate for s in others if s] == pytest.approx(fit.estimate, abs=1e-12)
