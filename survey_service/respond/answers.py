"""Check a respondent's answers against the questionnaire and score them."""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from analysis.recognition import ItemAnswer, recognition, score

from survey_service.errors import InvalidAnswers
from survey_service.questionnaire import ItemKind, Questionnaire


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


@_once
def option_positions(questionnaire: Questionnaire) -> dict[str, dict[str, int]]:
    """{item id: {option code: its position}} (empty for text items)."""
    return {
        item.id: {option.code: i for i, option in enumerate(questionnaire.options_for(item))}
        for item in questionnaire.items
    }


@_once
def _item_answers(questionnaire: Questionnaire) -> dict[str, dict[str, ItemAnswer]]:
    """{rated item id: {option code: the ItemAnswer that choosing it gives}}."""
    return {
        item.id: {
            option.code: ItemAnswer(recognised=option.recognised, excluded=option.excluded, weight=item.weight,
                                    score=option.score)
            for option in questionnaire.scale
        }
        for item in questionnaire.rated_items
    }


def check_answers(questionnaire: Questionnaire, given: Mapping[str, object]) -> ScoredAnswers:
    """Return the answers scored, or raise InvalidAnswers naming every problem by item id."""
    errors: dict[str, str] = {}
    kept: dict[str, str] = {}
    positions = option_positions(questionnaire)
    for item_id in given:
        if item_id not in positions:
            errors[item_id] = UNKNOWN_ITEM
    for item in questionnaire.items:
        value = given.get(item.id)
        if value is not None and not isinstance(value, str):
            errors[item.id] = NOT_TEXT
            continue
        value = (value or "").strip()
        if not value:
            if item.required:
                errors[item.id] = REQUIRED
            continue
        if item.kind is ItemKind.text:
            if len(value) > item.max_length:
                errors[item.id] = TOO_LONG.format(limit=item.max_length)
                continue
        elif value not in positions[item.id]:
            errors[item.id] = NOT_AN_OPTION
            continue
        kept[item.id] = value
    if errors:
        raise InvalidAnswers(errors=errors)
    y, points = score_answers(questionnaire, kept)
    return ScoredAnswers(answers=kept, recognition=y, score=points, choices=choices_code(questionnaire, kept))


def score_answers(questionnaire: Questionnaire, answers: Mapping[str, str]) -> tuple[float | None, float | None]:
    """社会认可度 of one respondent (y) and its 0–100 score, by the analysis library's rule."""
    rated = {
        item_id: answer
        for item_id, options in _item_answers(questionnaire).items()
        if (answer := options.get(answers.get(item_id, ""))) is not None
    }
    overall = rated.get(questionnaire.overall_item) if questionnaire.overall_item else None
    if questionnaire.overall_item and overall is None:
        return None, None
    items = list(rated.values())
    return recognition(items, overall), score(items, overall)


def choices_code(questionnaire: Questionnaire, answers: Mapping[str, str]) -> str:
    """One character per item: the chosen option's position, "-" unanswered, "t" text given."""
    positions = option_positions(questionnaire)
    code = []
    for item in questionnaire.items:
        value = answers.get(item.id)
        if value is None:
            code.append("-")
        elif item.kind is ItemKind.text:
            code.append("t")
        else:
            code.append(POSITIONS[positions[item.id][value]])
    return "".join(code)


POSITIONS = "0123456789abcdefghijklmnopqrstuvwxyz"
