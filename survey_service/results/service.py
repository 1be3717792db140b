"""The result of a round from the database: the design from its roster and settings, per-stratum
totals from the round's tallies (ledger/tally.py: about one row per school × group, kept by the
response writer), then `analysis.analyse`. The CLI `report` and the API both call `round_result`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections import Counter
from collections.abc import Mapping

from analysis import IntervalMethod, ItemTotals, SurveyResult, analyse
from analysis.report import analyse_items
from analysis.results import DomainRow, Note
from survey_service.core.resources import questionnaires_dir
from survey_service.ledger import tally
from survey_service.questionnaire import Questionnaire, load_questionnaires
from survey_service.results.aggregates import Aggregates
from survey_service.results.choices import ItemCounter
from survey_service.results.design import round_design, round_roster
from survey_service.schools.service import round_schools


@functools.cache
def _bundled_questionnaires() -> dict[str, Questionnaire]:
    return load_questionnaires(questionnaires_dir())


async def round_result(
    survey_id: int, method: IntervalMethod | None = None, questionnaires: Mapping[str, Questionnaire] | None = None
) -> SurveyResult:
    """社会认可度 of a round with its interval and verdict; NotFound for an unknown round."""
    return (await _round_result(survey_id, method, questionnaires, by_questionnaire=False))[0]


@dataclasses.dataclass(frozen=True)
class QuestionnaireItems:
    """One questionnaire's rated items as its own respondents answered them: never merged with another
    questionnaire's item of the same id (its wording differs)."""

    questionnaire: Questionnaire
    items: list[DomainRow]  # analysis's per-item rows over this questionnaire's answers, lowest first
    totals: list[ItemTotals]  # per item × group × school


async def round_result_by_questionnaire(
    survey_id: int, method: IntervalMethod | None = None, questionnaires: Mapping[str, Questionnaire] | None = None
) -> tuple[SurveyResult, list[QuestionnaireItems]]:
    """The round's result, and per questionnaire answered (in the order of `questionnaires`) its items'
    认可 shares, from the same totals and design."""
    return await _round_result(survey_id, method, questionnaires, by_questionnaire=True)


async def _round_result(
    survey_id: int,
    method: IntervalMethod | None,
    questionnaires: Mapping[str, Questionnaire] | None,
    by_questionnaire: bool,
) -> tuple[SurveyResult, list[QuestionnaireItems]]:
    questionnaires = questionnaires or _bundled_questionnaires()
    record, schools = await round_roster(survey_id)
    per_questionnaire: dict[str, Aggregates] = {}
    sums = await _aggregates(survey_id, {s.id: s.code for s in schools}, questionnaires, per_questionnaire)
    totals = sums.cell_totals()
    design = round_design(record, schools, method, answered={(t.group, t.school) for t in totals})
    # 整改清单 per questionnaire (an item's wording differs between them), BH over all their cells.
    item_sets = [(qid, per_questionnaire[qid].item_totals()) for qid in questionnaires if qid in per_questionnaire]
    result = analyse(design, totals, sums.item_totals(), sums.validity, item_sets)
    parts = [
        QuestionnaireItems(questionnaire=questionnaires[qid], items=analyse_items(design, totals, items), totals=items)
        for qid, items in item_sets
        if by_questionnaire and items
    ]
    if sums.skipped:
        result.notes.append(
            Note(
                code="items_skipped",
                count=sums.skipped,
                message=(
                    f"{sums.skipped} respondents answered a questionnaire version not on file: "
                    "counted in the estimate, left out of the item breakdown"
                ),
            )
        )
    return result, parts


async def stratum_item_totals(survey_id: int, questionnaires: Mapping[str, Questionnaire]) -> list[ItemTotals]:
    """Rated and 认可 answers (and score sums) per item × group × school (None: a county group), from
    the round's tallies: what the round's result counts its items from, before it combines them."""
    schools = await round_schools(survey_id)
    return (await _aggregates(survey_id, {s.id: s.code for s in schools}, questionnaires)).item_totals()


async def _aggregates(
    survey_id: int,
    code_of: dict[int, str],
    questionnaires: Mapping[str, Questionnaire],
    per_questionnaire: dict[str, Aggregates] | None = None,
) -> Aggregates:
    """Per-stratum totals, item totals and validity counts from the round's tallies; the item totals
    also per questionnaire id into `per_questionnaire`, when given."""
    sums, counters = Aggregates(), {}
    returned, marks = 0, Counter[str]()
    for school, group, qid, version, kept in await tally.stored_by_link(survey_id):
        returned += kept.returned
        marks.update(kept.validity)
        if not kept.n:
            continue
        key = (group, None if school is None else code_of.get(school))
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
        items = counter.totals(kept.choices, *key)
        sums.add_items(items)
        if per_questionnaire is not None:
            per_questionnaire.setdefault(qid, Aggregates()).add_items(items)
    sums.set_validity({"returned": returned, **marks})
    return sums


def item_labels(questionnaires: Mapping[str, Questionnaire] | None = None) -> dict[str, str]:
    """Item id -> its question text (the first questionnaire that has the item)."""
    labels: dict[str, str] = {}
    for questionnaire in (questionnaires or _bundled_questionnaires()).values():
        for item in questionnaire.rated_items:
            labels.setdefault(item.id, item.text)
    return labels
