"""The result as display tables (总体, 分群体, 分学校, 分题目, 有效性): one source for the
Markdown report and the workbook. Cells hold raw values; each column says how to show them.
Suppressed cells (too few respondents to show) hold None and are shown as "—"; cells with
nothing to show (no answers, not applicable) hold "" and stay empty.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal

from analysis import Estimate, IntervalMethod, SurveyResult
from analysis.results import DomainRow
from survey_service.core.groups import COUNTY_GROUPS, GROUP_LABELS, Group
from survey_service.results.reasons import FLAG_TEXTS, KEPT_LABELS, SOURCE_TEXTS
from survey_service.results.reasons import LABELS as EXCLUDED_LABELS

Format = Literal["text", "percent", "number", "integer", "p_value"]
VERDICT_LABELS = {"met": "达标", "not_met": "未达标", "inconclusive": "待定"}
# Each interval method (analysis.INTERVAL_METHODS) as pages, reports and workbooks name it.
INTERVAL_LABELS: dict[IntervalMethod, str] = {
    "logit": "logit 变换区间（与 R 语言 survey 包 svyciprop 的默认方法相同）",
    "beta": "Korn–Graubard 区间（Beta 分布，按有效样本量）",
    "wilson": "Wilson 区间（按有效样本量）",
    "wald": "Wald 区间（正态近似）",
    "asin": "反正弦变换区间",
}
SUPPRESSED = "—"
COUNTY_GROUP_NAMES = {g.value for g in COUNTY_GROUPS}


@dataclasses.dataclass(frozen=True)
class Column:
    title: str
    format: Format = "text"


@dataclasses.dataclass(frozen=True)
class Table:
    title: str
    columns: list[Column]
    rows: list[list[object]]


def group_label(group: str) -> str:
    return GROUP_LABELS.get(Group(group), group) if group in Group.__members__ else group


def _confidence_text(result: SurveyResult) -> str:
    return f"{result.confidence_level:.0%}"


def _estimate_columns(level: str) -> list[Column]:
    return [
        Column("认可度", "percent"),
        Column(f"{level}置信区间下限", "percent"),
        Column(f"{level}置信区间上限", "percent"),
        Column("标准误", "number"),
        Column("答卷人数", "integer"),
        Column("有效样本量", "number"),
        Column("设计效应", "number"),
        Column("自由度", "integer"),
        Column("平均得分", "number"),
    ]


def _estimate_cells(e: Estimate | None) -> list[object]:
    if e is None or e.suppressed:
        return [None] * 9
    return [_or_blank(v) for v in (e.estimate, e.ci_low, e.ci_high, e.se, e.n, e.n_eff, e.deff, e.df, e.score)]


def overall_table(result: SurveyResult) -> Table:
    o = result.overall
    columns = [
        Column("项目"),
        *_estimate_columns(_confidence_text(result)),
        Column("目标", "percent"),
        Column("结论"),
        Column("单侧p值", "p_value"),
    ]
    rows = (
        [] if o is None else [["社会认可度", *_estimate_cells(o), result.target, VERDICT_LABELS[o.verdict], o.p_value]]
    )
    return Table("总体", columns, rows)


def groups_table(result: SurveyResult) -> Table:
    weights = result.overall.group_weights if result.overall else {}
    columns = [Column("调查对象"), Column("权重", "number"), *_estimate_columns(_confidence_text(result))]
    rows = [[group_label(g), weights.get(g), *_estimate_cells(e)] for g, e in result.groups.items()]
    return Table("分群体", columns, rows)


def schools_table(result: SurveyResult) -> Table:
    groups = [g for g in result.groups if g not in COUNTY_GROUP_NAMES]
    shrunk = any(row.shrunk is not None for row in result.schools)
    columns = [
        Column("学校代码"),
        Column("学校"),
        Column("学段"),
        Column("位置"),
        Column("认可度", "percent"),
        Column("置信区间下限", "percent"),
        Column("置信区间上限", "percent"),
        # The Fay–Herriot estimate (analysis.small_area) the schools are ranked by, where there is one.
        *([Column("调整后认可度", "percent")] if shrunk else []),
        Column("答卷人数", "integer"),
        *[Column(group_label(g), "percent") for g in groups],
    ]
    rows = []
    for row in result.schools:
        shown = None if row.overall.suppressed else row.overall
        rows.append(
            [
                row.key,
                row.name,
                row.stage or "",
                row.location or "",
                *(_estimate_cells(shown)[:3]),
                *([] if not shrunk else ["" if row.shrunk is None else row.shrunk.estimate]),
                row.overall.n,
                *[_share(row.groups.get(g)) for g in groups],
            ]
        )
    return Table("分学校", columns, rows)


def domain_table(title: str, key_title: str, rows: list[DomainRow], level: str) -> Table:
    """A breakdown by a school attribute (城区/镇区/乡村, or 学段)."""
    columns = [Column(key_title), *_estimate_columns(level)[:5]]
    return Table(title, columns, [[row.key, *_estimate_cells(row.overall)[:5]] for row in rows])


def domain_tables(result: SurveyResult) -> list[Table]:
    """分地域 and 分学段, where the roster gives the schools' location and stage."""
    level = _confidence_text(result)
    return [
        domain_table(title, key, rows, level)
        for title, key, rows in (("分地域", "地域", result.locations), ("分学段", "学段", result.stages))
        if rows
    ]


def _share(e: Estimate | None) -> float | str | None:
    if e is None:
        return ""
    return None if e.suppressed else e.estimate


def items_table(result: SurveyResult, item_labels: Mapping[str, str]) -> Table:
    """Items lowest first, as the result lists them."""
    columns = [
        Column("题目"),
        Column("内容"),
        *_estimate_columns(_confidence_text(result))[:5],
        Column("平均得分", "number"),
    ]
    rows = [
        [row.key, item_labels.get(row.key, ""), *_estimate_cells(row.overall)[:5], _or_blank(row.overall.score)]
        for row in result.items
    ]
    return Table("分题目", columns, rows)


def validity_table(result: SurveyResult) -> Table:
    """有效问卷率 with the reasons for exclusion, and the strata that answered."""
    columns = [Column("项目"), Column("数量", "integer"), Column("比例", "percent")]
    v = result.validity
    rows: list[list[object]] = []
    if v is not None:
        rows += [["回收问卷", v.returned, ""], ["有效问卷", v.valid, _or_blank(v.rate)]]
        rows += [
            [f"无效：{EXCLUDED_LABELS.get(k, k)}", n, n / v.returned if v.returned else ""]
            for k, n in v.excluded.items()
        ]

        def share(n):
            return n / v.returned if v.returned else ""

        rows += [[f"来源：{SOURCE_TEXTS.get(k, k)}", n, share(n)] for k, n in v.sources.items()]
        rows += [["有质量标记的答卷", v.flagged, share(v.flagged)]]
        rows += [[f"标记：{FLAG_TEXTS.get(k, k)}", n, share(n)] for k, n in v.flags.items() if n]
        if v.flagged:
            kept = sum(v.kept.values())
            if v.pending:  # once every flagged answer is decided, 待审核 appears nowhere
                rows += [["其中待审核（决定前仍计入）", v.pending, share(v.pending)]]
            rows += [["其中已审核", v.flagged - v.pending, share(v.flagged - v.pending)]]
            rows += [[f"其中审核后确认有效：{KEPT_LABELS.get(k, k)}", n, share(n)] for k, n in v.kept.items()]
            rows += [["其中审核后剔除", v.flagged - v.pending - kept, share(v.flagged - v.pending - kept)]]
    c = result.coverage
    rows += [
        ["有应答的层（学校×群体，比例为其人口占比）", c.strata_answered, _or_blank(c.population_share_covered)],
        ["全部层", c.strata, ""],
    ]
    return Table("有效性", columns, rows)


def _or_blank(value: float | None) -> float | str:
    return "" if value is None else value


def report_tables(result: SurveyResult, item_labels: Mapping[str, str]) -> list[Table]:
    return [
        overall_table(result),
        groups_table(result),
        schools_table(result),
        items_table(result, item_labels),
        validity_table(result),
    ]
