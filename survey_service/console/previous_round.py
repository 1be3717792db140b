"""POST /console/rounds/{id}/previous: the bureau chooses the round's 对比轮次 (或“不对比”). Thin: parse,
call the service (surveys/previous_round.py checks the round and writes the change log), redirect."""

from __future__ import annotations

from litestar import Controller, Request, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_bureau
from survey_service.surveys.previous_round import InvalidComparison, set_previous_round
from survey_service.web.responses import see_other


class PreviousRoundController(Controller):
    path = "/rounds/{survey_id:int}/previous"
    guards = [requires_bureau]

    @post("/")
    async def choose(self, request: Request, survey_id: FromPath[int], user: NamedDependency[CurrentUser]) -> Response:
        fields, _ = await read_console_form(request)
        text = fields.get("previous_round", "").strip()
        if text and not text.isdigit():
            raise InvalidComparison("请从列表中选择对比轮次。")
        await set_previous_round(survey_id, int(text) if text else None, actor=user.username)
        return see_other(f"/console/rounds/{survey_id}#previous")
