"""Load questionnaire files; a malformed file fails with its name, the field and what is wrong."""

from __future__ import annotations

from pathlib import Path

import msgspec

from survey_service.questionnaire.schema import ItemKind, Questionnaire


class QuestionnaireError(ValueError):
    """A questionnaire file that cannot be used."""


def load_questionnaire(path: Path) -> Questionnaire:
    try:
        # A byte-order mark (Windows Notepad) is not TOML; drop it rather than fail obscurely.
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        questionnaire = msgspec.toml.decode(text, type=Questionnaire)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise QuestionnaireError(f"{path.name}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(f"{path.name}: not UTF-8 text ({exc})") from exc
    problems = _consistency_problems(questionnaire)
    if problems:
        raise QuestionnaireError(f"{path.name}: " + "; ".join(problems))
    return questionnaire


def load_questionnaires(directory: Path) -> dict[str, Questionnaire]:
    """All *.toml files in a directory, keyed by questionnaire id."""
    found: dict[str, Questionnaire] = {}
    for path in sorted(directory.glob("*.toml")):
        questionnaire = load_questionnaire(path)
        if questionnaire.id in found:
            raise QuestionnaireError(f"{path.name}: duplicate questionnaire id `{questionnaire.id}`")
        found[questionnaire.id] = questionnaire
    return found


def _consistency_problems(q: Questionnaire) -> list[str]:
    """Rules that span fields, stated with the field path as msgspec states its own."""
    problems = _option_problems("$.scale", q.scale)
    if not any(option.recognised for option in q.scale):
        problems.append("no option of `$.scale` counts as recognised")
    item_ids = [item.id for item in q.items]
    for index, item in enumerate(q.items):
        at = f"$.items[{index}]"
        if item.id in item_ids[:index]:
            problems.append(f"duplicate item id `{item.id}` - at `{at}.id`")
        if item.kind is ItemKind.choice:
            if len(item.options) < 2:
                problems.append(f"a choice item needs at least 2 options - at `{at}.options`")
            problems.extend(_option_problems(f"{at}.options", item.options))
        elif item.options:
            problems.append(f"only choice items take options - at `{at}.options`")
    if not q.rated_items:
        problems.append("no item of kind `scale`: nothing to rate - at `$.items`")
    if q.overall_item is not None:
        overall = next((item for item in q.items if item.id == q.overall_item), None)
        if overall is None:
            problems.append(f"no item has the id `{q.overall_item}` - at `$.overall_item`")
        elif overall.kind is not ItemKind.scale:
            problems.append(f"`{q.overall_item}` is not a scale item - at `$.overall_item`")
    option_codes = {option.code for item in q.items for option in q.options_for(item)}
    for lang, translation in q.translations.items():
        unknown = set(translation.items) - set(item_ids)
        if unknown:
            problems.append(f"unknown items {sorted(unknown)} - at `$.translations.{lang}.items`")
        unknown = set(translation.options) - option_codes
        if unknown:
            problems.append(f"unknown options {sorted(unknown)} - at `$.translations.{lang}.options`")
    return problems


def _option_problems(at: str, options: list) -> list[str]:
    problems = []
    codes = [option.code for option in options]
    for index, option in enumerate(options):
        if option.code in codes[:index]:
            problems.append(f"duplicate option code `{option.code}` - at `{at}[{index}].code`")
        if option.excluded and (option.recognised or option.score is not None):
            problems.append(f"an excluded option neither counts as recognised nor has a score - at `{at}[{index}]`")
    scored = [option.score is not None for option in options if not option.excluded]
    if any(scored) and not all(scored):
        problems.append(f"either every counted option has a score or none has - at `{at}`")
    return problems
