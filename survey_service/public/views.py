"""Plain data for the answer page: the questionnaire in the reader's language, with what was given."""

from __future__ import annotations

from collections.abc import Mapping

from survey_service.distribution.service import LinkContext
from survey_service.public.languages import language_context, language_out
from survey_service.public.schemas import ItemOut, LinkForm, OptionOut
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.questionnaire.languages import page_language
from survey_service.respond.access import ACCESS_CODE_FIELD


def form_items(questionnaire: Questionnaire, lang: str | None) -> list[ItemOut]:
    """The items with their options, translated where the questionnaire has a translation."""
    tr = questionnaire.translations.get(lang or "")
    item_text = tr.items if tr else {}
    option_label = tr.options if tr else {}
    return [
        ItemOut(
            id=item.id,
            text=item_text.get(item.id, item.text),
            kind=item.kind.value,
            required=item.required,
            options=[
                OptionOut(code=o.code, label=option_label.get(o.code, o.label)) for o in questionnaire.options_for(item)
            ],
            max_length=item.max_length if item.kind is ItemKind.text else None,
        )
        for item in questionnaire.items
    ]


def link_form(link: LinkContext, questionnaire: Questionnaire, nonce: str, lang: str | None) -> LinkForm:
    # Only a shipped translation's tag goes on: any other ?lang= gets 简体中文.
    language = page_language(questionnaire, lang)
    lang = language.current.tag
    tr = language.current.translation
    return LinkForm(
        token=link.token,
        survey_title=link.survey_title,
        region=link.region,
        school_name=link.school_name,
        group=link.group,
        group_label=link.group_label,
        opens_at=link.opens_at,
        closes_at=link.closes_at,
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        title=(tr and tr.title) or questionnaire.title,
        introduction=(tr and tr.introduction) or questionnaire.introduction,
        items=form_items(questionnaire, lang),
        nonce=nonce,
        language=language_out(language.current),
        languages=[language_out(available) for available in language.available],
        code_required=link.code_required,
    )


def page_context(
    form: LinkForm,
    lang: str | None,
    given: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> dict:
    """What form.html renders: every answer given so far kept, every problem in words."""
    return {
        "form": form,
        **language_context(form),
        "given": dict(given or {}),
        "errors": dict(errors or {}),
        "unknown_errors": [
            f"{key}：{msg}"
            for key, msg in (errors or {}).items()
            if key not in {i.id for i in form.items} and key != ACCESS_CODE_FIELD
        ],
    }
