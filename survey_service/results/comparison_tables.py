"""与上一轮对比 as display tables and sentences: one source for the Markdown report, the workbook (sheets
与上一轮对比 and 历年趋势) and the console page. Items are named as their questionnaire numbers them
(社会卷 题3) with their wording, schools by name, groups in Chinese: no id reaches a reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from analysis import SurveyResult
from analysis.comparison_results import Change, Comparison
from survey_service.questionnaire import Questionnaire
from survey_service.results.questionnaire_items import item_numbers, short_title
from survey_service.results.service import QuestionnaireItems
from survey_service.results.tables import Column, Table, group_label

VERDICT_TEXTS = {"rise": "显著提高", "no_change": "无显著变化", "fall": "显著下降", "not_comparable": "不可比"}
REASON_TEXTS = {
    "changed": "题目表述或选项有变化",
    "missing": "其中一轮没有此项的答卷",
    "too_few": "答卷过少，不单独比较",
}
KINDS = {"overall": "总体", "groups": "分群体", "items": "分题目", "schools": "分学校"}
SHEET_TITLE, TREND_TITLE = "与上一轮对比", "历年趋势"
METHOD_TEXT = (
    "两轮为相互独立的样本：差值的方差为两轮方差之和，双侧 t 检验（自由度为两轮之和），"
    "p 值小于 {alpha} 时判为“显著提高”或“显著下降”，否则为“无显著变化”。题目按编号跨问卷版本对应，"
    "题目表述或选项有变化的记为“不可比”，不作比较；应答过少不单独显示的学校亦不比较。"
)


class ItemNamer:
    """An item's name for readers: 社会卷 题3 and its text, from the questionnaires the round used; the
    item's text alone where only labels are known (`analyze`)."""

    def __init__(self, questionnaires: Mapping[str, Questionnaire] = {}, labels: Mapping[str, str] = {}):
        self._questionnaires = questionnaires
        self._labels = labels

    @classmethod
    def of(cls, parts: Sequence[QuestionnaireItems] | None, labels: Mapping[str, str]) -> ItemNamer:
        """From the round's items per questionnaire (None: labels only)."""
        return cls({p.questionnaire.id: p.questionnaire for p in parts or []}, labels)

    def parts(self, change: Change) -> tuple[str, str]:
        """(社会卷 题3, the question's text); ("", text) where no questionnaire is known."""
        q = self._questionnaires.get(change.questionnaire or "")
        if q is not None:
            number = item_numbers(q).get(change.key)
            text = next((item.text for item in q.rated_items if item.id == change.key), "")
            return (f"{short_title(q)} 题{number}" if number else "", text)
        return "", self._labels.get(change.key, "题目")

    def __call__(self, change: Change) -> str:
        number, text = self.parts(change)
        return f"{number}：{text}" if number else text


def _columns(level: str) -> list[Column]:
    return [
        Column("类别"),
        Column("项目"),
        Column("本轮认可度", "percent"),
        Column("上一轮认可度", "percent"),
        Column("变化（本轮−上一轮）", "percent"),
        Column(f"变化的{level}置信区间下限", "percent"),
        Column(f"变化的{level}置信区间上限", "percent"),
        Column("双侧p值", "p_value"),
        Column("结论"),
    ]


def _blank(value: float | None) -> float | str:
    return "" if value is None else value


def _row(kind: str, name: str, c: Change) -> list[object]:
    verdict = VERDICT_TEXTS[c.verdict]
    if c.reason:
        verdict += f"（{REASON_TEXTS[c.reason]}）"
    tested = [_blank(c.difference), _blank(c.ci_low), _blank(c.ci_high), _blank(c.p_value)]
    return [kind, name, _blank(c.current), _blank(c.previous), *tested, verdict]


def lines(comparison: Comparison, name_item: Callable[[Change], str]) -> list[tuple[str, str, Change]]:
    """(kind, name, change) for every line: 总体, then groups, items and schools."""
    found = [] if comparison.overall is None else [(KINDS["overall"], "全县社会认可度", comparison.overall)]
    found += [(KINDS["groups"], name, c) for name, c in lines_of_groups(comparison)]
    found += [(KINDS["items"], name_item(c), c) for c in comparison.items]
    found += [(KINDS["schools"], c.name or "学校", c) for c in comparison.schools]
    return found


def changes_table(comparison: Comparison, name_item: Callable[[Change], str]) -> Table:
    level = f"{comparison.confidence_level:.0%}"
    rows = [_row(kind, name, c) for kind, name, c in lines(comparison, name_item)]
    return Table(SHEET_TITLE, _columns(level), rows)


def section_tables(comparison: Comparison, name_item: ItemNamer) -> list[Table]:
    """The lines as the page and the report show them: 总体与分群体, 分题目 (its number and its text in
    columns of their own, as the item tables have them), 分学校; those with lines."""
    columns = _columns(f"{comparison.confidence_level:.0%}")[1:]
    first = [("全县社会认可度", comparison.overall)] if comparison.overall else []
    named = [
        ("总体与分群体", columns, [_row("", name, c)[1:] for name, c in first + lines_of_groups(comparison)]),
        (
            "分题目",
            [Column("题号"), Column("题目"), *columns[1:]],
            [[*name_item.parts(c), *_row("", "", c)[2:]] for c in comparison.items],
        ),
        ("分学校", [Column("学校"), *columns[1:]], [_row("", c.name or "学校", c)[1:] for c in comparison.schools]),
    ]
    return [Table(title, cols, rows) for title, cols, rows in named if rows]


def lines_of_groups(comparison: Comparison) -> list[tuple[str, Change]]:
    return [(group_label(c.key), c) for c in comparison.groups]


def trend_table(comparison: Comparison) -> Table:
    columns = [
        Column("轮次"),
        Column("开始日期"),
        Column("社会认可度", "percent"),
        Column("置信区间下限", "percent"),
        Column("置信区间上限", "percent"),
        Column("答卷人数", "integer"),
        Column("备注"),
    ]
    rows: list[list[object]] = []
    for p in comparison.trend:
        note = "本轮" if p.current else "对比轮次" if p.round == comparison.previous_round else ""
        rows.append([p.title, p.date or "", p.estimate, p.ci_low, p.ci_high, p.n, note])
    return Table(TREND_TITLE, columns, rows)


def _points(d: float) -> str:
    return f"{d * 100:+.1f} 个百分点"


def headline(comparison: Comparison, p_value_text: Callable[[float], str]) -> str:
    """One sentence on the county figure against the previous round, with its test (its p-value
    written by `p_value_text`, the report's own: results/markdown.py)."""
    o = comparison.overall
    title = comparison.previous_title or "上一轮"
    if o is None or o.difference is None:
        return f"与“{title}”相比：其中一轮尚无有效答卷，无法比较全县社会认可度。"
    p = p_value_text(o.p_value or 0.0)
    return (
        f"与“{title}”相比，全县社会认可度由 {o.previous:.1%} 变为 {o.current:.1%}，变化 {_points(o.difference)}"
        f"（{comparison.confidence_level:.0%} 置信区间 {_points(o.ci_low or 0.0)} 至 {_points(o.ci_high or 0.0)}，"
        f"双侧检验 p {p if p[0] in '<>' else '= ' + p}）：{VERDICT_TEXTS[o.verdict]}。"
    )


def counts_text(comparison: Comparison) -> str:
    """How many items and schools rose, fell, stayed, or could not be compared."""
    parts = []
    for kind, found, unit in (("分题目", comparison.items, "道"), ("分学校", comparison.schools, "所")):
        if not found:
            continue
        counted = [
            f"{VERDICT_TEXTS[v]} {n} {unit}"
            for v in ("rise", "fall", "no_change", "not_comparable")
            if (n := sum(c.verdict == v for c in found))
        ]
        parts.append(f"{kind}：" + "，".join(counted))
    return "；".join(parts) + ("。" if parts else "")


def method_text(comparison: Comparison) -> str:
    return METHOD_TEXT.format(alpha=f"{1 - comparison.confidence_level:.2f}".rstrip("0"))


def markdown_section(
    result: SurveyResult,
    name_item: ItemNamer,
    table_text: Callable[[Table], str],
    p_value_text: Callable[[float], str],
) -> list[str]:
    """The report's section 与上一轮对比 (nothing when no previous round is named), its tables and
    p-values written as the report writes its own (results/markdown.py passes them)."""
    c = result.comparison
    if c is None:
        return []
    return [
        "## 与上一轮对比",
        "",
        headline(c, p_value_text),
        "",
        counts_text(c),
        "",
        method_text(c),
        "",
        *[line for table in section_tables(c, name_item) for line in (f"### {table.title}", "", table_text(table), "")],
        "### 历年趋势（本县各轮）",
        "",
        table_text(trend_table(c)),
        "",
    ]


def workbook_tables(result: SurveyResult, name_item: ItemNamer) -> list[Table]:
    """The sheets 与上一轮对比 and 历年趋势 (none when no previous round is named)."""
    c = result.comparison
    return [] if c is None else [changes_table(c, name_item), trend_table(c)]
