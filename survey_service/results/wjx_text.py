"""A 问卷星 export's free-text question (意见和建议) and the questionnaire's text item it is stored as.

Which columns hold free text: a question column (not a matrix row) that asks for 意见/建议 and not
for a rating (`14、您对本县义务教育工作还有哪些意见和建议？`), or one the mapping file names in
`[items.ids]` without listing it among the rated items. `analyze` reports them and leaves them out;
`import` stores each answer's text under the questionnaire's text item, by `[items.ids]`, else by the
question's wording, else when the export and the questionnaire have one each. The text itself is
checked as the answer page's is (respond/answers.check_answers: trimmed, its length limit, control
characters refused); `(跳过)`, `(空)` or an empty cell is no text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.results.wjx_input import WjxColumn, WjxError, WjxTable, skipped

# A question asking for free text, and not for a rating (a rated item may mention 建议: "您对学校
# 听取家长建议的情况是否满意？").
_ASKS_TEXT = ("意见", "建议", "留言", "想说", "想对")
_ASKS_RATING = ("满意", "认可", "评价")


def comparable(text: str) -> str:
    """A question's text as compared with an item's: no punctuation, spaces or question marks."""
    return re.sub(r"[\s\W_]+", "", unicodedata.normalize("NFKC", text))


def text_columns(table: WjxTable, taken: set[int], named: set[int]) -> list[WjxColumn]:
    """The free-text columns among those no other role took; `named`: columns the mapping file's
    [items.ids] names (a named column that is not a rated item is a text column)."""
    return [
        c
        for c in table.questions()
        if c.index not in taken
        and (
            c.index in named
            or (
                c.row_label is None
                and any(w in c.text for w in _ASKS_TEXT)
                and not any(w in c.text for w in _ASKS_RATING)
            )
        )
    ]


def text_ids(
    name: str, columns: Sequence[WjxColumn], named: dict[int, str], questionnaire: Questionnaire
) -> dict[int, str]:
    """Column index -> the questionnaire's text item it is stored as (columns it cannot place are
    left out: `text_line` says so)."""
    items = [item for item in questionnaire.items if item.kind is ItemKind.text]
    ids = {item.id for item in items}
    found: dict[int, str] = {}
    for column in columns:
        if column.index in named:
            if named[column.index] not in ids:
                raise WjxError(
                    f"映射文件：{column.label} 是文字题，问卷“{questionnaire.title}”中没有文字题 {named[column.index]}。"
                )
            found[column.index] = named[column.index]
    rest = [c for c in columns if c.index not in found]
    free = [item for item in items if item.id not in found.values()]
    for column in rest:
        wanted = comparable(column.text)
        match = [i for i in free if wanted and (wanted in comparable(i.text) or comparable(i.text) in wanted)]
        if len(match) == 1:
            found[column.index] = match[0].id
            free.remove(match[0])
    rest = [c for c in rest if c.index not in found]
    if len(rest) == 1 and len(free) == 1:
        found[rest[0].index] = free[0].id
    elif rest and free:
        raise WjxError(
            f"{name}：文字题 {'、'.join(c.label for c in rest)} 无法与问卷“{questionnaire.title}”的意见建议题对应；"
            "请在映射文件的 [items.ids] 中写出对应的题目编号。"
        )
    return found


def given_texts(cells: Sequence[str], ids: dict[int, str]) -> dict[str, str]:
    """{text item id: the answer's text} of one row, as the answer page would post it."""
    return {item_id: cells[index] for index, item_id in ids.items() if not skipped(cells[index])}


def text_line(columns: Sequence[WjxColumn], ids: dict[int, str], questionnaire: Questionnaire) -> str | None:
    """What becomes of the text columns for one questionnaire, in Chinese (shown before importing)."""
    if not columns:
        return None
    position = {item.id: k for k, item in enumerate(questionnaire.items, start=1)}
    pairs = [f"{c.label}→问卷第{position[ids[c.index]]}题" for c in columns if c.index in ids]
    left = [c.label for c in columns if c.index not in ids]
    line = f"意见建议（{questionnaire.title}）：{'；'.join(pairs) or '无对应题目'}"
    return line + (f"；未导入：{'、'.join(left)}" if left else "")
