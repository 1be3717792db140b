"""The result of a round from the database: the design from its roster and settings, per-stratum
totals from the round's tallies (respond/tally.py: about one row per school × group, kept by the
response writer), then `analysis.analyse`. The CLI `report` and the API both call `round_result`.
"""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Mapping
from typing import Any

from analysis import Design, ItemTotals, School, Settings, Stratum, SurveyResult, analyse
from analysis.results import Note
from survey_service.core.errors import NotFound
from survey_service.core.groups import COUNTY_GROUPS, SCHOOL_GROUPS
from survey_service.core.resources import questionnaires_dir
from survey_service.ledger import tally
from survey_service.questionnaire import Questionnaire, load_questionnaires
from survey_service.results.aggregates import Aggregates
from survey_service.results.choices import ItemCounter
from survey_service.schools.tables import School as SchoolRow
from survey_service.surveys.tables import Survey


@functools.cache
def _bundled_questionnaires() -> dict[str, Questionnaire]:
    return load_questionnaires(questionnaires_dir())


async def round_result(
    survey_id: int, method: str | None = None, questionnaires: Mapping[str, Questionnaire] | None = None
) -> SurveyResult:
    """社会认可度 of a round with its interval and verdict; NotFound for an unknown round."""
    survey = await (
        Survey.select(
            Survey.target, Survey.confidence_level, Survey.design, Survey.group_weights, Survey.county_populations
        )
        .where(Survey.id == survey_id)
        .first()
        .output(load_json=True)
    )
    if survey is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    schools = await SchoolRow.select().where(SchoolRow.survey == survey_id).order_by(SchoolRow.code)
    sums = await _aggregates(
        survey_id, {row["id"]: row["code"] for row in schools}, questionnaires or _bundled_questionnaires()
    )
    totals = sums.cell_totals()
    answered = {(t.group, t.school) for t in totals}
    design = Design(
        schools=[
            School(code=s["code"], name=s["name"], stage=s["stage"] or None, location=s["location"] or None)
            for s in schools
        ],
        strata=_strata(schools, survey["county_populations"] or {}, answered),
        settings=_settings(survey, method),
    )
    result = analyse(design, totals, sums.item_totals(), sums.validity)
    if sums.skipped:
        result.notes.append(
            Note(
                code="items_skipped",
                message=(
                    f"{sums.skipped} respondents answered a questionnaire version not on file: "
                    "counted in the estimate, left out of the item breakdown"
                ),
            )
        )
    return result


async def stratum_item_totals(survey_id: int, questionnaires: Mapping[str, Questionnaire]) -> list[ItemTotals]:
    """Rated and 认可 answers (and score sums) per item × group × school (None: a county group), from
    the round's tallies: what the round's result counts its items from, before it combines them."""
    schools = await SchoolRow.select(SchoolRow.id, SchoolRow.code).where(SchoolRow.survey == survey_id)
    return (await _aggregates(survey_id, {row["id"]: row["code"] for row in schools}, questionnaires)).item_totals()


async def _aggregates(
    survey_id: int, code_of: dict[int, str], questionnaires: Mapping[str, Questionnaire]
) -> Aggregates:
    """Per-stratum totals, item totals and validity counts from the round's tallies."""
    sums, counters = Aggregates(), {}
    returned, marks = 0, Counter()
    for school, group, qid, version, kept in await tally.stored_by_link(survey_id):
        returned += kept.returned
        marks.update(kept.validity)
        if not kept.n:
            continue
        key = (group, code_of.get(school))
        sums.add_cell(key, kept.n, kept.sum_y, kept.sum_y2, kept.n_score, kept.sum_score, kept.sum_score2)
        questionnaire = questionnaires.get(qid)
        if questionnaire is None or questionnaire.version != version:
            sums.skipped += kept.n
            continue
        if qid not in counters:
            counters[qid] = ItemCounter(questionnaire)
        counter = counters[qid]
        if not counter.fits(kept.choices):
            sums.skipped += kept.n
            continue
        sums.add_items(counter.totals(kept.choices, *key))
    sums.set_validity({"returned": returned, **marks})
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
    return Settings(
        target=survey["target"],
        level=survey["confidence_level"],
        method=method or "logit",
        design=survey["design"],
        group_weights=weights,
    )


def _strata(
    schools: list[dict], county_populations: dict[str, int], answered: set[tuple[str, str | None]]
) -> list[Stratum]:
    """Every school × school-level group with a population (or answers), then county groups."""
    strata = [
        Stratum(group=g.value, school=s["code"], population=s[f"{g.value}s"])
        for s in schools
        for g in SCHOOL_GROUPS
        if s[f"{g.value}s"] > 0 or (g.value, s["code"]) in answered
    ]
    strata += [Stratum(group=g.value, population=county_populations.get(g.value)) for g in COUNTY_GROUPS]
    return strata
