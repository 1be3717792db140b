"""What the columns of a 问卷星 export mean: who answered (调查对象), which school, which columns are
rated items; inferred from the values, or stated in a mapping file (`--map FILE.toml`).

Inference: the identity column is the one whose answers are group names (学生, 家长 or 学生家长,
教师, 校长, 人大代表 or 政协委员, 其他群众 or 群众, …); the school column the one whose answers are the
roster's school names or codes (trimmed, full-width folded); the rated items every question column
whose answers are all labels of the scale (default 满意 / 比较满意 / 基本满意 / 不满意 / 不了解). Two
candidates for one role, or a column mostly but not only of scale labels, is refused with the
columns named: the mapping file then says which is which.

The mapping file (every table optional; a column is named by its header or by its 题号, "3", which
for a matrix question means all its rows):

    [identity]
    column = "1"                   # or: group = "parent" (the whole export is one group)
    [identity.labels]
    "孩子的家长" = "parent"         # more names of a group (besides the built-in ones)

    [school]
    column = "2"
    [school.names]
    "一小" = "WQ01"                 # more names of a roster school, by its code

    [items]
    columns = ["3", "4", "5"]      # the rated items, in order
    [items.ids]
    "3" = "moral_education"        # for `import`: the round's questionnaire item of a column

    [[scale]]                      # the answer scale, as in a questionnaire file
    label = "满意"
    recognised = true
    score = 100
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import tomllib
from collections import Counter
from collections.abc import Sequence
from typing import Literal

import msgspec

from survey_service.core.groups import COUNTY_GROUPS, GROUP_LABELS, Group
from survey_service.results.wjx_infer import infer_identity, infer_items, infer_school, school_of, serial_of
from survey_service.results.wjx_input import WjxColumn, WjxError, WjxTable, normalised, skipped
from survey_service.results.wjx_text import text_columns

IDENTITY_LABELS: dict[str, Group] = {
    **{normalised(label): group for group, label in GROUP_LABELS.items()},
    **{g.value: g for g in Group},
    "学生": Group.student,
    "在校学生": Group.student,
    "中小学生": Group.student,
    "家长": Group.parent,
    "学生家长": Group.parent,
    "学生的家长": Group.parent,
    "家长/监护人": Group.parent,
    "监护人": Group.parent,
    "教师": Group.teacher,
    "老师": Group.teacher,
    "在职教师": Group.teacher,
    "学校教师": Group.teacher,
    "校长": Group.principal,
    "学校校长": Group.principal,
    "人大代表": Group.deputy,
    "政协委员": Group.deputy,
    "人大代表或政协委员": Group.deputy,
    "人大代表、政协委员": Group.deputy,
    "人大代表和政协委员": Group.deputy,
    "其他群众": Group.public,
    "群众": Group.public,
    "社会群众": Group.public,
    "社会人士": Group.public,
    "其他社会人士": Group.public,
    "社区居民": Group.public,
    "其他": Group.public,
}


class ScaleOption(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    label: str
    recognised: bool = False
    excluded: bool = False  # 不了解: left out of the respondent's share
    score: float | None = None


DEFAULT_SCALE = (
    ScaleOption(label="满意", recognised=True, score=100),
    ScaleOption(label="比较满意", recognised=True, score=80),
    ScaleOption(label="基本满意", recognised=True, score=60),
    ScaleOption(label="不满意", score=0),
    ScaleOption(label="不了解", excluded=True),
)


class IdentityMap(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    column: str | None = None
    group: str | None = None
    labels: dict[str, str] = {}


class SchoolMap(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    column: str | None = None
    names: dict[str, str] = {}


class ItemsMap(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    columns: list[str] = []
    ids: dict[str, str] = {}


class WjxMap(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    identity: IdentityMap = IdentityMap()
    school: SchoolMap = SchoolMap()
    items: ItemsMap = ItemsMap()
    scale: list[ScaleOption] = []


def read_map(name: str, content: bytes) -> WjxMap:
    try:
        return msgspec.convert(tomllib.loads(content.decode("utf-8-sig")), WjxMap)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise WjxError(f"{name}：不是有效的 TOML 文件（{exc}）。") from None
    except msgspec.ValidationError as exc:
        raise WjxError(f"{name}：映射文件内容有误（{exc}）。") from None


class School(msgspec.Struct, frozen=True):
    code: str
    name: str


@dataclasses.dataclass(frozen=True)
class WjxAnswer:
    """One 答卷 placed: its group, school and rated answers (normalised scale labels, None skipped)."""

    line: int
    serial: str  # 序号
    submitted_at: str
    seconds: int | None
    group: Group
    school: str | None  # roster code; None for a county-level group
    ratings: tuple[str | None, ...]
    # Its identity in this round: the same 答卷 exported again (xlsx or csv) has the same digest.
    digest: str


@dataclasses.dataclass
class WjxMapping:
    table: WjxTable
    identity: WjxColumn | None
    school: WjxColumn | None
    items: list[WjxColumn]
    scale: Sequence[ScaleOption]
    answers: list[WjxAnswer]
    # (序号, why) of the rows left out with --unmatched skip
    left_out: list[tuple[str, str]]
    item_ids: dict[int, str]  # column index -> questionnaire item id, from the mapping file
    # Free-text columns (意见和建议, wjx_text.py): stored by `import`, never analysed.
    texts: list[WjxColumn] = dataclasses.field(default_factory=list)

    def summary(self) -> list[str]:
        """What was mapped, in Chinese, one line each (printed to stderr; shown before an import)."""
        lines = [f"文件：{self.table.name}，{len(self.table.rows)} 份答卷"]
        lines.append(f"身份列：{self.identity.header}" if self.identity else "身份：由映射文件指定")
        lines.append(f"学校列：{self.school.header}" if self.school else "学校列：无（只有县级群体）")
        lines.append(f"评价题：{len(self.items)} 列（{'、'.join(c.label for c in self.items)}）")
        if self.texts:
            lines.append(f"意见建议（文字题，不参与计算）：{'、'.join(c.label for c in self.texts)}")
        counts = Counter(a.group for a in self.answers)
        per_group = "，".join(f"{GROUP_LABELS[g]} {counts[g]}" for g in Group if counts[g])
        lines.append(f"各群体答卷：{per_group or '无'}")
        ignored = [
            c
            for c in self.table.columns
            if c.kind in ("question", "unknown") and c not in self.roles and c not in self.texts
        ]
        if ignored:
            lines.append(f"未使用的列：{'、'.join(c.label for c in ignored)}")
        lines += [f"未计入：序号 {serial}，{why}" for serial, why in self.left_out]
        return lines

    @property
    def roles(self) -> list[WjxColumn]:
        return [c for c in (self.identity, self.school, *self.items) if c is not None]


Unmatched = Literal["error", "skip"]


def map_export(
    table: WjxTable, schools: Sequence[School], given: WjxMap | None = None, unmatched: Unmatched = "error"
) -> WjxMapping:
    """Each row of the export as a WjxAnswer; WjxError naming the columns, or the row (序号) and the
    value, for what cannot be placed (unless `unmatched="skip"`: then it is left out and listed)."""
    given = given or WjxMap()
    scale = tuple(given.scale) or DEFAULT_SCALE
    labels = {normalised(o.label) for o in scale}
    group_names = IDENTITY_LABELS | {normalised(k): _group(table, v) for k, v in given.identity.labels.items()}
    school_names = _school_names(table, schools, given.school.names)
    fixed_group = _group(table, given.identity.group) if given.identity.group else None
    identity = None
    if fixed_group is None:
        identity = _named(table, given.identity.column, "identity") or infer_identity(table, group_names)
    school = _named(table, given.school.column, "school") or infer_school(table, school_names, exclude=identity)
    taken = {c.index for c in (identity, school) if c is not None}
    item_ids = {c.index: item for ref, item in given.items.ids.items() for c in _columns(table, ref)}
    if given.items.columns:
        items = [c for ref in given.items.columns for c in _columns(table, ref)]
    else:
        # A text question is never a rated item, even when every answer written is 满意.
        items = infer_items(table, labels, taken | {c.index for c in text_columns(table, taken, set())})
    texts = text_columns(table, taken | {c.index for c in items}, set(item_ids))
    if not items:
        raise WjxError(
            f"{table.name}：找不到评价题（答案为“{'/'.join(o.label for o in scale)}”的题目列）；"
            "请用 --map 映射文件指定题目列和量表。"
        )
    mapping = WjxMapping(table, identity, school, items, scale, [], [], item_ids, texts)
    _place_rows(mapping, group_names, fixed_group, school_names, labels, unmatched)
    return mapping


def _group(table: WjxTable, value: str) -> Group:
    found = IDENTITY_LABELS.get(normalised(value))
    if found is None:
        raise WjxError(f"{table.name}：映射文件中的群体“{value}”无法识别（应为 {'|'.join(g.value for g in Group)}）。")
    return found


def _school_names(table: WjxTable, schools: Sequence[School], extra: dict[str, str]) -> dict[str, str]:
    names: dict[str, str] = {}
    for school in schools:
        names[normalised(school.name)] = school.code
        names[normalised(school.code).upper()] = school.code
    codes = {s.code for s in schools}
    for name, code in extra.items():
        if code not in codes:
            raise WjxError(f"{table.name}：映射文件中的学校代码“{code}”不在学校名单中。")
        names[normalised(name)] = code
    return names


def _columns(table: WjxTable, ref: str) -> list[WjxColumn]:
    """The columns a mapping file names: by header (as written, or normalised) or by 题号."""
    key = normalised(ref)
    found = [c for c in table.columns if normalised(c.header) == key]
    if not found and key.isdigit():
        found = [c for c in table.questions() if c.number == int(key)]
    if not found:
        raise WjxError(f"{table.name}：映射文件指定的列“{ref}”不在文件中。")
    return found


def _named(table: WjxTable, ref: str | None, role: str) -> WjxColumn | None:
    if not ref:
        return None
    found = _columns(table, ref)
    if len(found) > 1:
        raise WjxError(f"{table.name}：映射文件中 {role} 的列“{ref}”对应多列，请写出完整表头。")
    return found[0]


def _seconds(text: str) -> int | None:
    """所用时间 as 问卷星 writes it: "125秒", "2分5秒", or a number of seconds."""
    text = normalised(text)
    if text.isdigit():
        return int(text)
    parts = re.fullmatch(r"(?:(\d+)小时)?(?:(\d+)分(?:钟)?)?(?:(\d+)秒)?", text)
    if not text or parts is None:
        return None
    hours, minutes, seconds = (int(p or 0) for p in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


def _place_rows(
    mapping: WjxMapping,
    group_names: dict[str, Group],
    fixed_group: Group | None,
    school_names: dict[str, str],
    labels: set[str],
    unmatched: Unmatched,
) -> None:
    table = mapping.table
    time_column, seconds_column = table.column("submitted_at"), table.column("seconds")
    seen: set[str] = set()
    for position, (line, cells) in enumerate(table.rows):
        serial = serial_of(table, position)
        if serial in seen:
            raise WjxError(f"{table.name}：序号 {serial} 出现了两次。")
        seen.add(serial)
        problem, group, code = None, fixed_group, None
        if mapping.identity is not None:
            value = cells[mapping.identity.index]
            group = None if skipped(value) else group_names.get(normalised(value))
            if group is None:
                problem = f"身份“{value or '(空)'}”无法识别"
        if group is not None and group not in COUNTY_GROUPS:
            value = cells[mapping.school.index] if mapping.school else ""
            code = None if skipped(value) else school_of(school_names, value)
            if code is None:
                problem = f"学校“{value.strip() or '(空)'}”不在学校名单中"
        if problem is not None or group is None:
            if unmatched == "error":
                raise WjxError(
                    f"{table.name} 序号 {serial}（第 {line} 行）：{problem}。"
                    "请改正文件，或用 --unmatched skip 跳过这样的答卷。"
                )
            mapping.left_out.append((serial, problem or ""))
            continue
        ratings = tuple(None if skipped(v := cells[c.index]) else normalised(v) for c in mapping.items)
        for column, rating in zip(mapping.items, ratings):
            if rating is not None and rating not in labels:
                raise WjxError(
                    f"{table.name} 序号 {serial}（第 {line} 行）：{column.label} 的答案“{cells[column.index]}”"
                    f"不是量表选项（{'/'.join(o.label for o in mapping.scale)}）。"
                )
        submitted = cells[time_column.index] if time_column else ""
        digest = hashlib.sha256(
            msgspec.json.encode([normalised(submitted), serial, group.value, code, ratings])
        ).hexdigest()[:12]
        mapping.answers.append(
            WjxAnswer(
                line=line,
                serial=serial,
                submitted_at=submitted,
                seconds=_seconds(cells[seconds_column.index]) if seconds_column else None,
                group=group,
                school=code,
                ratings=ratings,
                digest=digest,
            )
        )
    if not mapping.answers:
        raise WjxError(f"{table.name}：没有可以计入的答卷。")
