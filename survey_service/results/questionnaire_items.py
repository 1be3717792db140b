"""The items of each questionnaire as display tables: numbered as the questionnaire numbers them, with
their own wording. Questionnaires share item ids (学生卷, 校长教师卷 and 社会卷 all ask about
"moral_education") but word them differently, so items are never merged across questionnaires here:
each questionnaire's items come from its own respondents (results.service.QuestionnaireItems).
Ids never reach a reader: a questionnaire is named by its short title (社会卷), an item by its number
and text.
"""

from __future__ import annotations

import re

import numpy as np

from analysis import Settings, SurveyResult
from survey_service.questionnaire import Questionnaire
from survey_service.results.school_items import ItemCount, ItemCounts, Shares, school_item_shares, visible_share
from survey_service.results.service import QuestionnaireItems
from survey_service.results.tables import Column, Table

LOWEST_ITEMS = 5
_SHORT = re.compile(r"[（(]([^（）()]+)[）)]\s*$")


def short_title(questionnaire: Questionnaire) -> str:
    """社会卷 from "…调查问卷（社会卷）"; the whole title when it has no such ending."""
    found = _SHORT.search(questionnaire.title)
    return found.group(1) if found else questionnaire.title


def item_numbers(questionnaire: Questionnaire) -> dict[str, int]:
    """Rated item id -> its number among the questionnaire's rated items (1, 2, …)."""
    return {item.id: k + 1 for k, item in enumerate(questionnaire.rated_items)}


def _estimate_columns(level: str) -> list[Column]:
    return [
        Column("认可度", "percent"),
        Column(f"{level}置信区间下限", "percent"),
        Column(f"{level}置信区间上限", "percent"),
        Column("作答人数", "integer"),
    ]


def items_table(part: QuestionnaireItems, level: str) -> Table:
    """One questionnaire's items in its own order: number, full text, 认可度 with its interval."""
    rows_of = {row.key: row for row in part.items}
    rows: list[list[object]] = []
    for number, item in enumerate(part.questionnaire.rated_items, start=1):
        row = rows_of.get(item.id)
        if row is None:
            rows.append([f"题{number}", item.text, "", "", "", 0, ""])
            continue
        e = row.overall
        rows.append(
            [f"题{number}", item.text, e.estimate, e.ci_low, e.ci_high, e.n, "" if e.score is None else e.score]
        )
    columns = [Column("题号"), Column("题目"), *_estimate_columns(level), Column("平均得分", "number")]
    return Table(f"分题目（{short_title(part.questionnaire)}）", columns, rows)


def all_items_table(parts: list[QuestionnaireItems], level: str) -> Table:
    """Every questionnaire's items, one row each, with the questionnaire's short title (the workbook)."""
    rows = [[short_title(part.questionnaire), *row] for part in parts for row in items_table(part, level).rows]
    columns = [Column("问卷"), Column("题号"), Column("题目"), *_estimate_columns(level), Column("平均得分", "number")]
    return Table("分题目", columns, rows)


def lowest_items_table(parts: list[QuestionnaireItems], level: str, count: int = LOWEST_ITEMS) -> Table:
    """The items with the lowest 认可度 over all questionnaires, each under its questionnaire's name."""
    found = []
    for part in parts:
        numbers = item_numbers(part.questionnaire)
        texts = {item.id: item.text for item in part.questionnaire.rated_items}
        for row in part.items:
            if row.key in numbers and not row.overall.suppressed:
                found.append(
                    (row.overall.estimate, short_title(part.questionnaire), numbers[row.key], texts[row.key], row)
                )
    found.sort(key=lambda f: f[0])
    rows = [
        [f"{title} 题{number}", text, row.overall.estimate, row.overall.ci_low, row.overall.ci_high, row.overall.n]
        for _, title, number, text, row in found[:count]
    ]
    return Table("认可度最低的题目", [Column("题目"), Column("内容"), *_estimate_columns(level)], rows)


def item_counts(part: QuestionnaireItems) -> ItemCounts:
    """Rated and 认可 answers per school × group × item of this questionnaire (schools only)."""
    return {
        (t.school, t.group, t.item): ItemCount(rated=t.n_rated, recognised=t.n_recognised)
        for t in part.totals
        if t.school is not None
    }


def part_shares(part: QuestionnaireItems, settings: Settings, base: np.ndarray) -> Shares:
    return school_item_shares(item_counts(part), settings, base)


def school_item_table(part: QuestionnaireItems, result: SurveyResult, shares: Shares) -> Table:
    """School × item 认可 shares of one questionnaire (columns 题1…题N of that questionnaire); None
    where the school is suppressed or the item has too few answers there."""
    min_cell = result.design.min_cell_size
    items = part.questionnaire.rated_items
    rows: list[list[object]] = [
        [
            school.name or school.key,
            *[visible_share(shares, school.key, item.id, min_cell, not school.overall.suppressed) for item in items],
        ]
        for school in result.schools
    ]
    columns = [Column("学校"), *[Column(f"题{k + 1}", "percent") for k in range(len(items))]]
    return Table(f"分学校分题目（{short_title(part.questionnaire)}）", columns, rows)
