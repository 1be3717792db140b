"""与上一轮对比 as the results page and the printed report show it (templates/console/_comparison.html):
the headline sentence, the counts, the table of every line (from results/comparison_tables, as the
Markdown report and the workbook show it) and the trend chart across the county's rounds. On the
round page: the 对比轮次 the bureau may choose (earlier rounds of the same county)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from analysis import SurveyResult
from survey_service.console.results_view import TableView, table_view
from survey_service.console.trend_chart import TrendChart, trend_chart
from survey_service.questionnaire import Questionnaire
from survey_service.results import comparison_tables as texts
from survey_service.results.markdown import p_value_text
from survey_service.surveys.previous_round import candidate_rounds, round_name
from survey_service.surveys.service import round_record


@dataclasses.dataclass(frozen=True)
class ComparisonView:
    previous_round: int | None
    previous_title: str
    headline: str
    counts: str
    method: str
    verdict: str  # the county line's: 显著提高 / 无显著变化 / 显著下降 / 不可比
    verdict_code: str  # rise / no_change / fall / not_comparable
    tables: list[TableView]  # 总体与分群体, 分题目, 分学校
    trend: TableView
    chart: TrendChart | None


def comparison_view(result: SurveyResult, questionnaires: Mapping[str, Questionnaire]) -> ComparisonView | None:
    """The result's comparison (None without one); items named from the questionnaires by id."""
    c = result.comparison
    if c is None:
        return None
    namer = texts.ItemNamer(questionnaires)
    return ComparisonView(
        previous_round=c.previous_round,
        previous_title=c.previous_title,
        headline=texts.headline(c, p_value_text),
        counts=texts.counts_text(c),
        method=texts.method_text(c),
        verdict=texts.VERDICT_TEXTS[c.overall.verdict if c.overall else "not_comparable"],
        verdict_code=c.overall.verdict if c.overall else "not_comparable",
        tables=[table_view(t) for t in texts.section_tables(c, namer)],
        trend=table_view(texts.trend_table(c)),
        chart=trend_chart(c.trend, result.target, c.previous_round) if c.trend else None,
    )


@dataclasses.dataclass(frozen=True)
class PreviousRoundChoice:
    """The round page's 对比轮次 form: the current choice and the rounds that may be chosen."""

    chosen: int | None
    chosen_name: str
    choices: list[tuple[int, str]]  # (round id, 第 N 轮（标题）)


async def previous_round_choice(survey_id: int) -> PreviousRoundChoice:
    current = await round_record(survey_id)
    choices = [(r.id, round_name(r)) for r in await candidate_rounds(current)]
    name = dict(choices).get(current.previous_round or 0, "")
    return PreviousRoundChoice(chosen=current.previous_round if name else None, chosen_name=name, choices=choices)
