"""The result of a round from the database: the design from its roster and settings, per-stratum
totals aggregated in SQL, then `analysis.analyse`. The CLI `report` and the API both call
`round_result`.

One scan of the round's responses returns, per stratum (group × school) and questionnaire
version: n, Σy, Σy², Σscore, Σscore² and the stratum's `choices` codes concatenated into one
string, from which per-item counts are made in numpy (see choices.py).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from analysis import (CellTotals, Design, ItemTotals, School, Settings, Stratum, SurveyResult,
                      ValidityCounts, analyse)
from analysis.results import Note
from piccolo.engine.postgres import PostgresEngine

from survey_service.errors import NotFound
from survey_service.groups import COUNTY_GROUPS, SCHOOL_GROUPS
from survey_service.questionnaire import Questionnaire, load_questionnaires
from survey_service.resources import questionnaires_dir
from survey_service.respond.tables import Response
from survey_service.results.choices import ItemCounter
from survey_service.results.reasons import EXCLUDED_BY_REVIEW, NO_RATED_ANSWER
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

VALIDITY_SQL = """
SELECT COUNT(*) AS returned,
       SUM(CASE WHEN valid AND recognition IS NOT NULL THEN 1 ELSE 0 END) AS counted,
       SUM(CASE WHEN valid THEN 0 ELSE 1 END) AS reviewed,
       SUM(CASE WHEN valid AND recognition IS NULL THEN 1 ELSE 0 END) AS unrated
FROM response WHERE survey = {}
"""


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
    code_of = {row["id"]: row["code"] for row in schools}
    rows = await Response.raw(STRATUM_SQL.format(concat=_concat()), survey_id)
    totals, items, skipped = _stratum_totals(rows, code_of,
                                             questionnaires or _bundled_questionnaires())
    answered = {(t.group, t.school) for t in totals}
    design = Design(schools=[School(code=s["code"], name=s["name"], stage=s["stage"] or None,
                                    location=s["location"] or None) for s in schools],
                    strata=_strata(schools, survey["county_populations"] or {}, answered),
                    settings=_settings(survey, method))
    result = analyse(design, totals, items, await _validity(survey_id))
    if skipped:
        result.notes.append(Note(code="items_skipped", message=(
            f"{skipped} respondents answered a questionnaire version not on file: "
            "counted in the estimate, left out of the item breakdown")))
    return result


def item_labels(questionnaires: Mapping[str, Questionnaire] | None = None) -> dict[str, str]:
    """Item id -> its question text (the first questionnaire that has the item)."""
    labels: dict[str, str] = {}
    for questionnaire in (questionnaires or _bundled_questionnaires()).values():
        for item in questionnaire.rated_items:
            labels.setdefault(item.id, item.text)
    return labels


def _concat() -> str:
    return "string_agg" if isinstance(Response._meta.db, PostgresEngine) else "group_concat"


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
                    questionnaires: Mapping[str, Questionnaire]
                    ) -> tuple[list[CellTotals], list[ItemTotals], int]:
    """CellTotals per stratum and ItemTotals per item × stratum, merging questionnaire versions."""
    cells: dict[tuple[str, str | None], list[float]] = defaultdict(lambda: [0, 0.0, 0.0, 0, 0.0, 0.0])
    counts: dict[tuple[str, str, str | None], list[float]] = {}
    counters = {qid: ItemCounter(q) for qid, q in questionnaires.items()}
    skipped = 0
    for row in rows:
        key = (row["grp"], None if row["school"] is None else code_of[row["school"]])
        cell = cells[key]
        for k, value in enumerate((row["n"], row["sum_y"], row["sum_y2"], row["n_score"],
                                   row["sum_score"] or 0.0, row["sum_score2"] or 0.0)):
            cell[k] += value
        counter = counters.get(row["qid"])
        codes = row["codes"] or ""
        if (counter is None or counter.questionnaire.version != row["version"]
                or not counter.fits(codes, row["n"])):
            skipped += row["n"]
            continue
        for item in counter.count(codes, row["n"], *key):
            merged = counts.setdefault((item.item, *key), [0, 0, 0.0, 0.0, item.sum_score is None])
            merged[0] += item.n_rated
            merged[1] += item.n_recognised
            merged[2] += item.sum_score or 0.0
            merged[3] += item.sum_score2 or 0.0
    totals = [CellTotals(group=g, school=school, n=int(c[0]), sum_y=float(c[1]), sum_y2=float(c[2]),
                         # Scores only when every respondent of the stratum has one.
                         sum_score=float(c[4]) if c[3] == c[0] else None,
                         sum_score2=float(c[5]) if c[3] == c[0] else None)
              for (g, school), c in cells.items()]
    items = [ItemTotals(item=item, group=g, school=school, n_rated=int(c[0]), n_recognised=int(c[1]),
                        sum_score=None if c[4] else c[2], sum_score2=None if c[4] else c[3])
             for (item, g, school), c in counts.items()]
    return totals, items, skipped


async def _validity(survey_id: int) -> ValidityCounts:
    row = (await Response.raw(VALIDITY_SQL, survey_id))[0]
    return ValidityCounts(returned=row["returned"] or 0, valid=row["counted"] or 0,
                          excluded={EXCLUDED_BY_REVIEW: row["reviewed"] or 0,
                                    NO_RATED_ANSWER: row["unrated"] or 0})
