"""与上一轮对比 from the database: a round's result against its 对比轮次 (or a round named on the command
line), each round analysed from its own tallies, then `analysis.comparison.compare`; and the trend of
every round of the county.

Items are matched per questionnaire by id; what a respondent saw of an item (its text and the answer
options) is compared as well, from the questionnaire each round's answers were tallied under: an item
whose wording or options changed is 不可比, never compared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from analysis import IntervalMethod, SurveyResult
from analysis.comparison import compare, item_key
from analysis.comparison_results import Comparison, TrendPoint
from analysis.results import DomainRow
from survey_service.core.errors import SurveyServiceError
from survey_service.questionnaire import Questionnaire
from survey_service.results.service import QuestionnaireItems, round_result, round_result_by_questionnaire
from survey_service.surveys.previous_round import checked_previous, county_rounds
from survey_service.surveys.schemas import RoundRecord
from survey_service.surveys.service import round_record


def item_wording(questionnaire: Questionnaire, by_questionnaire: bool = True) -> dict[str, str]:
    """Item key (with the questionnaire's id, or the item id alone) -> what its respondents saw: the
    question and each option with how it counts."""
    options = "|".join(f"{o.code}:{o.label}:{o.recognised}:{o.excluded}" for o in questionnaire.scale)
    qid = questionnaire.id if by_questionnaire else None
    return {item_key(qid, item.id): f"{item.text}\n{options}" for item in questionnaire.rated_items}


def _items(parts: Sequence[QuestionnaireItems]) -> dict[str, DomainRow]:
    return {item_key(p.questionnaire.id, row.key): row for p in parts for row in p.items}


def _wording(parts: Sequence[QuestionnaireItems]) -> dict[str, str]:
    return {key: text for p in parts for key, text in item_wording(p.questionnaire).items()}


def trend_point(record: RoundRecord, result: SurveyResult, current: bool = False) -> TrendPoint | None:
    o = result.overall
    if o is None:
        return None
    return TrendPoint(
        round=record.id,
        title=record.title,
        date=record.opens_at.date().isoformat(),
        estimate=o.estimate,
        ci_low=o.ci_low,
        ci_high=o.ci_high,
        n=o.n,
        current=current,
    )


async def county_trend(
    current: RoundRecord, known: Mapping[int, SurveyResult], method: IntervalMethod | None
) -> list[TrendPoint]:
    """Each round of the county with answers, in the order they opened (results in `known` reused)."""
    points = []
    for record in await county_rounds(current):
        result = known.get(record.id) or await round_result(record.id, method)
        point = trend_point(record, result, current=record.id == current.id)
        if point is not None:
            points.append(point)
    return points


async def round_comparison(
    survey_id: int,
    result: SurveyResult,
    parts: Sequence[QuestionnaireItems],
    previous_id: int | None = None,
    method: IntervalMethod | None = None,
    questionnaires: Mapping[str, Questionnaire] | None = None,
) -> Comparison | None:
    """The round's result (with its items per questionnaire) against `previous_id`, else against the
    round's own 对比轮次; None when neither is named. NotFound / InvalidComparison name the problem."""
    current = await round_record(survey_id)
    if previous_id is None:
        if current.previous_round is None:
            return None
        try:
            previous = await checked_previous(current, current.previous_round)
        except SurveyServiceError:  # the stored choice no longer fits (the round's region was edited)
            return None
    else:
        previous = await checked_previous(current, previous_id)
    before, before_parts = await round_result_by_questionnaire(previous.id, method, questionnaires)
    trend = await county_trend(current, {current.id: result, previous.id: before}, method)
    return compare(
        result,
        before,
        previous_round=previous.id,
        previous_title=previous.title,
        current_items=_items(parts),
        previous_items=_items(before_parts),
        current_wording=_wording(parts),
        previous_wording=_wording(before_parts),
        trend=trend,
    )


async def with_comparison(
    survey_id: int,
    result: SurveyResult,
    parts: Sequence[QuestionnaireItems],
    previous_id: int | None = None,
    method: IntervalMethod | None = None,
    questionnaires: Mapping[str, Questionnaire] | None = None,
) -> SurveyResult:
    """The result with its `comparison` filled in (see round_comparison)."""
    result.comparison = await round_comparison(survey_id, result, parts, previous_id, method, questionnaires)
    return result
