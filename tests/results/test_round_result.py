"""The round's result from the database: by hand on a tiny round, against the analysis library on
per-respondent data, and through the API on every backend."""

from __future__ import annotations

import dataclasses
import math

import msgspec
import numpy as np
import pytest

from analysis import Design, School, Settings, Stratum, ValidityCounts, analyse_responses
from analysis.improvement import improvement
from analysis.responses import totals_from_responses
from support.helpers import fetch
from support.respondents import QUESTIONNAIRES, analysis_inputs, questionnaire_of, random_respondents, store, uniform
from survey_service.core.groups import SCHOOL_GROUPS
from survey_service.demo.county import DEPUTIES, RESIDENT_POPULATION, demo_schools
from survey_service.ledger import tally
from survey_service.results.service import round_result

CODES = [s.code for s in demo_schools()]
PARENTS_WQ01 = next(s.parents for s in demo_schools() if s.code == "WQ01")


def stratum_variance(y: list[float], population: int) -> float:
    """Var of a single stratum's mean with the finite population correction: (1 − n/N) s²/n."""
    n = len(y)
    return (1 - n / population) * float(np.var(y, ddof=1)) / n


async def test_a_tiny_round_computed_by_hand(demo_links, database):
    survey_id = demo_links[0].survey
    last_three = {"education_quality": "dissatisfied", "government_effort": "dissatisfied", "overall": "dissatisfied"}
    parents = [
        uniform("parent", "WQ01", "satisfied"),
        uniform("parent", "WQ01", "fairly_satisfied"),
        uniform("parent", "WQ01", "dissatisfied"),
        uniform("parent", "WQ01", "basically_satisfied", **last_three),
    ]
    deputies = [
        uniform("deputy", None, "satisfied"),
        uniform("deputy", None, "satisfied"),
        uniform("deputy", None, "satisfied", moral_education="unknown", equity_policy="dissatisfied"),
    ]
    reviewed = dataclasses.replace(uniform("parent", "WQ02", "satisfied"), valid=False, exclusion="organised")
    all_unknown = uniform("public", None, "unknown")
    await store(database, survey_id, parents + deputies + [reviewed, all_unknown])
    result = await round_result(survey_id)

    y_parent, y_deputy = [1, 1, 0, 10 / 13], [1, 1, 11 / 12]  # 13 rated items in the social questionnaire
    p, d = float(np.mean(y_parent)), float(np.mean(y_deputy))
    var_p, var_d = stratum_variance(y_parent, PARENTS_WQ01), stratum_variance(y_deputy, DEPUTIES)
    assert result.groups["parent"].estimate == pytest.approx(p, abs=1e-12)
    assert result.groups["parent"].se == pytest.approx(math.sqrt(var_p), abs=1e-12)
    assert result.groups["deputy"].estimate == pytest.approx(d, abs=1e-12)
    assert result.groups["deputy"].se == pytest.approx(math.sqrt(var_d), abs=1e-12)
    overall = result.overall
    assert overall.group_weights == {"parent": 0.5, "deputy": 0.5}
    assert overall.estimate == pytest.approx(0.5 * p + 0.5 * d, abs=1e-12)
    assert overall.se == pytest.approx(math.sqrt(0.25 * (var_p + var_d)), abs=1e-12)
    assert overall.n == 7 and overall.df == 7 - 2
    assert overall.verdict == "inconclusive"
    # Items: the deputy who answered 不了解 leaves moral_education's denominator.
    moral = next(row for row in result.items if row.key == "moral_education")
    assert moral.groups["deputy"].n == 2 and moral.groups["parent"].n == 4
    assert moral.groups["parent"].estimate == pytest.approx(0.75)
    assert result.validity.returned == 9 and result.validity.valid == 7
    assert result.validity.excluded == {"organised": 1, "no_rated_answer": 1}


def demo_design(**settings) -> Design:
    schools = demo_schools()
    strata = [
        Stratum(group=g.value, school=s.code, population=getattr(s, f"{g.value}s"))
        for s in schools
        for g in SCHOOL_GROUPS
    ]
    strata += [Stratum(group="deputy", population=DEPUTIES), Stratum(group="public")]
    return Design(
        schools=[School(code=s.code, name=s.name, stage=s.stage.value, location=s.location.value) for s in schools],
        strata=strata,
        settings=Settings(**settings),
    )


def flat(value, path: str = "") -> dict[str, object]:
    """Nested JSON as {path: leaf}; list rows are keyed by their `key` (order-free)."""
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in flat(item, f"{path}.{key}").items()}
    if isinstance(value, list):
        return {
            k: v
            for i, item in enumerate(value)
            for k, v in flat(item, f"{path}[{item.get('key', i) if isinstance(item, dict) else i}]").items()
        }
    return {path: value}


def assert_same(got, expected) -> None:
    got, expected = flat(got), flat(expected)
    assert got.keys() == expected.keys()
    for path, value in got.items():
        if isinstance(value, float):
            assert value == pytest.approx(expected[path], rel=1e-9, abs=1e-12), path
        else:
            assert value == expected[path], path


async def test_the_sql_totals_agree_with_per_respondent_analysis(demo_links, database):
    survey_id = demo_links[0].survey
    respondents = random_respondents(np.random.default_rng(7), 400, CODES)
    await store(database, survey_id, respondents)
    got = msgspec.to_builtins(await round_result(survey_id, method="beta"))
    valid = sum(r.valid for r in respondents)
    expected = msgspec.to_builtins(
        analyse_responses(
            # The round's 常住人口 sizes the national sample its 迎检预判 assumes.
            demo_design(method="beta", resident_population=RESIDENT_POPULATION),
            **analysis_inputs(respondents),
            validity_counts=ValidityCounts(
                returned=len(respondents), valid=valid, excluded={"excluded_by_review": len(respondents) - valid}
            ),
        )
    )
    # The round's 整改清单 tests each questionnaire's items apart (their wording differs): so does this.
    inputs = analysis_inputs(respondents)
    cells, _ = totals_from_responses(inputs["schools"], inputs["groups"], inputs["y"])
    item_sets = []
    for qid, q in QUESTIONNAIRES.items():
        mask = np.array([questionnaire_of(r.group).id == qid for r in respondents])
        picked = {k: [v for v, m in zip(inputs[k], mask) if m] for k in ("schools", "groups")}
        columns = [inputs["item_names"].index(item.id) for item in q.rated_items]  # in the questionnaire's order
        _, items = totals_from_responses(
            picked["schools"],
            picked["groups"],
            inputs["y"][mask],
            item_names=[item.id for item in q.rated_items],
            item_recognised=inputs["item_recognised"][mask][:, columns],
            item_excluded=inputs["item_excluded"][mask][:, columns],
        )
        item_sets.append((qid, items))
    expected["improvement"] = msgspec.to_builtins(
        improvement(demo_design(method="beta", resident_population=RESIDENT_POPULATION), cells, item_sets)
    )
    assert got["method"] == "beta" and got["improvement"]["tested"] > 0
    assert_same(got, expected)
    estimates = [row["overall"]["estimate"] for row in got["items"]]
    assert estimates == sorted(estimates)


async def test_the_api_is_for_bureau_users_only(client, demo_links):
    got = await client.get(f"/api/v1/surveys/{demo_links[0].survey}/results")
    assert got.status_code == 401


async def test_the_api_serves_the_result(bureau_client, demo_links, settings):
    client = bureau_client
    survey_id = demo_links[0].survey
    await store(settings, survey_id, random_respondents(np.random.default_rng(3), 120, CODES))
    got = await client.get(f"/api/v1/surveys/{survey_id}/results")
    assert got.status_code == 200, got.text
    body = got.json()
    assert {"target", "level", "method", "design", "overall", "groups", "schools", "items", "validity"} <= body.keys()
    assert body["target"] == 0.85 and body["level"] == 0.95 and body["method"] == "logit"
    fields = {"estimate", "se", "ci_low", "ci_high", "n", "n_eff", "deff", "df"}
    assert fields | {"verdict", "p_value"} <= body["overall"].keys()
    assert all(fields <= g.keys() for g in body["groups"].values())
    assert body["validity"]["returned"] == 120
    wilson = (await client.get(f"/api/v1/surveys/{survey_id}/results?method=wilson")).json()
    assert wilson["method"] == "wilson"
    assert wilson["overall"]["estimate"] == pytest.approx(body["overall"]["estimate"])


async def test_an_unknown_round_or_method_is_an_error(bureau_client, demo_links):
    client = bureau_client
    missing = await client.get("/api/v1/surveys/999/results")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found" and "999" in missing.json()["message"]
    bad = await client.get(f"/api/v1/surveys/{demo_links[0].survey}/results?method=magic")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_body"


async def test_a_round_of_sampled_schools_is_computed_with_schools_as_clusters(demo_links, database):
    survey_id = demo_links[0].survey
    await store(database, survey_id, random_respondents(np.random.default_rng(21), 400, CODES))
    strata = await round_result(survey_id)
    await fetch(database, "UPDATE survey SET design = 'clusters' WHERE id = ?", survey_id)
    clusters = await round_result(survey_id)
    assert strata.design.type == "strata" and clusters.design.type == "clusters"
    # The same answers: the same point estimate, a different (between-school) variance.
    assert clusters.overall.estimate == pytest.approx(strata.overall.estimate, abs=1e-12)
    assert clusters.overall.se != pytest.approx(strata.overall.se, rel=1e-3)


async def test_a_round_without_answers_has_no_estimate(demo_links, database):
    result = await round_result(demo_links[0].survey)
    assert result.overall is None and result.groups == {}
    assert result.validity.returned == 0 and result.coverage.strata_answered == 0


async def test_an_unknown_questionnaire_version_falls_back(demo_links, database):
    survey_id = demo_links[0].survey
    await store(database, survey_id, random_respondents(np.random.default_rng(9), 60, CODES))
    before = await round_result(survey_id)
    await fetch(database, "UPDATE response SET questionnaire_version = 'old' WHERE respondent_group = 'parent'")
    await tally.rebuild(survey_id)  # changed outside the service: recount, as `survey-service retally` does
    after = await round_result(survey_id)
    assert after.overall.estimate == pytest.approx(before.overall.estimate, abs=1e-12)
    assert any(note.code == "items_skipped" for note in after.notes)
    assert all("parent" not in row.groups for row in after.items)
