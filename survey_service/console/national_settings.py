"""POST /console/rounds/{id}/national: the bureau changes 迎检预判's assumptions (the national sample's
group weighting and design effect) at any time, also after the round closed. Thin: parse, call the
service (surveys/national_settings.py checks, logs and seals), redirect; and the round page's form."""

from __future__ import annotations

import dataclasses

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_bureau
from survey_service.console.round_view import RoundView
from survey_service.surveys.national_settings import (
    EACH_GROUPS_OWN,
    design_effect_text,
    parse_national_form,
    set_national_settings,
)
from survey_service.surveys.schemas import NATIONAL_WEIGHTING_LABELS
from survey_service.web.responses import see_other


@dataclasses.dataclass(frozen=True)
class NationalSettingsForm:
    """The round page's 迎检预判 form (templates/console/_national_settings.html)."""

    weighting: str
    weighting_label: str
    design_effect: str  # as the field shows it: empty for each group's own
    design_effect_words: str  # as the sentence says it
    choices: dict[str, str]


def national_settings_form(view: RoundView) -> NationalSettingsForm:
    effect = view.national_design_effect
    return NationalSettingsForm(
        weighting=view.national_weighting,
        weighting_label=view.national_weighting_label,
        design_effect=design_effect_text(effect),
        design_effect_words=EACH_GROUPS_OWN if effect is None else f" {design_effect_text(effect)}",
        choices=NATIONAL_WEIGHTING_LABELS,
    )


class NationalSettingsController(Controller):
    path = "/rounds/{survey_id:int}/national"
    guards = [requires_bureau]

    @post("/")
    async def save(self, request: Request, survey_id: FromPath[int], user: NamedDependency[CurrentUser]) -> Response:
        fields, _ = await read_console_form(request)
        weighting, design_effect = parse_national_form(fields)
        await set_national_settings(survey_id, weighting, design_effect, actor=user.username)
        return see_other(f"/console/rounds/{survey_id}#national")
