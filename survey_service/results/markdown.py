"""The result as a readable Chinese report (Markdown) for the inspection file (迎检材料)."""

from __future__ import annotations

from collections.abc import Mapping

from analysis import SurveyResult
from survey_service.results import comparison_tables
from survey_service.results.improvement_tables import ItemNames
from survey_service.results.improvement_tables import markdown_section as improvement_section
from survey_service.results.national_check import markdown_section as national_check_section
from survey_service.results.note_texts import note_texts
from survey_service.results.questionnaire_items import items_table, lowest_items_table
from survey_service.results.ranking import ranked_schools_table
from survey_service.results.service import QuestionnaireItems
from survey_service.results.small_area_texts import method_paragraphs
from survey_service.results.tables import (
    INTERVAL_LABELS,
    SUPPRESSED,
    VERDICT_LABELS,
    Column,
    Table,
    domain_tables,
    report_tables,
)

LOWEST_ITEMS = 5


def cell_text(value: object, column: Column) -> str:
    if value is None:
        return SUPPRESSED
    if value == "":
        return ""
    if column.format == "percent":
        return f"{value:.1%}"
    if column.format == "p_value" and isinstance(value, float):
        return p_value_text(value)
    if column.format == "number" and isinstance(value, (int, float)):
        return number_text(value)
    if column.format == "integer":
        return f"{value:,}"
    return str(value).replace("|", "/")


def p_value_text(p: float) -> str:
    """A p-value as a report prints it: "< 0.001" below a thousandth, three decimals otherwise."""
    if p < 0.001:
        return "< 0.001"
    if p > 0.999:
        return "> 0.999"
    return f"{p:.3f}"


def number_text(value: float) -> str:
    """Four significant digits, never in exponent notation (1.355e+03 reads as English)."""
    if value == 0:
        return "0"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) < 0.0001:
        return "< 0.0001"
    return f"{value:.4g}"


def table_text(table: Table) -> str:
    lines = [
        "| " + " | ".join(c.title for c in table.columns) + " |",
        "|" + "|".join("---" for _ in table.columns) + "|",
    ]
    lines += ["| " + " | ".join(cell_text(v, c) for v, c in zip(row, table.columns)) + " |" for row in table.rows]
    return "\n".join(lines)


def _p_clause(p: float) -> str:
    text = p_value_text(p)
    return text if text[0] in "<>" else f"= {text}"


def headline(result: SurveyResult) -> str:
    """One sentence: the rate, its interval and the verdict against the target."""
    o = result.overall
    if o is None:
        return "尚无有效答卷，无法计算社会认可度。"
    return (
        f"全县社会认可度为 **{o.estimate:.1%}**（{result.confidence_level:.0%} 置信区间 "
        f"{o.ci_low:.1%}–{o.ci_high:.1%}，答卷人数 {o.n:,}），目标 {result.target:.0%}："
        f"**{VERDICT_LABELS[o.verdict]}**（单侧检验 p {_p_clause(o.p_value)}）。"
    )


def _attribute_sections(result: SurveyResult) -> list[str]:
    return [line for table in domain_tables(result) for line in (f"## {table.title}", "", table_text(table), "")]


DESIGN_TEXTS = {
    "strata": "全部学校参加，学校×调查对象为分层，泰勒线性化方差并作有限总体校正",
    "clusters": "抽样部分学校，学校为整群（计入群体间协方差），泰勒线性化方差",
}


def method_text(result: SurveyResult) -> str:
    design = DESIGN_TEXTS.get(result.design.type, result.design.type)
    interval = INTERVAL_LABELS[result.method]
    return (
        f"方法：按层加权（权重 = 层总体数 / 层样本量）；{design}；置信区间采用 {interval}"
        f"（{result.confidence_level:.0%} 置信水平）。"
    )


VERDICT_RULE = "结论规则：置信区间下限不低于目标为“达标”；上限低于目标为“未达标”；目标落在置信区间内为“待定”。"


def _item_sections(parts: list[QuestionnaireItems], level: str) -> list[str]:
    """Each questionnaire's items under its own numbers and wording (never merged across them)."""
    lines: list[str] = []
    for part in parts:
        table = items_table(part, level)
        lines += [f"## {table.title}", "", f"{part.questionnaire.title}。", "", table_text(table), ""]
    return lines


def _comparison_section(
    result: SurveyResult, item_labels: Mapping[str, str], parts: list[QuestionnaireItems] | None
) -> list[str]:
    """与上一轮对比, when the result carries a comparison."""
    namer = comparison_tables.ItemNamer.of(parts, item_labels)
    return comparison_tables.markdown_section(result, namer, table_text, p_value_text)


def report_markdown(
    result: SurveyResult,
    item_labels: Mapping[str, str],
    title: str = "",
    by_questionnaire: list[QuestionnaireItems] | None = None,
) -> str:
    """The report; with the items per questionnaire (`by_questionnaire`, a round's report) the schools are ranked
    as the printed report ranks them and every questionnaire's items are listed by number and text."""
    overall, groups, schools, items, validity = report_tables(result, item_labels)
    lowest = Table(items.title, items.columns, items.rows[:LOWEST_ITEMS])
    item_sections: list[str] = []
    if by_questionnaire is not None:
        level = f"{result.confidence_level:.0%}"
        schools, lowest = ranked_schools_table(result), lowest_items_table(by_questionnaire, level)
        item_sections = _item_sections(by_questionnaire, level)
    parts = [
        f"# {title or '社会认可度调查结果'}",
        "",
        headline(result),
        "",
        VERDICT_RULE,
        "",
        method_text(result),
        "",
        "## 总体",
        "",
        table_text(overall),
        "",
        *national_check_section(result),
        *improvement_section(result, ItemNames.of(by_questionnaire, item_labels), table_text),  # 整改清单
        "## 分群体",
        "",
        table_text(groups),
        "",
        "## 分学校",
        "",
        f"应答人数少于 {result.design.min_cell_size} 人的单元不单独显示（记为“{SUPPRESSED}”），但计入总体。",
        "",
        *[line for paragraph in method_paragraphs(result) for line in (paragraph, "")],
        table_text(schools),
        "",
        *_attribute_sections(result),
        f"## 认可度最低的 {len(lowest.rows)} 道题目",
        "",
        table_text(lowest),
        "",
        *item_sections,
        *_comparison_section(result, item_labels, by_questionnaire),
        "## 问卷有效性",
        "",
        table_text(validity),
        "",
    ]
    if result.validity is not None and result.validity.below_threshold:
        parts += [f"**注意：有效问卷率低于 {result.validity.threshold:.0%}。**", ""]
    if result.notes:
        parts += ["## 说明", ""] + [f"- {text}" for text in note_texts(result)] + [""]
    return "\n".join(parts)
