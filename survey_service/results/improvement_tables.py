"""整改清单 for readers (analysis/improvement.py): the cells 需重点整改, each item's share in the county
shortfall, and the cells too small to test, as display tables (Markdown report, workbook) and as the
words the results page and the printed report show (survey_service/console/improvement_view.py).
Schools by name, groups in Chinese, items by
their questionnaire's number and wording: never an id.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

from analysis import SurveyResult
from analysis.results import Improvement, ImprovementCell, UntestedCell
from survey_service.questionnaire import Questionnaire
from survey_service.results.questionnaire_items import item_numbers, short_title
from survey_service.results.service import QuestionnaireItems
from survey_service.results.tables import Column, Table, group_label

SECTION = "需重点整改"
UNTESTED = "样本过少，未检验"
SHEET = "整改清单"
ITEMS_SHEET = "题目缺口贡献"


class ItemNames:
    """An item as readers see it: (社会卷 题3, its text) from the questionnaire the round used; ("", its
    text) where only labels are known (`analyze`, items merged by id)."""

    def __init__(self, questionnaires: Mapping[str, Questionnaire], labels: Mapping[str, str]):
        self._questionnaires = questionnaires
        self._labels = labels

    @classmethod
    def of(cls, parts: Sequence[QuestionnaireItems] | None, labels: Mapping[str, str]) -> ItemNames:
        return cls({p.questionnaire.id: p.questionnaire for p in parts or []}, labels)

    def __call__(self, questionnaire: str | None, item: str) -> tuple[str, str]:
        q = self._questionnaires.get(questionnaire or "")
        if q is None:
            return "", self._labels.get(item, "题目")
        text = next((i.text for i in q.rated_items if i.id == item), "")
        number = item_numbers(q).get(item)
        return (f"{short_title(q)} 题{number}" if number else short_title(q)), text


def unit_name(cell: ImprovementCell | UntestedCell) -> str:
    """The school's name, or the group's Chinese name with 全县."""
    return cell.name or cell.key if cell.kind == "school" else f"全县{group_label(cell.key)}"


KIND_LABELS = {"school": "学校", "group": "调查对象"}


def method_lines(found: Improvement, target: float) -> list[str]:
    """How the list is made, in Chinese (page, report, Markdown)."""
    return [
        f"每个单元（某所学校的某道题、某类调查对象的某道题）与全县其余部分（不含该单元）比较，单侧检验它的认可度是否更低：按分层加权估计，"
        f"抽样误差用与全县结果相同的设计方差。对全部 {found.tested} 个单元的检验，用 Benjamini–Hochberg 方法把错误发现率控制在 "
        f"{found.fdr:.0%}：列入清单的单元中，平均至多约一成可能只是抽样波动，其余是真实的差距。",
        "差距 = 该单元认可度 − 全县该题认可度；校正后 p 值越小，证据越强（不超过 "
        f"{found.fdr:.2f} 才列入清单）。作答少于 {found.min_rated} 人的单元不作检验，记为“{UNTESTED}”，不视为问题。",
        f"题目的缺口贡献 = Σ 各类调查对象在全县认可度中的权重 × max(0, 目标 {target:.0%} − 该对象在该题上的认可度)，"
        "单位为百分点：若各类对象在该题上都达到目标，该题全县认可度约可提高的幅度。每位答卷人的认可度是其各题的平均，"
        "所以一道题提高 x 个百分点，全县社会认可度约提高 x 除以题目数。",
    ]


def flagged_table(found: Improvement, names: ItemNames, level: str) -> Table:
    rows: list[list[object]] = []
    for c in found.flagged:
        number, text = names(c.questionnaire, c.item)
        rows.append(
            [
                unit_name(c),
                KIND_LABELS[c.kind],
                number,
                text,
                c.estimate,
                c.ci_low,
                c.ci_high,
                c.county,
                c.gap,
                c.n,
                c.p_adjusted,
            ]
        )
    columns = [
        Column("单元"),
        Column("类别"),
        Column("题号"),
        Column("题目"),
        Column("认可度", "percent"),
        Column(f"{level}置信区间下限", "percent"),
        Column(f"{level}置信区间上限", "percent"),
        Column("全县该题认可度", "percent"),
        Column("差距", "percent"),
        Column("作答人数", "integer"),
        Column("校正后p值", "p_value"),
    ]
    return Table(SECTION, columns, rows)


def shortfall_table(found: Improvement, names: ItemNames) -> Table:
    """Items ranked by their contribution to the county shortfall (those that contribute)."""
    rows: list[list[object]] = []
    for rank, row in enumerate((r for r in found.items if r.contribution > 0), start=1):
        number, text = names(row.questionnaire, row.item)
        rows.append([rank, number, text, row.county, row.contribution * 100, row.share or 0.0, row.flagged])
    columns = [
        Column("排名", "integer"),
        Column("题号"),
        Column("题目"),
        Column("全县该题认可度", "percent"),
        Column("缺口贡献（百分点）", "number"),
        Column("占全部缺口", "percent"),
        Column("需重点整改单元数", "integer"),
    ]
    return Table("各题目对全县缺口的贡献", columns, rows)


def untested_table(found: Improvement, names: ItemNames) -> Table:
    rows: list[list[object]] = []
    for c in found.untested:
        number, text = names(c.questionnaire, c.item)
        rows.append([unit_name(c), KIND_LABELS[c.kind], number, text, c.n])
    columns = [Column("单元"), Column("类别"), Column("题号"), Column("题目"), Column("作答人数", "integer")]
    return Table(UNTESTED, columns, rows)


def untested_summary(found: Improvement) -> str:
    """The cells not tested, counted per unit: 乙小学 3 题、全县校长 2 题."""
    counts: dict[str, int] = {}
    for c in found.untested:
        counts[unit_name(c)] = counts.get(unit_name(c), 0) + 1
    return "、".join(f"{unit} {count} 题" for unit, count in counts.items())


def workbook_tables(result: SurveyResult, names: ItemNames) -> list[Table]:
    """Sheet 整改清单 (every cell 需重点整改, then every cell 样本过少，未检验, with the conclusion) and sheet
    题目缺口贡献; none without item answers."""
    found = result.improvement
    if found is None:
        return []
    level = f"{result.confidence_level:.0%}"
    flagged, untested = flagged_table(found, names, level), untested_table(found, names)
    width = len(flagged.columns)
    rows = [[*row, SECTION] for row in flagged.rows]
    rows += [[*row[:4], *[""] * 5, row[4], "", UNTESTED] for row in untested.rows]
    assert all(len(row) == width + 1 for row in rows)
    sheet = Table(SHEET, [*flagged.columns, Column("结论")], rows)
    return [sheet, dataclasses.replace(shortfall_table(found, names), title=ITEMS_SHEET)]


def summary(found: Improvement) -> str:
    """One sentence: how many cells were tested and how many are below the county."""
    if not found.flagged:
        return f"共检验 {found.tested} 个单元，没有单元的认可度显著低于全县（错误发现率 {found.fdr:.0%}）。"
    schools = len({c.key for c in found.flagged if c.kind == "school"})
    return (
        f"共检验 {found.tested} 个单元，{len(found.flagged)} 个单元的认可度显著低于全县（涉及 {schools} 所学校），"
        "按校正后 p 值从小到大列出。"
    )


def item_heading(names: ItemNames, questionnaire: str | None, item: str) -> str:
    """社会卷 题3：its text (the text alone without a questionnaire)."""
    number, text = names(questionnaire, item)
    return f"{number}：{text}" if number else text


def markdown_section(result: SurveyResult, names: ItemNames, table_text: Callable[[Table], str]) -> list[str]:
    """## 需重点整改 for `report --format md` and `analyze`: the list, the items by their contribution,
    the cells not tested; `table_text` renders a Table as Markdown (results.markdown)."""
    found = result.improvement
    if found is None:
        return []
    level = f"{result.confidence_level:.0%}"
    method = method_lines(found, result.target)
    lines = [f"## {SECTION}", "", summary(found), "", *[f"- {line}" for line in method], ""]
    if found.flagged:
        lines += [table_text(flagged_table(found, names, level)), ""]
    shortfall = shortfall_table(found, names)
    lines += [f"### {shortfall.title}", ""]
    lines += [table_text(shortfall), ""] if shortfall.rows else ["各题目在各类调查对象中均达到目标，没有缺口。", ""]
    if found.untested:
        lines += [
            f"{UNTESTED}（作答少于 {found.min_rated} 人，不视为问题）：{len(found.untested)} 个单元——"
            f"{untested_summary(found)}。",
            "",
        ]
    return lines
