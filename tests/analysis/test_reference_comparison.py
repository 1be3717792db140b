"""Year over year against R's survey package (tests/reference/make_comparison.R): two generated rounds
of one county stacked with the round in the strata, svyby + svycontrast for each difference.

Each round is analysed on its own (as the service does), then `compare`; the difference must agree
with R's to 1e-9 and its standard error to 1e-7, the df and the two-sided p with R's too.
"""

from __future__ import annotations

import numpy as np
import pytest

from analysis.comparison import compare
from analysis.design import Design, School, Settings, Stratum
from analysis.recognition import recognition_matrix
from analysis.report import analyse
from analysis.responses import totals_from_responses
from support.reference_data import read_csv, read_json

ITEMS = [f"item{j}" for j in range(1, 7)]


def _round_result(name: str):
    schools = [School(code=r["school"]) for r in read_csv("comparison_schools.csv")]
    strata = [
        Stratum(
            school=r["school"] or None, group=r["group"], population=int(r["population"]) if r["population"] else None
        )
        for r in read_csv("comparison_strata.csv")
        if r["round"] == name
    ]
    rows = [r for r in read_csv("comparison_responses.csv") if r["round"] == name]
    answers = np.array([[np.nan if r[i] == "" else float(r[i]) for i in ITEMS] for r in rows])
    excluded = np.isnan(answers)
    recognised = np.nan_to_num(answers) == 1
    cells, items = totals_from_responses(
        [r["school"] or None for r in rows],
        [r["group"] for r in rows],
        recognition_matrix(recognised, excluded),
        item_names=ITEMS,
        item_recognised=recognised,
        item_excluded=excluded,
    )
    return analyse(Design(schools=schools, strata=strata, settings=Settings(min_cell_size=1)), cells, items)


@pytest.fixture(scope="module")
def reference() -> dict:
    return read_json("comparison_reference.json")


@pytest.fixture(scope="module")
def comparison(reference):
    wording = {item: "同一表述" for item in ITEMS}
    changed = wording | {item: "新的表述" for item in reference["changed_items"]}
    return compare(
        _round_result("current"),
        _round_result("previous"),
        previous_round=1,
        previous_title="上一轮",
        current_wording=changed,
        previous_wording=wording,
    )


def _agrees(found, r: dict) -> None:
    assert found.current == pytest.approx(r["current"], abs=1e-9)
    assert found.previous == pytest.approx(r["previous"], abs=1e-9)
    assert found.difference == pytest.approx(r["difference"], abs=1e-9)
    assert found.se == pytest.approx(r["se"], abs=1e-7)
    assert found.df == max(r["df"], 1)  # R's df 0 (a census) is raised to 1, as for the intervals
    if r["p_value"] is None:  # R's 0/0: every stratum a census, the difference has no sampling error
        assert found.se == 0 and found.p_value == 0.0 and found.verdict != "no_change"
    else:
        assert found.p_value == pytest.approx(r["p_value"], abs=1e-7)
        expected = "no_change" if r["p_value"] >= 0.05 else "rise" if r["difference"] > 0 else "fall"
        assert found.verdict == expected
    if "ci_low" in r:
        assert found.ci_low == pytest.approx(r["ci_low"], abs=1e-7)
        assert found.ci_high == pytest.approx(r["ci_high"], abs=1e-7)


def test_overall(comparison, reference):
    _agrees(comparison.overall, reference["overall"])
    assert comparison.overall.verdict == "rise"


@pytest.mark.parametrize("group", ["student", "parent", "teacher", "principal", "deputy", "public"])
def test_groups(comparison, reference, group):
    found = {c.key: c for c in comparison.groups}[group]
    _agrees(found, reference["groups"][group])


@pytest.mark.parametrize("school", [f"S0{k}" for k in range(1, 7)])
def test_schools(comparison, reference, school):
    found = {c.key: c for c in comparison.schools}[school]
    _agrees(found, reference["schools"][school])


def test_items(comparison, reference):
    found = {c.key: c for c in comparison.items}
    for item, r in reference["items"].items():
        if item in reference["changed_items"]:  # R computes it; the service never compares it
            assert found[item].verdict == "not_comparable" and found[item].reason == "changed"
            assert found[item].difference is None and found[item].p_value is None
            continue
        _agrees(found[item], r)
