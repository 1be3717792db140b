"""A round's result as the console's results and report pages show it: plain data for the templates.

Every number comes from `round_result` through the display tables of survey_service.results.tables
(the same the Markdown report and the workbook use), formatted as the Markdown report formats them;
the heatmap's school × item shares come from school_items. Each table cell keeps its raw value too
(`data-value` on the page), so tests compare the page with the result exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from analysis import SurveyResult
from survey_service.console import charts
from survey_service.questionnaire import Questionnaire
from survey_service.results.markdown import LOWEST_ITEMS, cell_text
from survey_service.results.school_items import (
    ordered_items,
    round_weights,
    school_item_counts,
    school_item_shares,
    visible_share,
)
from survey_service.results.service import item_labels, round_result
from survey_service.results.tables import (
    COUNTY_GROUP_NAMES,
    INTERVAL_LABELS,
    VERDICT_LABELS,
    Column,
    Table,
    domain_table,
    group_label,
    report_tables,
)

NUMERIC = ("percent", "number", "integer")


@dataclasses.dataclass(frozen=True)
class Cell:
    text: str
    value: str  # the raw value (repr of a float), "" when none
    numeric: bool


@dataclasses.dataclass(frozen=True)
class TableView:
    title: str
    columns: list[tuple[str, bool]]  # (title, numeric)
    rows: list[list[Cell]]


def _raw(value: object) -> str:
    if value is None or value == "":
        return ""
    return repr(value) if isinstance(value, float) else str(value)


def table_view(table: Table, rows: list[list[object]] | None = None) -> TableView:
    cells = [
        [Cell(text=cell_text(v, c), value=_raw(v), numeric=c.format in NUMERIC) for v, c in zip(row, table.columns)]
        for row in (table.rows if rows is None else rows)
    ]
    return TableView(table.title, [(c.title, c.format in NUMERIC) for c in table.columns], cells)


@dataclasses.dataclass(frozen=True)
class Headline:
    estimate: str
    interval: str
    confidence_level: str  # as shown: "95%"
    verdict: str  # 达标 / 未达标 / 待定
    verdict_code: str
    meaning: str
    p_value: str
    n: str
    target: str


def headline(result: SurveyResult) -> Headline | None:
    o = result.overall
    if o is None:
        return None
    target, low, high = f"{result.target:.0%}", f"{o.ci_low:.1%}", f"{o.ci_high:.1%}"
    meaning = {
        "met": f"置信区间下限 {low} 不低于目标 {target}：考虑抽样误差后，全县社会认可度仍达到目标。",
        "not_met": f"置信区间上限 {high} 低于目标 {target}：考虑抽样误差后，全县社会认可度仍未达到目标。",
        "inconclusive": (
            f"目标 {target} 落在置信区间 {low}–{high} 之内：现有样本还不能确定是否达到目标，可继续回收答卷以缩小区间。"
        ),
    }[o.verdict]
    return Headline(
        estimate=f"{o.estimate:.1%}",
        interval=f"{low}–{high}",
        confidence_level=f"{result.confidence_level:.0%}",
        verdict=VERDICT_LABELS[o.verdict],
        verdict_code=o.verdict,
        meaning=meaning,
        p_value=f"{o.p_value:.3g}",
        n=f"{o.n:,}",
        target=target,
    )


@dataclasses.dataclass(frozen=True)
class ResultsPage:
    headline: Headline | None
    method: str
    target: float
    confidence_level: str  # as shown: "95%"
    min_cell: int
    overall: TableView
    overall_chart: charts.IntervalChart | None
    groups: TableView
    groups_chart: charts.IntervalChart
    schools: TableView  # ranked, suppressed last
    schools_chart: charts.IntervalChart
    schools_not_plotted: list[str]
    heatmap: charts.Heatmap | None
    heatmap_table: TableView
    heat_items: list[tuple[str, str, str]]  # (number, item id, question text)
    lowest_items: TableView
    items: TableView
    locations: tuple[TableView, charts.IntervalChart] | None
    stages: tuple[TableView, charts.IntervalChart] | None
    validity: TableView
    validity_rate: str
    validity_threshold: str
    validity_below: bool
    missing_strata: list[str]
    notes: list[str]


def _chart(title: str, rows, target: float) -> charts.IntervalChart:
    return charts.interval_chart(title, [(label, e.estimate, e.ci_low, e.ci_high) for label, e in rows], target)


def _domain(result: SurveyResult, title: str, key: str, rows) -> tuple[TableView, charts.IntervalChart] | None:
    if not rows:
        return None
    table = domain_table(title, key, rows, f"{result.confidence_level:.0%}")
    shown = [(row.key, row.overall) for row in rows if not row.overall.suppressed]
    return table_view(table), _chart(title, shown, result.target)


def _ranked_schools(table: Table) -> list[list[object]]:
    """分学校 rows ranked by 认可度 (column 4), highest first; suppressed schools last."""
    return sorted(
        table.rows, key=lambda row: (row[4] is None or row[4] == "", -(row[4] if isinstance(row[4], float) else 0.0))
    )


def _missing(result: SurveyResult) -> list[str]:
    return [
        f"{group_label(m.group)} · {m.school or '全县'}"
        + (f"（占该群体人数 {m.population_share:.1%}）" if m.population_share is not None else "")
        for m in result.coverage.missing
    ]


def _heat(result: SurveyResult, labels: Mapping[str, str], shares) -> tuple:
    items = ordered_items([row.key for row in result.items], labels)
    numbers = [str(k + 1) for k in range(len(items))]
    min_cell = result.design.min_cell_size
    rows = []
    for school in result.schools:
        shown = not school.overall.suppressed
        rows.append(
            (
                f"{school.key} {school.name}",
                [visible_share(shares, school.key, item, min_cell, shown) for item in items],
            )
        )
    # None (suppressed, or no answers) shows as "—" in the table and as a blank cell in the chart.
    table = Table(
        "分学校分题目认可度",
        [Column("学校"), *[Column(f"题{n}", "percent") for n in numbers]],
        [[label, *shares_row] for label, shares_row in rows],
    )
    heat = charts.heatmap(numbers, rows, result.target) if rows and items else None
    return heat, table_view(table), [(n, item, labels.get(item, "")) for n, item in zip(numbers, items)]


def build_page(result: SurveyResult, labels: Mapping[str, str], shares) -> ResultsPage:
    overall, groups, schools, items, validity = report_tables(result, labels)
    target = result.target
    group_rows = [(group_label(g), e) for g, e in result.groups.items() if not e.suppressed]
    ranked = _ranked_schools(schools)
    plotted = sorted((s for s in result.schools if not s.overall.suppressed), key=lambda s: -s.overall.estimate)
    heat, heat_table, heat_items = _heat(result, labels, shares)
    v = result.validity
    return ResultsPage(
        headline=headline(result),
        method=INTERVAL_LABELS[result.method],
        target=target,
        confidence_level=f"{result.confidence_level:.0%}",
        min_cell=result.design.min_cell_size,
        overall=table_view(overall),
        overall_chart=(_chart("全县社会认可度", [("全县", result.overall)], target) if result.overall else None),
        groups=table_view(groups),
        groups_chart=_chart("分群体认可度", group_rows, target),
        schools=table_view(schools, ranked),
        schools_chart=_chart("分学校认可度（从高到低）", [(s.name or s.key, s.overall) for s in plotted], target),
        schools_not_plotted=[s.name or s.key for s in result.schools if s.overall.suppressed],
        heatmap=heat,
        heatmap_table=heat_table,
        heat_items=heat_items,
        lowest_items=table_view(items, items.rows[:LOWEST_ITEMS]),
        items=table_view(items),
        locations=_domain(result, "分地域（城区/镇区/乡村）", "地域", result.locations),
        stages=_domain(result, "分学段", "学段", result.stages),
        validity=table_view(validity),
        validity_rate="" if v is None or v.rate is None else f"{v.rate:.1%}",
        validity_threshold=f"{v.threshold:.0%}" if v else "70%",
        validity_below=bool(v and v.below_threshold),
        missing_strata=_missing(result),
        notes=[note.message for note in result.notes],
    )


async def results_page(survey_id: int, questionnaires: Mapping[str, Questionnaire]) -> tuple[SurveyResult, ResultsPage]:
    result = await round_result(survey_id, questionnaires=questionnaires)
    labels = item_labels(questionnaires)
    settings, base = await round_weights(survey_id)
    shares = school_item_shares(await school_item_counts(survey_id, questionnaires), settings, base)
    return result, build_page(result, labels, shares)


@dataclasses.dataclass(frozen=True)
class SchoolPage:
    code: str
    name: str
    shown: bool  # the school has enough answers to show
    respondents: int
    min_cell: int
    overall: TableView | None
    chart: charts.IntervalChart | None
    items: list[tuple[str, str, str]]  # (question text, share, rated answers) where shown


async def school_results_page(
    survey_id: int, school_code: str, questionnaires: Mapping[str, Questionnaire]
) -> SchoolPage:
    """One school's own row and groups, where cell sizes allow; nothing about other schools."""
    result = await round_result(survey_id, questionnaires=questionnaires)
    min_cell = result.design.min_cell_size
    row = next((s for s in result.schools if s.key == school_code), None)
    if row is None or row.overall.suppressed:
        return SchoolPage(
            code=school_code,
            name=row.name if row else "",
            shown=False,
            respondents=row.overall.n if row else 0,
            min_cell=min_cell,
            overall=None,
            chart=None,
            items=[],
        )
    level = f"{result.confidence_level:.0%}"
    parts = [("本校（合计）", row.overall)] + [
        (group_label(g), e) for g, e in row.groups.items() if g not in COUNTY_GROUP_NAMES and not e.suppressed
    ]
    table = domain_table("本校认可度", "调查对象", [], level)
    rows = [[label, *[e.estimate, e.ci_low, e.ci_high, e.se, e.n]] for label, e in parts]
    labels = item_labels(questionnaires)
    settings, base = await round_weights(survey_id)
    counts = {k: v for k, v in (await school_item_counts(survey_id, questionnaires)).items() if k[0] == school_code}
    shares = school_item_shares(counts, settings, base)
    items = [
        (labels.get(item, item), f"{share:.1%}", str(rated))
        for item in ordered_items([r.key for r in result.items], labels)
        for share, rated in [shares.get(school_code, {}).get(item, (None, 0))]
        if share is not None and rated >= min_cell
    ]
    return SchoolPage(
        code=school_code,
        name=row.name,
        shown=True,
        respondents=row.overall.n,
        min_cell=min_cell,
        overall=table_view(table, rows),
        chart=_chart("本校认可度", parts, result.target),
        items=items,
    )
