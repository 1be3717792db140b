"""对比轮次: the earlier round of the same county a round's results are compared with (与上一轮对比).

Stored on the round (Survey.previous_round) rather than asked on every page view: the results page,
the printed report, the workbook, the JSON results and `survey-service report` then all show the same
comparison, and each choice is written to the round's change log (who, when, which round). It changes
no figure of the round itself, so the bureau may choose or change it at any time, also after the round
closed. Which rounds qualify is checked here, once, for the console and the command line alike.
"""

from __future__ import annotations

from survey_service.core.errors import NotFound, SurveyServiceError
from survey_service.db.transactions import locked_transaction
from survey_service.surveys.schemas import ChangeAction, RoundRecord
from survey_service.surveys.service import record_change, round_record, round_records
from survey_service.surveys.tables import Survey

MAX_ROUND_ID = 2**31 - 1  # a Serial column's largest value


class InvalidComparison(SurveyServiceError):
    """A round that cannot be compared with this one; nothing was changed."""

    status_code = 422
    code = "invalid_comparison"
    message = "无法与该轮次对比。"


def round_name(record: RoundRecord) -> str:
    return f"第 {record.id} 轮（{record.title}）"


def comparison_problem(current: RoundRecord, previous: RoundRecord) -> str | None:
    """Why `previous` cannot be compared with `current`, in Chinese; None when it can."""
    if previous.id == current.id:
        return "不能与本轮自身对比，请选择本县更早的一轮调查。"
    if previous.region.strip() != current.region.strip():
        return f"{round_name(previous)}属于{previous.region}，本轮属于{current.region}：只能与同一地区的轮次对比。"
    if previous.opens_at >= current.opens_at:
        return f"{round_name(previous)}开始于本轮之后，请选择比本轮更早的一轮作为对比轮次。"
    return None


async def checked_previous(current: RoundRecord, previous_id: int) -> RoundRecord:
    """The round to compare `current` with; NotFound or InvalidComparison (in Chinese) otherwise."""
    missing = NotFound(f"找不到编号为 {previous_id} 的调查轮次，无法对比。")
    if not 0 < previous_id <= MAX_ROUND_ID:  # no row has it (and the database's integer may not hold it)
        raise missing
    try:
        previous = await round_record(previous_id)
    except NotFound:
        raise missing from None
    problem = comparison_problem(current, previous)
    if problem:
        raise InvalidComparison(problem)
    return previous


async def candidate_rounds(current: RoundRecord) -> list[RoundRecord]:
    """The rounds `current` may be compared with: earlier rounds of its county, newest first."""
    return [r for r in await round_records() if comparison_problem(current, r) is None]


async def county_rounds(current: RoundRecord) -> list[RoundRecord]:
    """Every round of `current`'s county (itself included), in the order they opened."""
    same = [r for r in await round_records() if r.region.strip() == current.region.strip()]
    return sorted(same, key=lambda r: (r.opens_at, r.id))


async def set_previous_round(survey_id: int, previous_id: int | None, *, actor: str) -> None:
    """Choose (or, with None, clear) the round's 对比轮次; logged when it changes."""
    current = await round_record(survey_id)
    previous = None if previous_id is None else await checked_previous(current, previous_id)
    if current.previous_round == previous_id:
        return
    async with locked_transaction(Survey._meta.db):
        await Survey.update({Survey.previous_round: previous_id}).where(Survey.id == survey_id)
        details = "不再与其他轮次对比。" if previous is None else f"与{round_name(previous)}对比。"
        await record_change(survey_id, ChangeAction.compare, "对比轮次改为：" + details, actor=actor)
