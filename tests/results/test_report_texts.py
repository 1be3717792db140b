"""The verdict as the bureau reads it: 达标 / 未达标 / 待定 in the headline and the tables."""

from __future__ import annotations

import pytest

from analysis import CellTotals, Design, School, Settings, Stratum, analyse
from survey_service.results.markdown import headline, report_markdown
from survey_service.results.tables import overall_table

DESIGN = Design(
    schools=[School(code="A", name="甲小学")],
    strata=[Stratum(group="parent", school="A", population=5000), Stratum(group="public")],
    settings=Settings(),
)


def result_at(rate: float, n: int = 400):
    yes = round(rate * n)
    return analyse(
        DESIGN,
        [
            CellTotals(group="parent", school="A", n=n, sum_y=yes, sum_y2=yes),
            CellTotals(group="public", n=n, sum_y=yes, sum_y2=yes),
        ],
    )


@pytest.mark.parametrize("rate, verdict", [(0.95, "达标"), (0.70, "未达标"), (0.86, "待定")])
def test_verdict_texts(rate, verdict):
    result = result_at(rate)
    assert f"目标 85%：**{verdict}**" in headline(result)
    assert f"全县社会认可度为 **{result.overall.estimate:.1%}**" in headline(result)
    assert overall_table(result).rows[0][11] == verdict
    assert f"| {verdict} |" in report_markdown(result, {})


def test_no_answers_yet():
    result = analyse(DESIGN, [])
    assert headline(result) == "尚无有效答卷，无法计算社会认可度。"
    assert overall_table(result).rows == []
    assert "## 说明" in report_markdown(result, {})
