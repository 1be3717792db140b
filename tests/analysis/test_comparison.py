"""Year over year on constructed rounds: a large true rise is 显著提高, a round against itself
无显著变化, a large fall 显著下降; a changed item, a new item and a tiny school are 不可比."""

from __future__ import annotations

import numpy as np

from analysis.comparison import compare, difference_tests
from analysis.design import Design, School, Settings, Stratum
from analysis.report import analyse_responses

SCHOOLS = ["A", "B", "C", "D"]


def _round(rates: dict[str, float], seed: int, tiny: str | None = None):
    """A county of four schools (students and parents), items q1–q3 at the given 认可 rate each."""
    rng = np.random.default_rng(seed)
    schools, groups, answers = [], [], []
    for code in SCHOOLS:
        for group in ("student", "parent"):
            n = 2 if code == tiny else 80
            schools += [code] * n
            groups += [group] * n
            answers.append(rng.random((n, 3)) < np.array([rates["q1"], rates["q2"], rates["q3"]]))
    recognised = np.vstack(answers)
    excluded = np.zeros_like(recognised)
    design = Design(
        schools=[School(code=c, name=f"学校{c}") for c in SCHOOLS],
        strata=[Stratum(school=c, group=g, population=600) for c in SCHOOLS for g in ("student", "parent")],
        settings=Settings(),
    )
    return analyse_responses(
        design,
        schools,
        groups,
        recognised.mean(axis=1),
        item_names=["q1", "q2", "q3"],
        item_recognised=recognised,
        item_excluded=excluded,
    )


def test_a_large_true_rise_is_significant():
    before = _round({"q1": 0.6, "q2": 0.6, "q3": 0.6}, seed=1)
    now = _round({"q1": 0.95, "q2": 0.95, "q3": 0.95}, seed=2)
    found = compare(now, before)
    assert found.overall.verdict == "rise" and found.overall.p_value < 1e-6
    assert found.overall.ci_low > 0.2
    assert {c.verdict for c in found.groups} == {"rise"}
    assert {c.verdict for c in found.schools} == {"rise"}
    assert {c.verdict for c in found.items} == {"rise"}


def test_a_large_fall_is_significant():
    found = compare(
        _round({"q1": 0.6, "q2": 0.6, "q3": 0.6}, seed=3), _round({"q1": 0.95, "q2": 0.9, "q3": 0.9}, seed=4)
    )
    assert found.overall.verdict == "fall" and found.overall.ci_high < 0


def test_identical_rounds_show_no_change():
    result = _round({"q1": 0.85, "q2": 0.8, "q3": 0.9}, seed=5)
    found = compare(result, result)
    lines = [found.overall, *found.groups, *found.items, *found.schools]
    assert all(c.verdict == "no_change" and c.difference == 0 and c.p_value == 1.0 for c in lines)
    assert all(c.ci_low < 0 < c.ci_high for c in lines)


def test_same_truth_mostly_no_change():
    """Two independent rounds of the same county: at 95% about one line in twenty may differ by chance."""
    rates = {"q1": 0.85, "q2": 0.8, "q3": 0.9}
    verdicts = [compare(_round(rates, seed=10 + k), _round(rates, seed=50 + k)).overall.verdict for k in range(40)]
    assert verdicts.count("no_change") >= 34


def test_changed_new_and_tiny_lines_are_not_comparable():
    before = _round({"q1": 0.8, "q2": 0.8, "q3": 0.8}, seed=6)
    now = _round({"q1": 0.8, "q2": 0.8, "q3": 0.8}, seed=7, tiny="D")
    before_items = {row.key: row for row in before.items if row.key != "q3"}  # q3 is new this round
    found = compare(
        now,
        before,
        previous_items=before_items,
        current_wording={"q1": "您对……是否满意？|满意,不满意", "q2": "新问法|满意,不满意"},
        previous_wording={"q1": "您对……是否满意？|满意,不满意", "q2": "旧问法|满意,不满意"},
    )
    items = {c.key: c for c in found.items}
    assert items["q1"].verdict != "not_comparable"
    assert (items["q2"].verdict, items["q2"].reason) == ("not_comparable", "changed")
    assert (items["q3"].verdict, items["q3"].reason) == ("not_comparable", "missing")
    assert items["q2"].difference is None and items["q2"].current is not None
    school = {c.key: c for c in found.schools}["D"]
    assert (school.verdict, school.reason) == ("not_comparable", "too_few")
    assert school.name == "学校D"


def test_difference_tests_are_vectorised():
    found = difference_tests(
        np.array([0.9, 0.8, 0.5]),
        np.array([1e-4, 0.0, 4e-4]),
        np.array([100, 0, 50]),
        np.array([0.8, 0.7, 0.5]),
        np.array([1e-4, 0.0, 4e-4]),
        np.array([100, 0, 50]),
        0.95,
    )
    assert list(found["verdict"]) == ["rise", "rise", "no_change"]
    assert found["df"].tolist() == [200, 1, 100]
    assert found["p"][1] == 0.0  # two censuses: the difference is certain
