"""Load questionnaire files; a malformed file fails with its name, the field and what is wrong."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

import msgspec

from survey_service.questionnaire.languages import translation_problems
from survey_service.questionnaire.schema import ItemKind, Questionnaire, Translation

T = TypeVar("T")


class QuestionnaireError(ValueError):
    """A questionnaire file that cannot be used."""


def load_questionnaire(path: Path) -> Questionnaire:
    """A questionnaire file with the translation files beside it (`social.toml`, `social.ug.toml`)."""
    questionnaire = _decode(path, Questionnaire)
    problems = _consistency_problems(questionnaire)
    if problems:
        raise QuestionnaireError(f"{path.name}: " + "; ".join(problems))
    translations = dict(questionnaire.translations)
    for file in translation_files(path):
        tag = file.name.removesuffix(".toml").split(".", 1)[1]
        if tag in translations:
            raise QuestionnaireError(f"{file.name}: `{tag}` is translated in {path.name} already")
        translation = _decode(file, Translation)
        problems = translation_problems(tag, translation, questionnaire, "$")
        if problems:
            raise QuestionnaireError(f"{file.name}: " + "; ".join(problems))
        translations[tag] = translation
    if len(translations) > len(questionnaire.translations):
        questionnaire = msgspec.structs.replace(questionnaire, translations=translations)
    return questionnaire


def translation_files(path: Path) -> list[Path]:
    """`social.ug.toml`, `social.ky-Arab.toml`: a questionnaire file's translations, beside it."""
    return sorted(path.parent.glob(f"{path.stem}.*.toml"))


def _decode(path: Path, kind: type[T]) -> T:
    try:
        # A byte-order mark (Windows Notepad) is not TOML; drop it rather than fail obscurely.
        text = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
        return msgspec.toml.decode(text, type=kind)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise QuestionnaireError(f"{path.name}: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise QuestionnaireError(f"{path.name}: not UTF-8 text ({exc})") from exc


def load_questionnaires(directory: Path) -> dict[str, Questionnaire]:
    """All *.toml files in a directory, keyed by questionnaire id; `name.tag.toml` is a translation
    of `name.toml`."""
    found: dict[str, Questionnaire] = {}
    paths = sorted(directory.glob("*.toml"))
    for path in paths:
        if "." in path.stem and directory / (path.stem.split(".", 1)[0] + ".toml") not in paths:
            raise QuestionnaireError(f"{path.name}: a translation of no questionnaire file in {directory.name}/")
    for path in (path for path in paths if "." not in path.stem):
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
    for lang, translation in q.translations.items():
        problems.extend(translation_problems(lang, translation, q, f"$.translations.{lang}"))
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
