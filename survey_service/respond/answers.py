"""Check a respondent's answers against the questionnaire and score them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

import msgspec

from analysis.recognition import ItemAnswer, recognition_and_score
from survey_service.core.errors import InvalidAnswers
from survey_service.questionnaire import ItemKind, Option, Questionnaire


class ScoredAnswers(msgspec.Struct, kw_only=True, frozen=True):
    # {item id: option code, or text}; unanswered optional items are left out.
    answers: dict[str, str]
    # y: the recognised share of the rated items answered (None when all were 不了解).
    recognition: float | None
    # The mean 0–100 score of the rated items answered with a scored option.
    score: float | None
    # See Response.choices.
    choices: str


REQUIRED = "请回答此题。"
NOT_AN_OPTION = "所选答案不是本题的选项，请重新选择。"
TOO_LONG = "内容过长，最多 {limit} 字。"
UNKNOWN_ITEM = "问卷中没有这道题。"
NOT_TEXT = "答案格式不正确。"
UNREADABLE = "内容含有无法识别的控制字符，请删除后重新提交。"
# Control characters no one types into a text box (tab and line breaks are kept); PostgreSQL refuses
# to store a NUL.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_DERIVED: dict[tuple[str, int], tuple[Questionnaire, object]] = {}


def _once(build):
    """Compute `build(questionnaire)` once per questionnaire object (kept alive with its result, so
    its id is not reused): the answer path looks these up on every submission."""

    def cached(questionnaire: Questionnaire):
        key = (build.__name__, id(questionnaire))
        hit = _DERIVED.get(key)
        if hit is None or hit[0] is not questionnaire:
            hit = _DERIVED[key] = (questionnaire, build(questionnaire))
        return hit[1]

    cached.__doc__ = build.__doc__
    return cached


class _ItemKey(NamedTuple):
    """What checking and scoring one item needs, worked out once per questionnaire."""

    required: bool
    text_limit: int | None  # a text item's maximum length; None for items answered with an option
    # {option code: (its position character in Response.choices, the ItemAnswer it gives if rated)}
    options: dict[str, tuple[str, ItemAnswer | None]]


@_once
def _answer_key(questionnaire: Questionnaire) -> dict[str, _ItemKey]:
    """{item id: its key}, in the questionnaire's order."""
    rated = {item.id for item in questionnaire.rated_items}
    return {
        item.id: _ItemKey(
            required=item.required,
            text_limit=item.max_length if item.kind is ItemKind.text else None,
            options={
                option.code: (
                    POSITIONS[i],
                    ItemAnswer(
                        recognised=option.recognised, excluded=option.excluded, weight=item.weight, score=option.score
                    )
                    if item.id in rated
                    else None,
                )
                for i, option in enumerate(questionnaire.options_for(item))
            },
        )
        for item in questionnaire.items
    }


def text_problem(text: str, limit: int) -> str | None:
    """What is wrong with a text answer (stripped) for a text item of at most `limit` characters, in
    Chinese, or None: the one rule for text typed online, imported or keyed in from paper."""
    if len(text) > limit:
        return TOO_LONG.format(limit=limit)
    if CONTROL.search(text):
        return UNREADABLE
    return None


def check_answers(questionnaire: Questionnaire, given: Mapping[str, object], *, require: bool = True) -> ScoredAnswers:
    """Return the answers scored, or raise InvalidAnswers naming every problem by item id.

    One pass over the items, on the answer path of every submission: check, keep, score and code.
    `require=False` (answers from elsewhere: a paper form, a 问卷星 row) takes a blank required item
    as unanswered instead of refusing it."""
    key = _answer_key(questionnaire)
    errors: dict[str, str] = {item_id: UNKNOWN_ITEM for item_id in given if item_id not in key}
    kept: dict[str, str] = {}
    rated: dict[str, ItemAnswer] = {}
    code: list[str] = []
    for item_id, item in key.items():
        value = given.get(item_id)
        if value is not None and not isinstance(value, str):
            errors[item_id] = NOT_TEXT
            continue
        value = (value or "").strip()
        if not value:
            if item.required and require:
                errors[item_id] = REQUIRED
            code.append("-")
            continue
        if item.text_limit is not None:
            if (problem := text_problem(value, item.text_limit)) is not None:
                errors[item_id] = problem
                continue
            code.append("t")
        else:
            chosen = item.options.get(value)
            if chosen is None:
                errors[item_id] = NOT_AN_OPTION
                continue
            code.append(chosen[0])
            if chosen[1] is not None:
                rated[item_id] = chosen[1]
        kept[item_id] = value
    if errors:
        raise InvalidAnswers(errors=errors)
    y, points = _scored(questionnaire, rated)
    return ScoredAnswers(answers=kept, recognition=y, score=points, choices="".join(code))


def _scored(questionnaire: Questionnaire, rated: dict[str, ItemAnswer]) -> tuple[float | None, float | None]:
    overall = rated.get(questionnaire.overall_item) if questionnaire.overall_item else None
    if questionnaire.overall_item and overall is None:
        return None, None
    return recognition_and_score(list(rated.values()), overall)


POSITIONS = "0123456789abcdefghijklmnopqrstuvwxyz"


def decode_choices(questionnaire: Questionnaire | None, choices: str) -> dict[str, Option]:
    """Item id -> the chosen Option, from the compact choices code (see Response.choices); empty when
    the code was not made from this questionnaire."""
    if questionnaire is None or len(choices) != len(questionnaire.items):
        return {}
    chosen: dict[str, Option] = {}
    for item, code in zip(questionnaire.items, choices):
        position = POSITIONS.find(code)
        options = questionnaire.options_for(item)
        if item.kind is not ItemKind.text and 0 <= position < len(options):
            chosen[item.id] = options[position]
    return chosen
