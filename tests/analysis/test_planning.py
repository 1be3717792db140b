"""Sample sizes and quotas: the national rule and the statistical rule."""

from __future__ import annotations

import pytest

from analysis.design import Design, School, Stratum
from analysis.planning import (
    group_targets,
    largest_remainder,
    national_sample_size,
    plan_quotas,
    statistical_sample_size,
)


def test_national_rule():
    assert national_sample_size(60_000) == 600  # 乌恰县-like: 60,000 × 1.5‰ = 90 < 600
    assert national_sample_size(1_000_000) == 1500
    assert national_sample_size(399_999) == 600
    assert national_sample_size(400_001) == 601  # 600.0015 rounds up, no minimum any more


def test_statistical_rule():
    assert statistical_sample_size(0.03) == 545  # 1.96² × 0.85 × 0.15 / 0.03² = 544.2
    assert statistical_sample_size(0.05, deff=2.0) == 392
    # A small population needs fewer: n0 N / (n0 + N − 1).
    assert statistical_sample_size(0.03, population=500) == 261
    assert statistical_sample_size(0.01, population=50) == 50


def test_largest_remainder_adds_up_and_respects_caps():
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]
    assert largest_remainder(100, [5, 1, 1, 1], [1000, 3, 1000, 1000]) == [69, 3, 14, 14]
    assert largest_remainder(10, [1, 1], [2, 3]) == [2, 3]  # caps below the total
    assert sum(largest_remainder(997, [7, 3, 11, 13, 2])) == 997


def test_parents_half_others_equal():
    caps = {g: float("inf") for g in ["student", "parent", "teacher", "deputy", "public"]}
    targets = group_targets(600, caps)
    assert targets["parent"] == 300
    assert {targets[g] for g in caps if g != "parent"} == {75}


@pytest.fixture
def county() -> Design:
    schools = [School(code=c) for c in ("A", "B", "C")]
    strata = [
        Stratum(group=g, school=c, population=p)
        for c, sizes in {"A": (700, 600, 40), "B": (200, 180, 12), "C": (100, 90, 8)}.items()
        for g, p in zip(("student", "parent", "teacher"), sizes, strict=True)
    ]
    strata += [Stratum(group="principal", school=c, population=1) for c in "ABC"]
    strata += [Stratum(group="deputy", population=30), Stratum(group="public")]
    return Design(schools=schools, strata=strata)


def test_quotas(county):
    plan = plan_quotas(county, 600)
    assert plan.planned == 600 == sum(q.quota for q in plan.quotas)
    assert plan.groups["parent"] >= 300
    assert plan.groups["principal"] == 3 and plan.groups["deputy"] == 30  # capped
    for q in plan.quotas:
        assert q.population is None or q.quota <= q.population
    students = {q.school: q.quota for q in plan.quotas if q.group == "student"}
    assert students["A"] > students["B"] > students["C"]  # in proportion to enrolment
    assert sum(students.values()) == plan.groups["student"]
