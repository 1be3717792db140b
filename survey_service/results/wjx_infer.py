"""Which column of a 问卷星 export plays which role, inferred from its answers (wjx_map.py explains the
rules): the identity column, the school column, the rated items."""

from __future__ import annotations

from survey_service.core.groups import Group
from survey_service.results.wjx_input import MULTIPLE, WjxColumn, WjxError, WjxTable, normalised, skipped

# A column is the identity (or school) column when at least this share of its answers are group
# names (roster schools); the rest are values it cannot place, reported by row.
ROLE_SHARE = 0.8
SCHOOL_SHARE = 0.5


def school_of(names: dict[str, str], value: str) -> str | None:
    key = normalised(value)
    return names.get(key) or names.get(key.upper())


def _answers(table: WjxTable, column: WjxColumn) -> list[tuple[int, str]]:
    """(row position, cell) of the answers given in a column (skipped ones left out)."""
    return [(r, cells[column.index]) for r, (_, cells) in enumerate(table.rows) if not skipped(cells[column.index])]


def _candidates(table: WjxTable, exclude: set[int]) -> list[WjxColumn]:
    kinds = ("question", "unknown", "other")
    return [c for c in table.columns if c.kind in kinds and c.index not in exclude]


def infer_identity(table: WjxTable, names: dict[str, Group]) -> WjxColumn:
    found = []
    for column in _candidates(table, set()):
        given = _answers(table, column)
        known = sum(normalised(v) in names for _, v in given)
        if given and known >= ROLE_SHARE * len(given) and not any(MULTIPLE in v for _, v in given):
            found.append(column)
    if len(found) > 1:
        raise WjxError(
            f"{table.name}：无法确定身份列，{'、'.join(c.label for c in found)} 都像是调查对象；"
            "请用 --map 映射文件的 [identity] column 指定。"
        )
    if not found:
        raise WjxError(
            f"{table.name}：找不到身份列（答案为学生、家长、教师、校长、人大代表、政协委员、其他群众的题目）；"
            '若整个文件是同一群体，请用 --map 映射文件写 [identity] group = "parent" 等。'
        )
    return found[0]


def infer_school(table: WjxTable, names: dict[str, str], exclude: WjxColumn | None) -> WjxColumn | None:
    found = []
    for column in _candidates(table, {exclude.index} if exclude else set()):
        given = _answers(table, column)
        known = sum(school_of(names, v) is not None for _, v in given)
        if known and known >= SCHOOL_SHARE * len(given):
            found.append(column)
    if len(found) > 1:
        raise WjxError(
            f"{table.name}：无法确定学校列，{'、'.join(c.label for c in found)} 的答案都像学校名称；"
            "请用 --map 映射文件的 [school] column 指定。"
        )
    return found[0] if found else None


def infer_items(table: WjxTable, labels: set[str], taken: set[int]) -> list[WjxColumn]:
    items = []
    for column in table.questions():
        if column.index in taken:
            continue
        given = _answers(table, column)
        odd = [(r, v) for r, v in given if normalised(v) not in labels]
        if given and not odd:
            items.append(column)
        elif given and len(odd) <= len(given) / 2:
            serial = serial_of(table, odd[0][0])
            raise WjxError(
                f"{table.name}：{column.label} 的答案大多是量表选项，但序号 {serial} 的答案“{odd[0][1]}”不是"
                f"（共 {len(odd)} 个这样的答案）；请改正文件，或用 --map 映射文件指定题目列和量表。"
            )
    return items


def serial_of(table: WjxTable, position: int) -> str:
    column = table.column("serial")
    line, cells = table.rows[position]
    return cells[column.index] if column is not None and cells[column.index] else f"(第 {line} 行)"
