"""The review page in the console (bureau only): the flagged answers grouped by sender, decisions on
a selection, a sender or the whole filter, and the audit log."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_lists
from survey_service.console.guards import requires_bureau
from survey_service.console.round_view import get_round
from survey_service.core.errors import Conflict, InvalidForm, NotFound, SurveyServiceError
from survey_service.core.settings import Settings
from survey_service.questionnaire import Questionnaire
from survey_service.respond.quality import FLAG_LABELS, FLAG_RULES
from survey_service.review.queue import ALL, REASON_CHOICES, ReviewFilter, matching_ids, review_queue
from survey_service.review.service import STATUS_LABELS, Action, audit_log, decide
from survey_service.web.responses import see_other

MAX_IDS_PER_FIELD = 100_000
MAX_ID = 2**31 - 1  # a Serial column's largest value


def _ids(values: list[str]) -> list[int]:
    """Answer ids from ticked boxes: each value one id, or a sender's ids joined by commas."""
    ids = []
    for value in values:
        for part in value.split(","):
            if not part.isdigit() or len(part) > 12:
                raise InvalidForm("所选答卷无效，请刷新页面后重试。")
            if int(part) > MAX_ID:  # beyond any stored id (and the database's integer)
                raise NotFound("找不到所选的部分答卷，请刷新页面后重试。")
            ids.append(int(part))
    if len(ids) > MAX_IDS_PER_FIELD:
        raise InvalidForm("一次选择的答卷过多。")
    return ids


def _first(fields: dict[str, list[str]], name: str) -> str:
    return (fields.get(name) or [""])[0]


class ReviewController(Controller):
    path = "/rounds/{survey_id:int}"
    guards = [requires_bureau]

    async def _page(
        self,
        survey_id: int,
        where: ReviewFilter,
        user: CurrentUser,
        settings: Settings,
        questionnaires: dict[str, Questionnaire],
        *,
        error: str = "",
        done: str = "",
        status: int = 200,
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        return Template(
            "console/review.html",
            status_code=status,
            context={
                "user": user,
                "round": await get_round(survey_id, zone),
                "queue": await review_queue(survey_id, questionnaires, where),
                "flag_labels": {flag.value: label for flag, label in FLAG_LABELS.items()},
                "flag_rules": [(FLAG_LABELS[flag], rule) for flag, rule in FLAG_RULES.items()],
                "status_labels": {status.value: label for status, label in STATUS_LABELS.items()},
                "reasons": REASON_CHOICES,
                "zone": zone,
                "error": error,
                "done": done,
            },
        )

    @get("/review")
    async def review(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        where = ReviewFilter.parse(dict(request.query_params))
        done = request.query_params.get("done", "")
        return await self._page(
            survey_id, where, user, settings, questionnaires, done=done if done.isdigit() and len(done) < 8 else ""
        )

    @post("/review")
    async def decide(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Response | Template:
        fields = await read_console_lists(request)
        where = ReviewFilter.parse({name: _first(fields, name) for name in ("flag", "status", "school", "page")})
        action = _first(fields, "action")
        reason = _first(fields, f"{action}_reason") if action in REASON_CHOICES else ""
        try:
            if _first(fields, "scope") == "filter":
                ids = await matching_ids(survey_id, where)
                expected = _first(fields, "expected")
                if str(len(ids)) != expected:
                    raise Conflict("筛选结果已有变化，请核对后重新操作。")
            else:
                ids = _ids(fields.get("ids", []) + fields.get("sender", []))
            outcome = await decide(survey_id, ids, action, reason, _first(fields, "note"), user.username)
        except SurveyServiceError as exc:
            return await self._page(
                survey_id, where, user, settings, questionnaires, error=exc.message, status=exc.status_code
            )
        return see_other(f"/console/rounds/{survey_id}/review?{where.query()}&done={outcome.changed}")

    @post("/review/{response_id:int}")
    async def decide_one(
        self,
        request: Request,
        survey_id: FromPath[int],
        response_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Response | Template:
        fields = await read_console_lists(request)
        action = _first(fields, "action")
        reason = _first(fields, f"{action}_reason") or _first(fields, "reason")
        where = ReviewFilter(status=ALL)
        try:
            await decide(survey_id, [response_id], action, reason, _first(fields, "note"), user.username)
        except SurveyServiceError as exc:
            return await self._page(
                survey_id,
                where,
                user,
                settings,
                questionnaires,
                error=f"答卷 {response_id}：{exc.message}",
                status=exc.status_code,
            )
        return see_other(f"/console/rounds/{survey_id}/review?{where.query()}&done=1")

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
                "actions": {a.value: a for a in Action},
            },
        )
