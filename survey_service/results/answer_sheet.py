"""A round's answers one respondent per row, de-identified (the workbook's 原始数据 sheet).

De-identified: the response id, school code, group, the day it came in, the questionnaire and each
rated or choice item's answer label, recognition, score, validity and flags. Never the device,
network or browser hashes, the nonce, the exact time, or free text (意见建议 may hold a name or a
phone number).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.answers import decode_choices
from survey_service.respond.quality import FLAG_LABELS, Flag
from survey_service.respond.tables import Response
from survey_service.results.questionnaire_items import item_numbers, short_title
from survey_service.results.reasons import LABELS as EXCLUSION_LABELS
from survey_service.results.tables import group_label

ANSWERS_SQL = """
SELECT response.id AS id, school.code AS school, respondent_group AS grp, questionnaire_id AS qid,
       questionnaire_version AS version, choices, recognition, score, submitted_at, valid, exclusion,
       flags
FROM response LEFT JOIN school ON school.id = response.school
WHERE response.survey = {}
ORDER BY response.id
"""

FIXED_COLUMNS = ["答卷编号", "学校代码", "调查对象", "提交日期", "问卷", "问卷版本"]
RESULT_COLUMNS = ["认可度", "得分", "是否有效", "无效原因", "质量标记"]


def _labelled_items(questionnaires: Mapping[str, Questionnaire]) -> dict[tuple[str, str], str]:
    """(questionnaire id, item id) -> column title, for the scale and choice items of every
    questionnaire in file order: "社会卷 题1", numbered as 分题目 numbers them. Questionnaires share item
    ids but word them differently, so each has columns of its own; an answer fills its own."""
    columns: dict[tuple[str, str], str] = {}
    for questionnaire in questionnaires.values():
        title, numbers = short_title(questionnaire), item_numbers(questionnaire)
        for item in questionnaire.items:
            if item.kind is not ItemKind.text:
                label = f"题{numbers[item.id]}" if item.id in numbers else item.text
                columns[(questionnaire.id, item.id)] = f"{title} {label}"
    return columns


def _flag_labels(flags: str) -> str:
    return "、".join(FLAG_LABELS.get(Flag(f), f) if f in Flag.__members__ else f for f in flags.split(",") if f)


def _questionnaire(questionnaires: Mapping[str, Questionnaire], row: dict) -> Questionnaire | None:
    questionnaire = questionnaires.get(row["qid"])
    return questionnaire if questionnaire and questionnaire.version == row["version"] else None


async def raw_answers(survey_id: int) -> list[dict]:
    """The round's stored answers, as `raw_answer_rows` reads them."""
    return await Response.raw(ANSWERS_SQL, survey_id)


def raw_answer_header(questionnaires: Mapping[str, Questionnaire]) -> list[str]:
    return [*FIXED_COLUMNS, *_labelled_items(questionnaires).values(), *RESULT_COLUMNS]


def raw_answer_rows(
    answers: list[dict], questionnaires: Mapping[str, Questionnaire], zone: ZoneInfo
) -> Iterator[list[object]]:
    """One row per returned questionnaire, valid or not, under `raw_answer_header`'s columns. A
    generator: the workbook writes each row as it comes (in a thread, off the event loop)."""
    items = list(_labelled_items(questionnaires))
    titles = {q.id: short_title(q) for q in questionnaires.values()}
    for row in answers:
        chosen = decode_choices(_questionnaire(questionnaires, row), row["choices"] or "")
        submitted: datetime = row["submitted_at"]
        if isinstance(submitted, str):  # SQLite hands back text
            submitted = datetime.fromisoformat(submitted)
        valid = bool(row["valid"])
        reason = (
            ""
            if valid
            else EXCLUSION_LABELS.get(row["exclusion"] or "excluded_by_review", EXCLUSION_LABELS["excluded_by_review"])
        )
        if valid and row["recognition"] is None:
            reason = EXCLUSION_LABELS["no_rated_answer"]
        yield [
            row["id"],
            row["school"] or "",
            group_label(row["grp"]),
            submitted.astimezone(zone).date().isoformat(),
            titles.get(row["qid"], "其他问卷"),
            row["version"],
            *[chosen[item].label if qid == row["qid"] and item in chosen else "" for qid, item in items],
            row["recognition"],
            row["score"],
            "有效" if valid and not reason else "无效",
            reason,
            _flag_labels(row["flags"] or ""),
        ]
