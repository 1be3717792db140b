"""The result as a readable Chinese report (Markdown) for the inspection file (迎检材料)."""

from __future__ import annotations

from collections.abc import Mapping

from analysis import SurveyResult

from survey_service.results.tables import (SUPPRESSED, VERDICT_LABELS, Column, Table, domain_table,
                                           report_tables)

LOWEST_ITEMS = 5


def cell_text(value: object, column: Column) -> str:
    if value is None:
        return SUPPRESSED
    if value == "":
        return ""
    if column.format == "percent":
        return f"{value:.1%}"
    if column.format == "number":
        return f"{value:.4g}"
    if column.format == "integer":
        return f"{value:,}"
    return str(value).replace("|", "/")


def table_text(table: Table) -> str:
    lines = ["| " + " | ".join(c.title for c in table.columns) + " |",
             "|" + "|".join("---" for _ in table.columns) + "|"]
    lines += ["| " + " | ".join(cell_text(v, c) for v, c in zip(row, table.columns)) + " |"
              for row in table.rows]
    return "\n".join(lines)


def headline(result: SurveyResult) -> str:
    """One sentence: the rate, its interval and the verdict against the target."""
    o = result.overall
    if o is None:
        return "尚无有效答卷，无法计算社会认可度。"
    return (f"全县社会认可度为 **{o.estimate:.1%}**（{result.level:.0%} 置信区间 "
            f"{o.ci_low:.1%}–{o.ci_high:.1%}，样本量 {o.n:,}），目标 {result.target:.0%}："
            f"**{VERDICT_LABELS[o.verdict]}**（单侧检验 p = {o.p_value:.3g}）。")


def _attribute_sections(result: SurveyResult) -> list[str]:
    level = f"{result.level:.0%}"
    sections = []
    for title, key, rows in (("分地域", "地域", result.locations), ("分学段", "学段", result.stages)):
        if rows:
            sections += [f"## {title}", "", table_text(domain_table(title, key, rows, level)), ""]
    return sections


VERDICT_RULE = ("结论规则：置信区间下限不低于目标为“达标”；上限低于目标为“未达标”；"
                "目标落在置信区间内为“待定”。")


def report_markdown(result: SurveyResult, item_labels: Mapping[str, str], title: str = "") -> str:
    overall, groups, schools, items, validity = report_tables(result, item_labels)
    lowest = Table(items.title, items.columns, items.rows[:LOWEST_ITEMS])
    parts = [f"# {title or '社会认可度调查结果'}", "", headline(result), "", VERDICT_RULE, "",
             (f"方法：按学校×调查对象分层加权（权重 = 层总体数 / 层样本量），泰勒线性化方差并作有限总体校正；"
              f"置信区间方法 {result.method}；设计类型 {result.design.type}。"), "",
             "## 总体", "", table_text(overall), "",
             "## 分群体", "", table_text(groups), "",
             "## 分学校", "",
             f"应答人数少于 {result.design.min_cell_size} 人的单元不单独显示（记为“{SUPPRESSED}”），但计入总体。",
             "", table_text(schools), "",
             *_attribute_sections(result),
             f"## 认可度最低的 {len(lowest.rows)} 道题目", "", table_text(lowest), "",
             "## 问卷有效性", "", table_text(validity), ""]
    if result.validity is not None and result.validity.below_threshold:
        parts += [f"**注意：有效问卷率低于 {result.validity.threshold:.0%}。**", ""]
    if result.notes:
        parts += ["## 说明", ""] + [f"- {note.message}" for note in result.notes] + [""]
    return "\n".join(parts)

