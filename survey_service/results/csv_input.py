"""`survey-service analyze`: answers collected elsewhere (CSV) turned into the analysis inputs.

RESPONSES.csv: `group`, `school` (empty for county-level groups), then either `score` (y in
[0, 1]) or one column per questionnaire item holding the chosen option's label or code (with a
questionnaire file), and optionally `valid` (0/1). SCHOOLS.csv (or .xlsx) is a roster as the console
imports it (schools/roster.py: code, name, students, parents, teachers, principals, headers in English
or Chinese), where stage and location may be left out. Every problem names its file and line.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path
from typing import cast, get_args

import msgspec
import numpy as np

from analysis import Settings, SurveyResult, ValidityCounts, analyse_responses
from analysis.design import WeightPreset
from analysis.recognition import recognition_matrix, score_matrix
from survey_service.core.csv_text import csv_text
from survey_service.core.errors import SurveyServiceError
from survey_service.core.groups import COUNTY_GROUPS, GROUP_LABELS, Group
from survey_service.questionnaire import Questionnaire
from survey_service.results.design import design
from survey_service.results.reasons import EXCLUDED_BY_REVIEW, NO_RATED_ANSWER
from survey_service.schools.roster import RosterError, parse_roster
from survey_service.schools.schemas import RosterSchool

GROUP_NAMES = (
    {g.value: g for g in Group}
    | {label: g for g, label in GROUP_LABELS.items()}
    | {"人大代表": Group.deputy, "政协委员": Group.deputy}
)
RESERVED = {"group", "school", "score", "valid"}


class InputError(SurveyServiceError):
    code = "invalid_input"
    message = "输入文件有误。"


@dataclasses.dataclass
class Answers:
    groups: list[str]
    schools: list[str | None]
    y: np.ndarray  # nan: not counted (not valid, or no rated answer)
    score: np.ndarray | None
    returned: int
    reviewed: int  # rows with valid = 0
    item_names: list[str] = dataclasses.field(default_factory=list)
    item_recognised: np.ndarray | None = None
    item_excluded: np.ndarray | None = None
    item_scores: np.ndarray | None = None


def read_rows(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """Header and (line number, row) pairs; UTF-8 (with or without BOM) or GB18030 (Excel)."""
    text = csv_text(path.read_bytes())
    if text is None:
        raise InputError(f"{path.name}：无法识别文件编码（请保存为 UTF-8）。")
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        raise InputError(f"{path.name}：文件为空。")
    reader.fieldnames = header
    rows = []
    for row in reader:
        if None in row:
            raise InputError(f"{path.name} 第 {reader.line_num} 行：列数多于表头。")
        if any((v or "").strip() for v in row.values()):
            rows.append((reader.line_num, {k: (v or "").strip() for k, v in row.items()}))
    if not rows:
        raise InputError(f"{path.name}：没有数据行。")
    return header, rows


def _number(path: Path, line: int, column: str, text: str, kind=float, low=0.0, high=None):
    try:
        value = kind(text)
    except ValueError:
        raise InputError(f"{path.name} 第 {line} 行：{column} 列的“{text}”不是有效数字。") from None
    if not np.isfinite(value) or value < low or (high is not None and value > high):
        bounds = f"{low} 到 {high}" if high is not None else f"不小于 {low}"
        raise InputError(f"{path.name} 第 {line} 行：{column} 列的 {text} 超出范围（应为 {bounds}）。")
    return value


def _require(path: Path, header: list[str], columns) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(f"{path.name}：缺少列 {', '.join(missing)}。")


def read_roster(path: Path) -> list[RosterSchool]:
    """The schools file, read as the console reads a roster (same columns, same problems by row)."""
    try:
        return parse_roster(path.name, path.read_bytes(), RosterSchool)
    except RosterError as exc:
        # "schools.csv 第 3 行：…" for a row, "schools.csv：…" for the file.
        named = [f"{path.name} {p}" if p.startswith("第") else f"{path.name}：{p}" for p in exc.problems]
        raise InputError("\n".join(named)) from None


def read_answers(path: Path, roster: list[RosterSchool], questionnaire: Questionnaire | None) -> Answers:
    header, rows = read_rows(path)
    _require(path, header, ("group", "school"))
    items = _item_columns(path, header, questionnaire)
    codes = {school.code for school in roster}
    groups: list[str] = []
    schools: list[str | None] = []
    valid: list[bool] = []
    for line, row in rows:
        group = GROUP_NAMES.get(row["group"])
        if group is None:
            raise InputError(
                f"{path.name} 第 {line} 行：未知的调查对象“{row['group']}”（应为 {'|'.join(g.value for g in Group)}）。"
            )
        school = row["school"] or None
        if group in COUNTY_GROUPS:
            school = None
        elif school is None:
            raise InputError(f"{path.name} 第 {line} 行：{group.value} 需要填写学校代码。")
        elif school not in codes:
            raise InputError(f"{path.name} 第 {line} 行：学校代码 {school} 不在学校名单中。")
        groups.append(group.value)
        schools.append(school)
        valid.append(row.get("valid", "") in ("", "1") or _number(path, line, "valid", row["valid"], int, 0, 1) == 1)
    counted = np.array(valid)
    answers = Answers(
        groups=groups,
        schools=schools,
        y=np.full(len(rows), np.nan),
        score=None,
        returned=len(rows),
        reviewed=int((~counted).sum()),
    )
    if items and questionnaire is not None:
        _decode_items(path, rows, questionnaire, items, answers)
    else:
        answers.y = np.array(
            [
                _number(path, line, "score", row["score"], float, 0.0, 1.0) if row["score"] else np.nan
                for line, row in rows
            ]
        )
    answers.y[~counted] = np.nan
    return answers


def _item_columns(path: Path, header: list[str], questionnaire: Questionnaire | None) -> list[str]:
    """The item columns (rated items of the questionnaire), or [] when `score` gives y."""
    if questionnaire is None:
        if "score" not in header:
            raise InputError(
                f"{path.name}：需要 score 列（每人的认可度 0–1），或用 --questionnaire 指定问卷并按题目给出选项。"
            )
        return []
    rated = [item.id for item in questionnaire.rated_items]
    found = [c for c in header if c in rated]
    if not found:
        raise InputError(f"{path.name}：没有与问卷 {questionnaire.id} 的题目对应的列（题目编号：{', '.join(rated)}）。")
    return found


def _decode_items(path: Path, rows, questionnaire: Questionnaire, columns: list[str], answers: Answers) -> None:
    """Option labels (or codes) -> recognised / excluded / score per respondent × item."""
    options = {o.label: o for o in questionnaire.scale} | {o.code: o for o in questionnaire.scale}
    shape = (len(rows), len(columns))
    recognised, excluded = np.zeros(shape, bool), np.ones(shape, bool)
    scores = np.full(shape, np.nan)
    for r, (line, row) in enumerate(rows):
        for j, column in enumerate(columns):
            if not row[column]:
                continue  # unanswered: left out like 不了解
            option = options.get(row[column])
            if option is None:
                raise InputError(
                    f"{path.name} 第 {line} 行：{column} 列的“{row[column]}”不是问卷选项"
                    f"（{'、'.join(o.label for o in questionnaire.scale)}）。"
                )
            recognised[r, j], excluded[r, j] = option.recognised, option.excluded
            scores[r, j] = np.nan if option.score is None else option.score
    weights = np.array([next(i.weight for i in questionnaire.items if i.id == c) for c in columns])
    answers.y = recognition_matrix(recognised, excluded, weights)
    has_scores = bool(np.isfinite(scores[~excluded]).any())
    answers.score = score_matrix(scores, excluded, weights) if has_scores else None
    answers.item_names, answers.item_recognised = columns, recognised
    answers.item_excluded, answers.item_scores = excluded, scores if has_scores else None


def analyse_files(
    roster: list[RosterSchool], answers: Answers, settings: Settings, county_populations: dict[Group, int]
) -> SurveyResult:
    if settings.design == "clusters":
        # The roster lists the county's schools; those with answers are the sampled clusters.
        settings = msgspec.structs.replace(settings, schools_in_county=len(roster))
    # County-level groups: those given a population, or answered as.
    files_design = design(roster, county_populations, settings, answered=list(zip(answers.groups, answers.schools)))
    counted = int(np.isfinite(answers.y).sum())
    excluded = {EXCLUDED_BY_REVIEW: answers.reviewed, NO_RATED_ANSWER: answers.returned - answers.reviewed - counted}
    validity = ValidityCounts(
        returned=answers.returned, valid=counted, excluded={reason: n for reason, n in excluded.items() if n > 0}
    )
    return analyse_responses(
        files_design,
        answers.schools,
        answers.groups,
        answers.y,
        answers.score,
        answers.item_names,
        answers.item_recognised,
        answers.item_excluded,
        answers.item_scores,
        validity,
    )


def parse_populations(given: tuple[str, ...]) -> dict[Group, int]:
    """--population deputy=236 (repeatable): populations of the county-level groups."""
    populations: dict[Group, int] = {}
    for text in given:
        group, number = _pair(text, "--population")
        try:
            populations[group] = int(number)
        except ValueError:
            raise InputError(f"--population {text}：人数“{number}”不是整数。") from None
        if populations[group] < 0:
            raise InputError(f"--population {text}：人数不能为负。")
    return populations


def parse_weights(text: str | None) -> dict[Group, float] | WeightPreset:
    """--weights parent=0.5,student=0.25,...: groups not named get weight 0."""
    if not text:
        return "default"
    if text in get_args(WeightPreset):
        return cast(WeightPreset, text)
    weights: dict[Group, float] = {}
    for part in text.split(","):
        group, number = _pair(part.strip(), "--weights")
        try:
            weights[group] = float(number)
        except ValueError:
            raise InputError(f"--weights {part}：权重“{number}”不是数字。") from None
        if not np.isfinite(weights[group]) or weights[group] < 0:
            raise InputError(f"--weights {part}：权重应为非负数。")
    if sum(weights.values()) <= 0:
        raise InputError("--weights：至少一个群体的权重应大于 0。")
    return weights


def _pair(text: str, option: str) -> tuple[Group, str]:
    group, sep, value = text.partition("=")
    found = GROUP_NAMES.get(group.strip())
    if not sep or found is None:
        raise InputError(f"{option} {text}：应写成 群体=数值，群体为 {'|'.join(g.value for g in Group)}。")
    return found, value.strip()
