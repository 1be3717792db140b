"""The JSON API's shapes for the respondent path."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from survey_service.core.groups import Group


class ResponseSubmission(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    # The nonce from GET /api/v1/links/{token}; one response per nonce.
    nonce: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    # {item id: option code, or text for free-text items}
    answers: dict[str, str]
    # The one-time access code (访问码), for a link whose form says `code_required`; as printed, in any
    # case, dashes and spaces ignored.
    access_code: Annotated[str, msgspec.Meta(max_length=32)] | None = None


class ResponseReceipt(msgspec.Struct, kw_only=True):
    status: str = "stored"
    message: str = "提交成功，感谢您的参与！"


class OptionOut(msgspec.Struct, kw_only=True):
    code: str
    label: str


class ItemOut(msgspec.Struct, kw_only=True):
    id: str
    text: str
    kind: str
    required: bool
    options: list[OptionOut]
    max_length: int | None = None


class LanguageOut(msgspec.Struct, kw_only=True):
    tag: str  # BCP 47 (`zh-CN`, `ug`): what `?lang=` takes
    name: str  # in the language itself
    direction: Literal["ltr", "rtl"]


class LinkForm(msgspec.Struct, kw_only=True):
    """What a client needs to show and submit one questionnaire."""

    token: str
    survey_title: str
    region: str  # the county (or city) running the round, as the round names it
    school_name: str | None
    group: Group
    group_label: str
    opens_at: datetime
    closes_at: datetime
    questionnaire_id: str
    questionnaire_version: str
    title: str
    introduction: str
    items: list[ItemOut]
    nonce: str
    # The language the texts are in: the translation `?lang=` names if the questionnaire ships it,
    # else 简体中文; and every language the questionnaire is available in.
    language: LanguageOut
    languages: list[LanguageOut]
    # Submitting needs a one-time access code (访问码): the form's `access_code` field, the submission's.
    code_required: bool = False
