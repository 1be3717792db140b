"""The languages a questionnaire is shown in: 简体中文 (its own) and each translation it ships.

A translation is keyed by a BCP 47 tag in canonical case (`ug`, `ky-Arab`, `kk-Arab-CN`). Its
direction comes from the tag: a script subtag decides (`Arab` is right to left, `Cyrl` left to
right); without one, the language's usual script does. Kyrgyz and Kazakh are written in Arabic
script in Xinjiang and in Cyrillic elsewhere, so a tag like `ky` alone is refused unless the file
says `direction`. A `?lang=` that names no shipped translation gets 简体中文: only a validated tag
ever reaches `<html lang>`, and only a right-to-left translation sets `dir="rtl"`.
"""

from __future__ import annotations

import enum
import re
import unicodedata

import msgspec

from survey_service.questionnaire.schema import Questionnaire, Translation


class Direction(enum.StrEnum):
    ltr = "ltr"
    rtl = "rtl"


class Language(msgspec.Struct, kw_only=True, frozen=True):
    tag: str  # what `<html lang>` gets
    name: str  # in the language itself: the link text
    direction: Direction
    translation: Translation | None = None  # None for 简体中文, the questionnaire's own text


class PageLanguage(msgspec.Struct, kw_only=True, frozen=True):
    """The language a page is shown in and every language the questionnaire is available in."""

    current: Language
    available: list[Language]

    @property
    def others(self) -> list[Language]:
        return [language for language in self.available if language.tag != self.current.tag]


SOURCE = Language(tag="zh-CN", name="简体中文", direction=Direction.ltr)
SOURCE_TAGS = frozenset({"zh", "zh-cn", "zh-hans", "zh-hans-cn"})

TAG = re.compile(r"^(?P<language>[a-z]{2,3})(?:-(?P<script>[A-Z][a-z]{3}))?(?:-(?P<region>[A-Z]{2}|[0-9]{3}))?$")
RTL_SCRIPTS = frozenset({"Adlm", "Arab", "Hebr", "Mand", "Nkoo", "Rohg", "Samr", "Syrc", "Thaa", "Yezi"})
# Languages usually written right to left when the tag names no script.
RTL_LANGUAGES = frozenset({"ar", "arz", "ckb", "dv", "fa", "he", "ks", "ps", "sd", "syr", "ug", "ur", "yi"})
# Written in an Arabic and a Cyrillic or Latin script, depending on where: the tag or the file must say.
TWO_SCRIPTS = frozenset({"az", "kk", "ku", "ky", "pa", "tk", "uz"})


def tag_direction(tag: str) -> Direction | None:
    """The direction a tag implies; None when the tag alone cannot say."""
    match = TAG.match(tag)
    if match is None:
        return None
    if script := match["script"]:
        return Direction.rtl if script in RTL_SCRIPTS else Direction.ltr
    if match["language"] in RTL_LANGUAGES:
        return Direction.rtl
    return None if match["language"] in TWO_SCRIPTS else Direction.ltr


def direction_of(tag: str, translation: Translation) -> Direction:
    """A validated translation's direction: declared in the file, or implied by its tag."""
    if translation.direction is not None:
        return Direction(translation.direction)
    return tag_direction(tag) or Direction.ltr


def translation_problems(tag: str, translation: Translation, q: Questionnaire, at: str) -> list[str]:
    """Why a translation cannot be shown: a bad tag, an unknown direction, or any text missing.
    `at` is the translation's field path (`$.translations.ug`, or `$` in a file of its own)."""
    if TAG.match(tag) is None:
        return [f"`{tag}` is not a language tag such as `ug` or `ky-Arab` - at `{at}`"]
    if tag.lower() in SOURCE_TAGS:
        return [f"`{tag}` is the questionnaire's own language (简体中文) - at `{at}`"]
    problems = []
    implied = tag_direction(tag)
    if translation.direction is None and implied is None:
        problems.append(
            f"`{tag}` is written in more than one script: name it in the tag (`{tag}-Arab`, `{tag}-Cyrl`)"
            f" or declare `direction` - at `{at}`"
        )
    elif translation.direction is not None and implied is not None and translation.direction != implied:
        problems.append(f"`{tag}` is written {implied.value}, not {translation.direction} - at `{at}.direction`")
    for field in ("name", "title", "introduction"):
        if not (getattr(translation, field) or "").strip():
            problems.append(f"missing `{field}` - at `{at}.{field}`")
    items = [item.id for item in q.items]
    options = list(dict.fromkeys(o.code for item in q.items for o in q.options_for(item)))
    for field, ids in (("items", items), ("options", options)):
        given: dict[str, str] = getattr(translation, field)
        missing = [key for key in ids if not given.get(key, "").strip()]
        if missing:
            problems.append(f"missing translations of {field} {missing} - at `{at}.{field}`")
        unknown = sorted(set(given) - set(ids))
        if unknown:
            problems.append(f"unknown {field} {unknown} - at `{at}.{field}`")
    direction = translation.direction or implied
    if direction is not None and not problems:
        # A text copied in the wrong language (the Chinese pasted as is) is not a translation.
        texts = {"title": translation.title or "", "introduction": translation.introduction or ""}
        texts |= {f"items.{key}": text for key, text in translation.items.items()}
        texts |= {f"options.{key}": text for key, text in translation.options.items()}
        wrong = [key for key, text in texts.items() if Direction(direction) not in _letter_directions(text)]
        if wrong:
            problems.append(f"no {direction} letter in {wrong} - at `{at}`")
    return problems


def _letter_directions(text: str) -> set[Direction]:
    kinds = {unicodedata.bidirectional(char) for char in text}
    return {d for d, classes in ((Direction.ltr, {"L"}), (Direction.rtl, {"R", "AL"})) if kinds & classes}


def available_languages(q: Questionnaire) -> list[Language]:
    """简体中文 first, then each translation in the order of its tag."""
    return [SOURCE] + [
        Language(tag=tag, name=tr.name or tag, direction=direction_of(tag, tr), translation=tr)
        for tag, tr in sorted(q.translations.items())
    ]


def page_language(q: Questionnaire, requested: str | None) -> PageLanguage:
    """The language for `?lang=`: a shipped translation (the tag's case aside), else 简体中文."""
    available = available_languages(q)
    wanted = (requested or "").strip().lower()
    current = next((language for language in available if language.tag.lower() == wanted), SOURCE)
    return PageLanguage(current=current, available=available)
