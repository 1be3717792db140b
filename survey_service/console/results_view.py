"""A round's result as the console's results and report pages show it: plain data for the templates.

Every number comes from `round_result_by_questionnaire` through the display tables of
survey_service.results (tables, ranking, questionnaire_items: the same the workbook uses), formatted as
the Markdown report formats them; items are shown per questionnaire, with its own numbering and
wording, and so is each heatmap. Each table cell keeps its raw value too
(`data-value` on the page), so tests compare the page with the result exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from analysis import Estimate, SurveyResult
from analysis.results import SchoolRow
from survey_service.console import charts
from survey_service.console.improvement_view import ImprovementText, improvement_text
from survey_service.core.groups import OPERATOR_GROUPS, OPERATOR_MIN_CELL, SCHOOL_GROUPS
from survey_service.questionnaire import Questionnaire
from survey_service.results.comparison import with_comparison
from survey_service.results.improvement_tables import ItemNames
from survey_service.results.markdown import cell_text, p_value_text
from survey_service.results.national_check import NationalCheckText, national_check_text
from survey_service.results.note_texts import note_texts
from survey_service.results.questionnaire_items import (
    item_counts,
    items_table,
    lowest_items_table,
    part_shares,
    school_item_table,
    short_title,
)
from survey_service.results.ranking import IMPRECISE_NOTE, half_width, rank_schools, ranks, school_groups
from survey_service.results.school_items import round_weights, school_item_shares
from survey_service.results.service import QuestionnaireItems, round_result_by_questionnaire
from survey_service.results.small_area_texts import DIRECT_LABEL, SHRUNK_LABEL, method_paragraphs, ranking_note
from survey_service.results.tables import (
    INTERVAL_LABELS,
    VERDICT_LABELS,
    Column,
    Table,
    domain_table,
    group_label,
    groups_table,
    overall_table,
    validity_table,
)

NUMERIC = ("percent", "number", "integer", "p_value")
# A printed table shows at most this many columns beside its first (row heading) column: a wider one
# is printed as several tables, each repeating the first column (A4 portrait never cuts a column).
PRINT_COLUMNS = 8


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
    keep: int = 1  # leading columns that name a row (repeated in every printed part)

    @property
    def print_parts(self) -> list[TableView]:
        """The table as printed: one table, or, when it has more than PRINT_COLUMNS columns beside
        those naming its rows, several of about equal width, each with those columns again."""
        k = self.keep
        rest = len(self.columns) - k
        count = -(-rest // PRINT_COLUMNS)
        if count <= 1:
            return [self]
        size = -(-rest // count)
        return [
            TableView(
                self.title,
                [*self.columns[:k], *self.columns[k + start : k + start + size]],
                [[*row[:k], *row[k + start : k + start + size]] for row in self.rows],
                k,
            )
            for start in range(0, rest, size)
        ]


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
    p_value: str  # "< 0.001", "= 0.012"
    n: str
    n_eff: str  # "" for a census
    sample_note: str  # what the effective sample size is, and why it exceeds n or falls short of it
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
        p_value=_p_clause(o.p_value),
        n=f"{o.n:,}",
        n_eff="" if o.n_eff is None else f"{o.n_eff:,.0f}",
        sample_note=sample_note(o),
        target=target,
    )


def _p_clause(p: float) -> str:
    text = p_value_text(p)
    return text if text[0] in "<>" else f"= {text}"


def sample_note(e: Estimate) -> str:
    """答卷人数 (n) and 有效样本量 (n_eff) in words: what the second is and why it differs from the first."""
    n = f"{e.n:,}"
    if e.n_eff is None:
        return f"答卷人数 {n} 人。各层人员均已全部作答，没有抽样误差，不计算有效样本量。"
    n_eff = f"{e.n_eff:,.0f}"
    meaning = f"答卷人数 {n} 人，有效样本量 {n_eff}。有效样本量是精度与本调查相当的简单随机抽样的人数"
    if round(e.n_eff) > e.n:
        return (
            f"{meaning}；它大于答卷人数，因为不少学校的答卷人数占该校总人数的比例较高，"
            "按有限总体校正，一所学校答得越全，抽样误差越小，所以精度高于同样人数的简单随机抽样。"
        )
    if round(e.n_eff) < e.n:
        deff = "" if e.deff is None else f"（设计效应 {e.deff:.2f}）"
        return f"{meaning}；它小于答卷人数，因为各学校、各群体的答卷权重不等{deff}，加权使抽样误差增大。"
    return f"{meaning}，与答卷人数相当。"


@dataclasses.dataclass(frozen=True)
class QuestionnaireView:
    """One questionnaire's items: their texts and shares, and its own school × item heatmap."""

    anchor: str  # the section's id on the page
    title: str  # short: 社会卷
    full_title: str
    groups: str  # who answered it: 家长、人大代表/政协委员、其他群众
    items: TableView
    heatmap: charts.Heatmap | None
    heatmap_table: TableView


@dataclasses.dataclass(frozen=True)
class Ranking:
    ranked: TableView
    chart: charts.IntervalChart
    imprecise: TableView | None  # 样本不足
    imprecise_chart: charts.IntervalChart | None
    suppressed: list[str]  # names of schools with too few answers to show
    rule: str  # how the schools are ranked, in sentences
    method: list[str]  # the adjusted figure explained (report's method section); empty without one


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
    schools: Ranking
    lowest_items: TableView
    questionnaires: list[QuestionnaireView]
    locations: tuple[TableView, charts.IntervalChart] | None
    stages: tuple[TableView, charts.IntervalChart] | None
    validity: TableView
    validity_rate: str
    validity_threshold: str
    validity_below: bool
    missing_strata: list[str]
    notes: list[str]
    national_check: NationalCheckText | None = None  # 迎检预判 (templates/console/_national_check.html)
    improvement: ImprovementText | None = None  # 整改清单 (templates/console/_improvement.html)


def _chart(title: str, rows, target: float) -> charts.IntervalChart:
    return charts.interval_chart(title, [(label, e.estimate, e.ci_low, e.ci_high) for label, e in rows], target)


def _domain(result: SurveyResult, title: str, key: str, rows) -> tuple[TableView, charts.IntervalChart] | None:
    if not rows:
        return None
    table = domain_table(title, key, rows, f"{result.confidence_level:.0%}")
    shown = [(row.key, row.overall) for row in rows if not row.overall.suppressed]
    return table_view(table), _chart(title, shown, result.target)


def _missing(result: SurveyResult) -> list[str]:
    names = {s.key: s.name or s.key for s in result.schools}
    return [
        f"{group_label(m.group)} · {names.get(m.school, m.school) if m.school else '全县'}"
        + (f"（占该群体人数 {m.population_share:.1%}）" if m.population_share is not None else "")
        for m in result.coverage.missing
    ]


def _ranking(result: SurveyResult) -> Ranking:
    """Schools ranked by their adjusted (Fay–Herriot) figure, the direct one beside it; without one, those whose
    interval is narrow enough, ranked, the others apart as 样本不足 (see results.ranking)."""
    level = f"{result.confidence_level:.0%}"
    groups = school_groups(result)
    schools = rank_schools(result)
    names = {s.key: s.name or s.key for s in result.schools}

    def rows(found: list[SchoolRow], ranked: bool) -> list[list[object]]:
        places = ranks(schools) if ranked else []
        return [
            [
                *([places[k]] if ranked else []),
                names[s.key],
                s.stage or "",
                s.location or "",
                *([] if s.shrunk is None else [s.shrunk.estimate, f"{s.shrunk.ci_low:.1%}–{s.shrunk.ci_high:.1%}"]),
                s.overall.estimate,
                f"{s.overall.ci_low:.1%}–{s.overall.ci_high:.1%}",
                *([] if schools.shrunk else [f"±{half_width(s.overall) * 100:.1f}"]),
                s.overall.n,
                *["" if (e := s.groups.get(g)) is None else (None if e.suppressed else e.estimate) for g in groups],
            ]
            for k, s in enumerate(found)
        ]

    columns = [
        Column("学校"),
        Column("学段"),
        Column("位置"),
        *([Column(SHRUNK_LABEL, "percent"), Column(f"调整后{level}区间")] if schools.shrunk else []),
        Column(DIRECT_LABEL if schools.shrunk else "认可度", "percent"),
        Column(f"{level}置信区间"),
        *([] if schools.shrunk else [Column("精度（百分点）")]),
        Column("答卷人数", "integer"),
        *[Column(group_label(g), "percent") for g in groups],
    ]
    ranked = Table("参与排名的学校", [Column("名次", "integer"), *columns], rows(schools.ranked, True))
    imprecise = Table("样本不足的学校", columns, rows(schools.imprecise, False))
    target = result.target
    return Ranking(
        ranked=dataclasses.replace(table_view(ranked), keep=2),
        chart=_chart(
            "分学校调整后认可度（从高到低）" if schools.shrunk else "分学校认可度（参与排名，从高到低）",
            [(names[s.key], s.shrunk or s.overall) for s in schools.ranked],
            target,
        ),
        imprecise=table_view(imprecise) if schools.imprecise else None,
        imprecise_chart=(
            _chart("样本不足的学校（区间过宽，不排名）", [(names[s.key], s.overall) for s in schools.imprecise], target)
            if schools.imprecise
            else None
        ),
        suppressed=[names[s.key] for s in schools.suppressed],
        rule=ranking_note(result) if schools.shrunk else IMPRECISE_NOTE,
        method=method_paragraphs(result),
    )


def _questionnaire(result: SurveyResult, part: QuestionnaireItems, shares, index: int) -> QuestionnaireView:
    level = f"{result.confidence_level:.0%}"
    table = school_item_table(part, result, shares)
    numbers = [c.title.removeprefix("题") for c in table.columns[1:]]
    rows = [(str(row[0]), [v if isinstance(v, float) else None for v in row[1:]]) for row in table.rows]
    shown = [row for row, s in zip(rows, result.schools) if not s.overall.suppressed]
    heat = charts.heatmap(numbers, shown, result.target) if shown and numbers else None
    q = part.questionnaire
    return QuestionnaireView(
        anchor=f"questionnaire-{index}",
        title=short_title(q),
        full_title=q.title,
        groups="、".join(group_label(g) for g in q.groups),
        items=table_view(items_table(part, level)),
        heatmap=heat,
        heatmap_table=table_view(table),
    )


def build_page(result: SurveyResult, parts: list[QuestionnaireItems], shares: list) -> ResultsPage:
    """The page from the round's result, its items per questionnaire and each one's school × item shares."""
    target = result.target
    level = f"{result.confidence_level:.0%}"
    group_rows = [(group_label(g), e) for g, e in result.groups.items() if not e.suppressed]
    v = result.validity
    return ResultsPage(
        headline=headline(result),
        method=INTERVAL_LABELS[result.method],
        target=target,
        confidence_level=level,
        min_cell=result.design.min_cell_size,
        overall=table_view(overall_table(result)),
        overall_chart=(_chart("全县社会认可度", [("全县", result.overall)], target) if result.overall else None),
        groups=table_view(groups_table(result)),
        groups_chart=_chart("分群体认可度", group_rows, target),
        schools=_ranking(result),
        lowest_items=table_view(lowest_items_table(parts, level)),
        questionnaires=[_questionnaire(result, part, s, k + 1) for k, (part, s) in enumerate(zip(parts, shares))],
        locations=_domain(result, "分地域（城区/镇区/乡村）", "地域", result.locations),
        stages=_domain(result, "分学段", "学段", result.stages),
        validity=table_view(validity_table(result)),
        validity_rate="" if v is None or v.rate is None else f"{v.rate:.1%}",
        validity_threshold=f"{v.threshold:.0%}" if v else "70%",
        validity_below=bool(v and v.below_threshold),
        missing_strata=_missing(result),
        notes=note_texts(result),
        national_check=national_check_text(result),
        improvement=improvement_text(result, ItemNames.of(parts, {})),
    )


async def results_page(survey_id: int, questionnaires: Mapping[str, Questionnaire]) -> tuple[SurveyResult, ResultsPage]:
    result, parts = await round_result_by_questionnaire(survey_id, questionnaires=questionnaires)
    await with_comparison(survey_id, result, parts, questionnaires=questionnaires)  # 与上一轮对比, when chosen
    settings, base = await round_weights(survey_id)
    return result, build_page(result, parts, [part_shares(part, settings, base) for part in parts])


@dataclasses.dataclass(frozen=True)
class SchoolPage:
    code: str
    name: str
    shown: bool  # the school has enough answers to show
    respondents: int
    min_cell: int
    overall: TableView | None
    chart: charts.IntervalChart | None
    items: list[tuple[str, str, str, str]]  # (questionnaire and number, question text, share, rated answers)


async def school_results_page(
    survey_id: int, school_code: str, questionnaires: Mapping[str, Questionnaire], *, bureau: bool
) -> SchoolPage:
    """One school's own row and groups, where cell sizes allow; nothing about other schools.

    The bureau sees every group of the school. The school's own operator (in practice its principal)
    sees only its parents' and students' figures, each from at least OPERATOR_MIN_CELL answers: never
    its teachers' or principals' (they answer about their own school and employer), never the
    school's total (from which those could be worked out), never a cell that could single out a few.
    """
    result, questionnaire_parts = await round_result_by_questionnaire(survey_id, questionnaires=questionnaires)
    min_cell = result.design.min_cell_size if bureau else max(result.design.min_cell_size, OPERATOR_MIN_CELL)
    shown_groups = SCHOOL_GROUPS if bureau else OPERATOR_GROUPS
    row = next((s for s in result.schools if s.key == school_code), None)
    groups = {
        g: e
        for g, e in (row.groups.items() if row else [])
        if g in shown_groups and not e.suppressed and e.n >= min_cell
    }
    if row is None or (row.overall.suppressed if bureau else not groups):
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
    parts = ([("本校（合计）", row.overall)] if bureau else []) + [(group_label(g), e) for g, e in groups.items()]
    table = domain_table("本校认可度", "调查对象", [], level)
    rows = [[label, *[e.estimate, e.ci_low, e.ci_high, e.se, e.n]] for label, e in parts]
    settings, base = await round_weights(survey_id)
    items = []
    for part in questionnaire_parts:
        if not bureau and not set(part.questionnaire.groups) <= set(OPERATOR_GROUPS):
            continue  # the staff questionnaire: teachers' and principals' answers
        counts = {k: v for k, v in item_counts(part).items() if k[0] == school_code}
        shares = school_item_shares(counts, settings, base).get(school_code, {})
        title = short_title(part.questionnaire)
        for number, item in enumerate(part.questionnaire.rated_items, start=1):
            share, rated = shares.get(item.id, (None, 0))
            if share is not None and rated >= min_cell:
                items.append((f"{title} 题{number}", item.text, f"{share:.1%}", str(rated)))
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
