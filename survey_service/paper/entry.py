"""One keyed-in paper form read against its questionnaire: each option item as the digit printed
beside the ticked box (1 to n), 0 where the form was left blank or cannot be read; a text item as
written. Nothing is guessed: an item not keyed in is an error, so a skipped key is never a blank."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping

from survey_service.core.errors import SurveyServiceError
from survey_service.questionnaire import Item, ItemKind, Questionnaire
from survey_service.respond.answers import text_problem

BLANK = "0"  # the key for an item left blank on the form (未作答或无法辨认)


class EntryInvalid(SurveyServiceError):
    """Items keyed in wrongly: nothing was entered; `errors` names each item by id."""

    status_code = 422
    code = "invalid_entry"
    message = "有题目未录入或录入有误，本份没有保存，请查看标红的题目。"


def option_keys(questionnaire: Questionnaire, item: Item) -> list[tuple[str, str, str]]:
    """(key, option code, label) for each option of an item, as printed on the form: 1 满意, 2 比较满意 …"""
    return [(str(k), option.code, option.label) for k, option in enumerate(questionnaire.options_for(item), start=1)]


def read_entry(questionnaire: Questionnaire, fields: Mapping[str, str], only: set[str] | None = None) -> dict[str, str]:
    """{item id: option code, or text; "" for a blank} for every item (or those in `only`), or
    EntryInvalid naming each item keyed in wrongly."""
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for number, item in enumerate(questionnaire.items, start=1):
        if only is not None and item.id not in only:
            continue
        raw = fields.get(item.id)
        if item.kind is ItemKind.text:
            text = (raw or "").strip()
            if (problem := text_problem(text, item.max_length)) is not None:
                errors[item.id] = f"第 {number} 题{problem}"
            else:
                values[item.id] = text
            continue
        keys = option_keys(questionnaire, item)
        key = unicodedata.normalize("NFKC", raw or "").strip()
        if not key:
            errors[item.id] = f"第 {number} 题未录入（该题未作答请按 0）。"
        elif key == BLANK:
            values[item.id] = ""
        elif (chosen := next((code for k, code, _ in keys if k == key), None)) is not None:
            values[item.id] = chosen
        else:
            errors[item.id] = f"第 {number} 题只能录入 0 至 {len(keys)}（0 表示未作答），“{key[:10]}”不是本题的选项。"
    if errors:
        raise EntryInvalid(errors=errors)
    return values


def entry_keys(questionnaire: Questionnaire, values: Mapping[str, str]) -> dict[str, str]:
    """The keys that give `values` back (for a form shown again): the inverse of read_entry."""
    keys: dict[str, str] = {}
    for item in questionnaire.items:
        value = values.get(item.id)
        if value is None:
            continue
        if item.kind is ItemKind.text:
            keys[item.id] = value
        else:
            keys[item.id] = next((k for k, code, _ in option_keys(questionnaire, item) if code == value), BLANK)
    return keys


def shown(questionnaire: Questionnaire, item: Item, value: str | None) -> str:
    """An entered value as a person reads it on the form: 2 比较满意, 0 未作答, or the text."""
    if value is None:
        return ""
    if item.kind is ItemKind.text:
        return value or "（空）"
    if not value:
        return "0 未作答"
    return next((f"{k} {label}" for k, code, label in option_keys(questionnaire, item) if code == value), value)
