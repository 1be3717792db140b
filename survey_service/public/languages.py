"""The answer page's language: the one `?lang=` asks for if the questionnaire ships it, else 简体中文;
its direction, and the other languages offered as links (questionnaire/languages.py decides)."""

from __future__ import annotations

from survey_service.public.schemas import LanguageOut, LinkForm
from survey_service.questionnaire.languages import SOURCE, Direction, Language


def language_out(language: Language) -> LanguageOut:
    return LanguageOut(
        tag=language.tag, name=language.name, direction="rtl" if language.direction is Direction.rtl else "ltr"
    )


def language_context(form: LinkForm) -> dict[str, object]:
    """For the templates: `lang`, the translation's tag ("" for 简体中文: base.html writes zh-CN and
    the form sends no `_lang`); `dir`; and `languages`, the others, each a link."""
    translated = form.language.tag != SOURCE.tag
    return {
        "lang": form.language.tag if translated else "",
        "dir": form.language.direction,
        "languages": [language for language in form.languages if language.tag != form.language.tag],
    }
