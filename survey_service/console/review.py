"""The review page in the console (bureau only): flagged answers by reason, decisions, the audit log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_bureau
from survey_service.console.round_view import get_round
from survey_service.core.errors import SurveyServiceError
from survey_service.core.settings import Settings
from survey_service.review.service import EXCLUSION_LABELS, audit_log, decide, flagged_answers
from survey_service.web.responses import see_other


class ReviewController(Controller):
    path = "/rounds/{survey_id:int}"
    guards = [requires_bureau]

    async def _page(
        self, survey_id: int, user: CurrentUser, settings: Settings, *, error: str = "", status: int = 200
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        return Template(
            "console/review.html",
            status_code=status,
            context={
                "user": user,
                "round": await get_round(survey_id, zone),
                "groups": await flagged_answers(survey_id),
                "reasons": [(reason.value, label) for reason, label in EXCLUSION_LABELS.items()],
                "zone": zone,
                "error": error,
            },
        )

    @get("/review")
    async def review(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        return await self._page(survey_id, user, settings)

    @post("/review/{response_id:int}")
    async def decide(
        self,
        request: Request,
        survey_id: FromPath[int],
        response_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        fields, _ = await read_console_form(request)
        try:
            await decide(
                survey_id,
                response_id,
                fields.get("action", ""),
                fields.get("reason", ""),
                fields.get("note", ""),
                user.username,
            )
        except SurveyServiceError as exc:
            return await self._page(
                survey_id, user, settings, error=f"答卷 {response_id}：{exc.message}", status=exc.status_code
            )
        return see_other(f"/console/rounds/{survey_id}/review#r{response_id}")

    @get("/audit")
    async def audit(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        return Template(
            "console/audit.html",
            context={
                "user": user,
                "round": await get_round(survey_id, zone),
                "decisions": await audit_log(survey_id),
                "zone": zone,
            },
        )
