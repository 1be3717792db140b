"""整改清单 as the results page and the printed report show it (templates/console/_improvement.html):
plain text from the round's result, formatted as the Markdown report formats it."""

from __future__ import annotations

import dataclasses

from analysis import SurveyResult
from survey_service.results.improvement_tables import (
    ItemNames,
    item_heading,
    method_lines,
    summary,
    unit_name,
    untested_summary,
)
from survey_service.results.markdown import p_value_text


@dataclasses.dataclass(frozen=True)
class ImprovementText:
    summary: str
    method: list[str]
    flagged: list[list[str]]  # 单元, 题目 (number and text), 认可度, interval, 全县, 差距, 作答人数, 校正后p值
    items: list[list[str]]  # 排名, 题目, 全县, 缺口贡献, 占比, 需整改单元数
    untested: int
    untested_units: str
    level: str


def improvement_text(result: SurveyResult, names: ItemNames) -> ImprovementText | None:
    found = result.improvement
    if found is None:
        return None
    flagged = [
        [
            unit_name(c),
            item_heading(names, c.questionnaire, c.item),
            f"{c.estimate:.1%}",
            f"{c.ci_low:.1%}–{c.ci_high:.1%}",
            f"{c.county:.1%}",
            f"{c.gap * 100:+.1f}",
            f"{c.n:,}",
            p_value_text(c.p_adjusted),
        ]
        for c in found.flagged
    ]
    contributing = [row for row in found.items if row.contribution > 0]
    items = [
        [
            str(rank),
            item_heading(names, row.questionnaire, row.item),
            f"{row.county:.1%}",
            f"{row.contribution * 100:.2f}",
            f"{row.share or 0.0:.1%}",
            str(row.flagged),
        ]
        for rank, row in enumerate(contributing, start=1)
    ]
    return ImprovementText(
        summary=summary(found),
        method=method_lines(found, result.target),
        flagged=flagged,
        items=items,
        untested=len(found.untested),
        untested_units=untested_summary(found),
        level=f"{result.confidence_level:.0%}",
    )
