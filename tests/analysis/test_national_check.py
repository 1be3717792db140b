"""迎检预判: the chance that the national team's own sample finds the county at or above the target, on
rounds whose answer is known (a census far above the target, one exactly at it), by hand on a small
round, and the national sample sized from 常住人口 by the national rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from analysis import Design, School, Settings, Stratum, analyse_responses
from analysis.national_check import national_sample, pass_probability, verdict

SCHOOLS = [School(code=f"S{k}") for k in range(4)]
SIZES = {"parent": 600, "student": 500, "teacher": 40}
DEPUTIES = 150


def round_of(y_of, n_of=None, resident_population=72_000, **settings) -> tuple:
    """A round of four schools × three groups plus the deputies: y_of(group, n) gives a stratum's answers,
    n_of(group) how many of its people answered (default: all of them, a census)."""
    strata = [Stratum(group=g, school=s.code, population=size) for s in SCHOOLS for g, size in SIZES.items()]
    strata.append(Stratum(group="deputy", population=DEPUTIES))
    schools, groups, y = [], [], []
    for stratum in strata:
        n = stratum.population if n_of is None else n_of(stratum.group)
        schools += [stratum.school] * n
        groups += [stratum.group] * n
        y += list(y_of(stratum.group, n))
    design = Design(
        schools=SCHOOLS, strata=strata, settings=Settings(resident_population=resident_population, **settings)
    )
    result = analyse_responses(design, schools, groups, np.array(y, dtype=float))
    return result, result.national_check


def two_values(mean: float):
    """Answers of 0.7 and 1.0 (shares of items) with the given mean (a multiple of 0.3/n apart)."""

    def y_of(group: str, n: int) -> np.ndarray:
        high = round((mean - 0.7) / 0.3 * n)
        return np.array([1.0] * high + [0.7] * (n - high))

    return y_of


def test_a_census_far_above_the_target_passes_almost_surely():
    result, check = round_of(two_values(0.97))
    assert check.se_round == 0  # every stratum fully observed: the true rates are known
    assert check.expected == pytest.approx(0.97, abs=0.01)
    assert check.probability > 1 - 1e-9 and check.verdict == "likely_pass"


def test_a_round_exactly_at_the_target_with_no_uncertainty_left_is_a_coin_toss():
    result, check = round_of(two_values(0.85))
    assert check.expected == pytest.approx(0.85, abs=1e-12) and check.se_round == 0
    assert check.probability == pytest.approx(0.5, abs=1e-9)  # only the national sample decides
    assert pass_probability(0.85, 1e-12, 0.85) == pytest.approx(0.5)


def test_far_below_the_target_fails_almost_surely():
    _, check = round_of(two_values(0.75))
    assert check.probability < 1e-9 and check.verdict == "likely_fail"


def test_the_chance_rises_with_the_estimate_and_falls_with_the_target():
    chances = []
    for mean in (0.80, 0.83, 0.845, 0.85, 0.855, 0.87, 0.90):
        # A sample of each stratum (not a census): the true rates uncertain too.
        _, check = round_of(
            two_values(mean), n_of=lambda g: {"parent": 40, "student": 20, "teacher": 10, "deputy": 20}[g]
        )
        chances.append(check.probability)
    assert chances == sorted(chances) and chances[0] < 0.05 and chances[-1] > 0.95
    low = round_of(two_values(0.86), target=0.84)[1].probability
    high = round_of(two_values(0.86), target=0.87)[1].probability
    assert low > high


def test_the_probability_by_hand_on_a_sampled_round():
    """Expected = Σ a_g p̂_g with a_g the national respondents' shares; variance = the round's Σ a_g² SE_g²
    plus Σ a_g² S²_g / n_g (1 − n_g/N_g), S²_g the group's weighted element variance of y."""
    rng = np.random.default_rng(11)
    result, check = round_of(
        lambda g, n: rng.binomial(13, 0.86, n) / 13,
        n_of=lambda g: {"parent": 30, "student": 20, "teacher": 8, "deputy": 15}[g],
        resident_population=500_000,  # 750 asked
    )
    assert check.sample_size == 750 and not check.minimum_assumed
    n = {g.group: g.sample for g in check.groups}
    # 家长 half; no principal answered this round, so the three other groups share the other half.
    assert n == {"student": 125, "parent": 375, "teacher": 125, "deputy": 125}
    a = {g: n[g] / 750 for g in n}
    population = {"parent": 2400, "student": 2000, "teacher": 160, "deputy": 150}
    expected = sum(a[g] * result.groups[g].estimate for g in a)
    round_var = sum(a[g] ** 2 * result.groups[g].se ** 2 for g in a)
    national_var = sum(
        a[g] ** 2
        * next(x.element_sd for x in check.groups if x.group == g) ** 2
        / n[g]
        * max(0, 1 - n[g] / population[g])
        for g in a
    )
    assert check.expected == pytest.approx(expected, abs=1e-12)
    assert check.se_round == pytest.approx(math.sqrt(round_var), abs=1e-12)
    assert check.se_national == pytest.approx(math.sqrt(national_var), abs=1e-12)
    z = (expected - 0.85) / math.sqrt(round_var + national_var)
    assert check.probability == pytest.approx(stats.norm.cdf(z), abs=1e-12)


def test_the_element_variance_is_the_rounds_not_p_times_one_minus_p():
    """y is a share of items: its spread is far below a yes/no answer's p(1 − p)."""
    rng = np.random.default_rng(5)
    _, check = round_of(lambda g, n: rng.binomial(13, 0.86, n) / 13, n_of=lambda g: 10 if g == "teacher" else 30)
    parent = next(g for g in check.groups if g.group == "parent")
    assert parent.element_sd == pytest.approx(math.sqrt(0.86 * 0.14 / 13), rel=0.3)
    assert parent.element_sd < 0.5 * math.sqrt(0.86 * 0.14)


def test_the_90_percent_safe_rate_gives_90_percent_from_the_national_sample_alone():
    rng = np.random.default_rng(8)
    _, check = round_of(lambda g, n: rng.binomial(13, 0.9, n) / 13, n_of=lambda g: 10 if g == "teacher" else 30)
    # At the safe rate with the round's own spread shape, P(national ≥ target) = 90%: the rate exceeds the
    # target by z_0.9 national standard errors, here about a point.
    assert 0.85 < check.safe_rate < 0.87
    assert check.safe_estimate > check.safe_rate  # the round's own uncertainty asks for more
    z = stats.norm.ppf(0.9)
    assert (check.safe_rate - 0.85) / z == pytest.approx(check.se_national, rel=0.25)


def test_a_group_whose_answers_are_all_equal_still_carries_uncertainty():
    """Every deputy 认可 (S² = 0 and SE = 0 in the round): a few dozen answers cannot prove a true 100%."""
    rng = np.random.default_rng(2)
    _, check = round_of(
        lambda g, n: np.ones(n) if g == "deputy" else rng.binomial(13, 0.85, n) / 13,
        n_of=lambda g: 10 if g == "teacher" else 20,
    )
    deputy = next(g for g in check.groups if g.group == "deputy")
    assert deputy.estimate == 1 and deputy.se > 0 and deputy.element_sd > 0


def test_the_national_sample_from_the_resident_population():
    groups = ["student", "parent", "teacher", "principal", "deputy", "public"]
    total, split = national_sample(72_000, groups, {})
    assert total == 600 and split["parent"] == 300 and {split[g] for g in groups if g != "parent"} == {60}
    assert national_sample(0, groups, {})[0] == 600  # unknown: the national minimum
    assert national_sample(399_999, groups, {})[0] == 600
    assert national_sample(1_000_000, groups, {})[0] == 1500  # 1.5‰
    total, split = national_sample(72_000, groups, {"principal": 20})
    assert split["principal"] == 20 and split["parent"] >= 300 and sum(split.values()) == 600


def test_an_unknown_resident_population_says_the_minimum_was_assumed():
    _, check = round_of(two_values(0.9), resident_population=0)
    assert check.sample_size == 600 and check.minimum_assumed


def test_the_national_figure_can_weigh_groups_as_the_round_does():
    def y_of(g, n):
        return two_values(0.97 if g == "parent" else 0.76)(g, n)

    _, by_respondents = round_of(y_of)
    _, by_round = round_of(y_of, national_weighting="round", group_weights={"parent": 0.9, "student": 0.1})
    assert by_round.weighting == "round"
    assert {g.group: round(g.weight, 12) for g in by_round.groups} == {
        "parent": 0.9,
        "student": 0.1,
        "teacher": 0.0,
        "deputy": 0.0,
    }
    assert by_round.expected > by_respondents.expected


def test_verdict_thresholds():
    assert [verdict(p) for p in (0.95, 0.9, 0.899, 0.5, 0.499, 0.0)] == [
        "likely_pass",
        "likely_pass",
        "at_risk",
        "at_risk",
        "likely_fail",
        "likely_fail",
    ]


@pytest.mark.parametrize("design", ["strata", "clusters"])
def test_weighed_as_the_round_the_true_rates_are_as_uncertain_as_the_rounds_figure(design):
    """With the round's own group weights, the uncertainty about the true rates is the round's standard error
    of its overall figure, the between-group covariance of the clusters design included."""
    rng = np.random.default_rng(13)
    result, check = round_of(
        lambda g, n: rng.binomial(13, 0.86, n) / 13,
        n_of=lambda g: 10 if g == "teacher" else 25,
        national_weighting="round",
        design=design,
        schools_in_county=8 if design == "clusters" else None,
    )
    assert check.expected == pytest.approx(result.overall.estimate, abs=1e-12)
    assert check.se_round == pytest.approx(result.overall.se, rel=1e-10)
