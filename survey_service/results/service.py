"""The result of a round from the database: the design from its roster and settings, per-stratum
totals from the database, then `analysis.analyse`. The CLI `report` and the API both call
`round_result`.

Totals come from the fast scan (scan.py) when it applies; otherwise from a GROUP BY per stratum
(group × school) and questionnaire version: n, Σy, Σy², Σscore, Σscore² as SQL sums the stored
values, and the stratum's `choices` codes concatenated into one string for the item counts.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from analysis import Design, School, Settings, Stratum, SurveyResult, analyse
from analysis.results import Note
from piccolo.engine.postgres import PostgresEngine

from survey_service.distribution.tables import Link
from survey_service.errors import NotFound
from survey_service.groups import COUNTY_GROUPS, SCHOOL_GROUPS
from survey_service.questionnaire import Questionnaire, load_questionnaires
from survey_service.resources import questionnaires_dir
from survey_service.respond.tables import Response
from survey_service.results import scan
from survey_service.results.aggregates import Aggregates
from survey_service.results.choices import ItemCounter
from survey_service.results.reasons import REASON_SUMS
from survey_service.schools.tables import School as SchoolRow
from survey_service.surveys.tables import Survey

STRATUM_SQL = """
SELECT respondent_group AS grp, school, questionnaire_id AS qid, questionnaire_version AS version,
       COUNT(*) AS n, SUM(recognition) AS sum_y, SUM(recognition * recognition) AS sum_y2,
       COUNT(score) AS n_score, SUM(score) AS sum_score, SUM(score * score) AS sum_score2,
       {concat}(choices, '') AS codes
FROM response
WHERE survey = {{}} AND valid AND recognition IS NOT NULL
GROUP BY respondent_group, school, questionnaire_id, questionnaire_version
"""

VALIDITY_SQL = f"SELECT COUNT(*) AS returned, {REASON_SUMS} FROM response WHERE survey = {{}}"


@functools.cache
def _bundled_questionnaires() -> dict[str, Questionnaire]:
    return load_questionnaires(questionnaires_dir())


async def round_result(survey_id: int, method: str | None = None,
                       questionnaires: Mapping[str, Questionnaire] | None = None) -> SurveyResult:
    """社会认可度 of a round with its interval and verdict; NotFound for an unknown round."""
    survey = await (Survey.select(Survey.target, Survey.confidence_level, Survey.group_weights,
                                  Survey.county_populations)
                    .where(Survey.id == survey_id).first().output(load_json=True))
    if survey is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    schools = await (SchoolRow.select().where(SchoolRow.survey == survey_id)
                     .order_by(SchoolRow.code))
    sums = await _aggregates(survey_id, {row["id"]: row["code"] for row in schools},
                             questionnaires or _bundled_questionnaires())
    totals = sums.cell_totals()
    answered = {(t.group, t.school) for t in totals}
    design = Design(schools=[School(code=s["code"], name=s["name"], stage=s["stage"] or None,
                                    location=s["location"] or None) for s in schools],
                    strata=_strata(schools, survey["county_populations"] or {}, answered),
                    settings=_settings(survey, method))
    result = analyse(design, totals, sums.item_totals(), sums.validity)
    if sums.skipped:
        result.notes.append(Note(code="items_skipped", message=(
            f"{sums.skipped} respondents answered a questionnaire version not on file: "
            "counted in the estimate, left out of the item breakdown")))
    return result


async def _aggregates(survey_id: int, code_of: dict[int, str],
                      questionnaires: Mapping[str, Questionnaire]) -> Aggregates:
    """The fast scan when it applies (see scan.py), else GROUP BY per stratum in SQL."""
    links = await Link.select(Link.id, Link.school, Link.respondent_group).where(Link.survey == survey_id)
    key_of_link = {link["id"]: (link["respondent_group"], code_of.get(link["school"]))
                   for link in links}
    postgres = isinstance(Response._meta.db, PostgresEngine)
    dialect = ("string_agg", "chr") if postgres else ("group_concat", "char")
    if links:
        fast = await scan.read(survey_id, links, key_of_link, questionnaires, dialect)
        if fast is not None:
            return fast
    rows = await Response.raw(STRATUM_SQL.format(concat=dialect[0]), survey_id)
    sums = _stratum_totals(rows, code_of, questionnaires)
    row = (await Response.raw(VALIDITY_SQL, survey_id))[0]
    sums.set_validity(row)
    return sums


def item_labels(questionnaires: Mapping[str, Questionnaire] | None = None) -> dict[str, str]:
    """Item id -> its question text (the first questionnaire that has the item)."""
    labels: dict[str, str] = {}
    for questionnaire in (questionnaires or _bundled_questionnaires()).values():
        for item in questionnaire.rated_items:
            labels.setdefault(item.id, item.text)
    return labels


def _settings(survey: dict[str, Any], method: str | None) -> Settings:
    weights = survey["group_weights"] or "default"
    return Settings(target=survey["target"], level=survey["confidence_level"],
                    method=method or "logit", design="strata", group_weights=weights)


def _strata(schools: list[dict], county_populations: dict[str, int],
            answered: set[tuple[str, str | None]]) -> list[Stratum]:
    """Every school × school-level group with a population (or answers), then county groups."""
    strata = [Stratum(group=g.value, school=s["code"], population=s[f"{g.value}s"])
              for s in schools for g in SCHOOL_GROUPS
              if s[f"{g.value}s"] > 0 or (g.value, s["code"]) in answered]
    strata += [Stratum(group=g.value, population=county_populations.get(g.value))
               for g in COUNTY_GROUPS]
    return strata


def _stratum_totals(rows: list[dict], code_of: dict[int, str],
                    questionnaires: Mapping[str, Questionnaire]) -> Aggregates:
    """Aggregates from the GROUP BY rows, merging questionnaire versions of a stratum."""
    sums = Aggregates()
    counters = {qid: ItemCounter(q) for qid, q in questionnaires.items()}
    for row in rows:
        key = (row["grp"], None if row["school"] is None else code_of[row["school"]])
        sums.add_cell(key, row["n"], row["sum_y"], row["sum_y2"], row["n_score"],
                      row["sum_score"] or 0.0, row["sum_score2"] or 0.0)
        counter = counters.get(row["qid"])
        codes = row["codes"] or ""
        if (counter is None or counter.questionnaire.version != row["version"]
                or not counter.fits(codes, row["n"])):
            sums.skipped += row["n"]
            continue
        sums.add_items(counter.count(codes, row["n"], *key))
    return sums
