"""The 整改清单's test statistic against R's survey package (tests/reference/make_improvement.R), on the
generated school survey of make_reference.R (lonely strata, census strata, a group whose every answer is
认可, a group without known population), in both designs: the rest of the county without each school,
the school cell, their difference, and each group against the other groups, per item."""

from __future__ import annotations

import dataclasses
import functools

import numpy as np
import pytest

from analysis.cells import build_cells, cell_of, item_totals, take
from analysis.design import GROUPS, group_populations
from analysis.estimators import summarise
from analysis.group_weights import base_weights, normalise
from analysis.improvement import group_contrasts, rest_of_county
from support.reference_data import read_json

DESIGNS = {"strata": {}, "clusters": {"design": "clusters", "schools_in_county": 12}}


@pytest.fixture(scope="module")
def reference() -> dict:
    return read_json("improvement_reference.json")


def _inputs(school_design, school_totals, design_name):
    design = school_design(**DESIGNS[design_name])
    totals, items = school_totals
    names, item_index, recognised, _ = item_totals(items)
    cells = take(build_cells(design, totals), cell_of(totals, items))
    base = base_weights(design.settings, group_populations(design))
    return design, cells, names, item_index, recognised, base


@pytest.mark.parametrize("design_name", sorted(DESIGNS))
def test_rest_of_county_matches_r(school_design, school_totals, reference, design_name):
    design, cells, names, item_index, recognised, base = _inputs(school_design, school_totals, design_name)
    rest, var, _ = rest_of_county(cells, recognised, item_index, len(names), design.settings, base)
    codes = [s.code for s in design.schools]
    checked = 0
    for item, by_item in reference[design_name].items():
        for school, r in by_item["schools"].items():
            s, k = codes.index(school), names.index(item)
            assert rest[s, k] == pytest.approx(r["rest"]["estimate"], abs=1e-12)
            assert np.sqrt(var[s, k]) == pytest.approx(r["rest"]["se"], abs=1e-12)
            checked += 1
    assert checked == 8 * 5


def test_school_cell_and_difference_match_r(school_design, school_totals, reference):
    """The school cell (within the school) and cell − rest with the joint svyby: independent sides."""
    design, cells, names, item_index, recognised, base = _inputs(school_design, school_totals, "strata")
    K, S = len(names), len(design.schools)
    within = dataclasses.replace(cells, clustered=False)
    domain = np.where(cells.school >= 0, cells.school * K + item_index, -1)
    weigh = functools.partial(normalise, design.settings)
    cell = summarise(within, recognised, domain, S * K, base, weigh).combined
    rest, rest_var, _ = rest_of_county(cells, recognised, item_index, K, design.settings, base)
    codes = [s.code for s in design.schools]
    for item, by_item in reference["strata"].items():
        for school, r in by_item["schools"].items():
            s, k = codes.index(school), names.index(item)
            assert cell.estimate[s * K + k] == pytest.approx(r["cell"]["estimate"], abs=1e-12)
            assert np.sqrt(cell.var[s * K + k]) == pytest.approx(r["cell"]["se"], abs=1e-12)
            difference = cell.estimate[s * K + k] - rest[s, k]
            assert difference == pytest.approx(r["difference"]["estimate"], abs=1e-12)
            se = np.sqrt(cell.var[s * K + k] + rest_var[s, k])
            assert se == pytest.approx(r["difference"]["se"], abs=1e-12)


@pytest.mark.parametrize("design_name", sorted(DESIGNS))
def test_group_against_the_other_groups_matches_r(school_design, school_totals, reference, design_name):
    design, cells, names, item_index, recognised, base = _inputs(school_design, school_totals, design_name)
    difference, var, _, _, _, testable = group_contrasts(
        cells, recognised, item_index, len(names), design.settings, base
    )
    checked = 0
    for item, by_item in reference[design_name].items():
        for group, r in by_item["groups"].items():
            k, g = names.index(item), GROUPS.index(group)
            assert testable[k, g]
            assert difference[k, g] == pytest.approx(r["estimate"], abs=1e-12)
            assert np.sqrt(var[k, g]) == pytest.approx(r["se"], abs=1e-12)
            checked += 1
    assert checked == 8 * 6
