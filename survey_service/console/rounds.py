"""The console's rounds: home, create, edit while not open; open, close (after a confirmation),
extend, reopen, each with its written reason and listed in the round's change log; quota plan, letter.
Thin: parse, call a service, render."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.access_codes import round_codes
from survey_service.console.comparison_view import previous_round_choice
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_bureau, requires_login
from survey_service.console.national_settings import national_settings_form
from survey_service.console.round_view import RoundView, get_round, visible_rounds
from survey_service.core.errors import Conflict, InvalidForm
from survey_service.core.groups import COUNTY_GROUPS, GROUP_LABELS, Group
from survey_service.core.settings import Settings
from survey_service.distribution.kit import letter_text, save_letter
from survey_service.questionnaire import Questionnaire
from survey_service.results.progress import round_progress
from survey_service.surveys.round_form import (
    blank_form,
    closing_time,
    confidence_choices,
    form_from_round,
    parse_round_form,
    questionnaire_choices,
)
from survey_service.surveys.schemas import DESIGN_LABELS
from survey_service.surveys.service import (
    InvalidChange,
    checked_reason,
    close_round,
    create_round,
    extend_round,
    open_round,
    reopen_round,
    round_changes,
    update_round,
)
from survey_service.web.responses import see_other


def _form_context(user, values, errors, questionnaires, *, action: str, heading: str) -> dict:
    return {
        "user": user,
        "values": values,
        "errors": errors,
        "action": action,
        "heading": heading,
        "groups": [(g.value, GROUP_LABELS[g]) for g in Group],
        "county_groups": [(g.value, GROUP_LABELS[g]) for g in COUNTY_GROUPS],
        "choices": questionnaire_choices(questionnaires),
        "confidence_choices": confidence_choices(),
        "design_choices": DESIGN_LABELS,
    }


CLOSE_WORD = "结束"  # typed to confirm closing a round
CHANGE_HEADINGS = {"close": "结束调查", "extend": "延长结束时间", "reopen": "重新开放"}
CHANGE_STATUS = {"close": "open", "extend": "open", "reopen": "closed"}
CHANGE_REFUSED = {
    "close": "只能结束正在进行中的轮次。",
    "extend": "只能延长正在进行中的轮次的结束时间；已结束的轮次请使用“重新开放”，未开始的轮次请在“修改设置”中修改。",
    "reopen": "只能重新开放已结束的轮次。",
}


async def _change_page(
    kind: str,
    survey_id: int,
    user: CurrentUser,
    view: RoundView,
    values: dict[str, str],
    errors: dict[str, str],
    settings: Settings,
    status_code: int = 200,
) -> Template:
    if view.status != CHANGE_STATUS[kind]:
        raise Conflict(CHANGE_REFUSED[kind])
    progress = await round_progress(survey_id, ZoneInfo(settings.timezone))
    return Template(
        "console/round_change.html",
        status_code=status_code,
        context={
            "user": user,
            "round": view,
            "kind": kind,
            "heading": CHANGE_HEADINGS[kind],
            "values": values,
            "errors": errors,
            "progress": progress,
            "close_word": CLOSE_WORD,
        },
    )


class ConsoleHomeController(Controller):
    path = "/"
    guards = [requires_login]

    @get("/")
    async def home(self, user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]) -> Template:
        rounds = await visible_rounds(user, ZoneInfo(settings.timezone))
        return Template("console/home.html", context={"user": user, "rounds": rounds})


class RoundsController(Controller):
    path = "/rounds"
    guards = [requires_bureau]

    @get("/new")
    async def new(
        self,
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        context = _form_context(
            user,
            blank_form(ZoneInfo(settings.timezone)),
            {},
            questionnaires,
            action="/console/rounds",
            heading="新建调查轮次",
        )
        return Template("console/round_form.html", context=context)

    @post("/")
    async def create(
        self,
        request: Request,
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Response | Template:
        fields, _ = await read_console_form(request)
        try:
            spec = parse_round_form(fields, ZoneInfo(settings.timezone), questionnaires)
            survey_id = await create_round(spec, questionnaires)
        except InvalidForm as exc:
            return self._form_again(user, fields, exc, questionnaires, "/console/rounds", "新建调查轮次")
        return see_other(f"/console/rounds/{survey_id}")

    @get("/{survey_id:int}")
    async def show(
        self,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        view = await get_round(survey_id, zone)
        progress = await round_progress(survey_id, zone)
        return Template(
            "console/round.html",
            context={
                "user": user,
                "round": view,
                "progress": progress,
                "group_labels": {g.value: GROUP_LABELS[g] for g in Group},
                # Each group's questionnaire by its title (a file no longer loaded: "未知问卷").
                "questionnaire_titles": {
                    g: questionnaires[q].title if q in questionnaires else "未知问卷"
                    for g, q in view.questionnaires.items()
                },
                "unplanned": [GROUP_LABELS[g] for g in Group if g not in progress.group_targets],
                "changes": await round_changes(survey_id),
                "zone": zone,
                "codes": await round_codes(survey_id),
                "previous": await previous_round_choice(survey_id),  # 对比轮次 (_previous_round.html)
                "national": national_settings_form(view),  # 迎检预判设置 (_national_settings.html)
            },
        )

    @get("/{survey_id:int}/edit")
    async def edit(
        self,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        context = _form_context(
            user,
            form_from_round(view),
            {},
            questionnaires,
            action=f"/console/rounds/{survey_id}/edit",
            heading=f"修改轮次设置：{view.title}",
        )
        context["locked"] = not view.editable
        return Template("console/round_form.html", context=context)

    @post("/{survey_id:int}/edit")
    async def update(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Response | Template:
        fields, _ = await read_console_form(request)
        action = f"/console/rounds/{survey_id}/edit"
        try:
            spec = parse_round_form(fields, ZoneInfo(settings.timezone), questionnaires)
            await update_round(survey_id, spec, questionnaires, actor=user.username)
        except InvalidForm as exc:
            return self._form_again(user, fields, exc, questionnaires, action, "修改轮次设置")
        return see_other(f"/console/rounds/{survey_id}")

    @post("/{survey_id:int}/open")
    async def open(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Response:
        await open_round(survey_id, actor=user.username, zone=ZoneInfo(settings.timezone))
        return see_other(f"/console/rounds/{survey_id}")

    @get(["/{survey_id:int}/close", "/{survey_id:int}/extend", "/{survey_id:int}/reopen"])
    async def change_page(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        """The confirmation page of closing, extending or reopening: what it means, the reason asked."""
        kind = request.url.path.rstrip("/").rpartition("/")[2]
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        return await _change_page(kind, survey_id, user, view, {"closes_at": view.closes_at_input}, {}, settings)

    @post(["/{survey_id:int}/close", "/{survey_id:int}/extend", "/{survey_id:int}/reopen"])
    async def change(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        kind = request.url.path.rstrip("/").rpartition("/")[2]
        zone = ZoneInfo(settings.timezone)
        fields, _ = await read_console_form(request)
        reason = fields.get("reason", "")
        errors: dict[str, str] = {}
        try:
            checked_reason(reason)
        except InvalidChange as exc:
            errors |= exc.errors
        closes_at = None
        if kind == "close":
            if fields.get("confirm", "").strip() != CLOSE_WORD:
                errors["confirm"] = f"请在确认框中输入“{CLOSE_WORD}”二字，确认结束本轮调查。"
        elif (closes_at := closing_time(fields, zone)) is None:
            errors["closes_at"] = "请填写新的结束时间（日期和时间）。"
        try:
            if errors:
                raise InvalidChange(errors=errors)
            if kind == "close":
                await close_round(survey_id, reason=reason, actor=user.username, zone=zone)
            elif closes_at is not None:
                change = extend_round if kind == "extend" else reopen_round
                await change(survey_id, closes_at, reason=reason, actor=user.username, zone=zone)
        except InvalidChange as exc:
            view = await get_round(survey_id, zone)
            return await _change_page(kind, survey_id, user, view, fields, exc.errors, settings, status_code=422)
        return see_other(f"/console/rounds/{survey_id}")

    @get("/{survey_id:int}/letter")
    async def letter(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        return Template(
            "console/letter.html",
            context={"user": user, "round": view, "text": await letter_text(survey_id), "error": None},
        )

    @post("/{survey_id:int}/letter")
    async def save(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        fields, _ = await read_console_form(request)
        try:
            await save_letter(survey_id, fields.get("text", ""))
        except InvalidForm as exc:
            return Template(
                "console/letter.html",
                status_code=422,
                context={"user": user, "round": view, "text": fields.get("text", ""), "error": exc.message},
            )
        return see_other(f"/console/rounds/{survey_id}/kit")

    @staticmethod
    def _form_again(user, fields, exc: InvalidForm, questionnaires, action: str, heading: str) -> Template:
        errors = dict(exc.errors) or {"_form": exc.message}
        context = _form_context(user, fields, errors, questionnaires, action=action, heading=heading)
        return Template("console/round_form.html", context=context, status_code=422)
