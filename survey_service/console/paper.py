"""Paper questionnaires (纸质问卷) in the console, for a school × group: print numbered forms, key them
in (twice: double entry), and settle the forms whose two entries differ. The bureau for any school; a
school's operator for its own school only (requires_school_access, and paper_link for the groups).
Thin: parse, call the paper service, render."""

from __future__ import annotations

import base64
import re
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_school_access
from survey_service.console.round_view import get_round
from survey_service.core.errors import Conflict, InvalidForm
from survey_service.core.settings import Settings
from survey_service.distribution.qr import qr_svg
from survey_service.distribution.service import LinkContext
from survey_service.paper.entry import BLANK, EntryInvalid, option_keys, read_entry, shown
from survey_service.paper.numbers import FormNumberInvalid, parse_serial, scan_code
from survey_service.paper.service import (
    MAX_PER_BATCH,
    FormState,
    Status,
    batch_serials,
    differing,
    enter,
    form_state,
    issue_forms,
    mismatched_forms,
    number_of,
    paper_counts,
    paper_groups,
    paper_link,
    recent_entries,
    resolve,
)
from survey_service.questionnaire import ItemKind, Questionnaire
from survey_service.respond.service import RespondService
from survey_service.schools.service import school_in_round
from survey_service.web.responses import see_other

ENTRY_KEY = re.compile(r"[0-9a-f]{32}")
PASS_LABELS = {1: "第一遍", 2: "第二遍", 3: "核对"}
STATUS_LABELS = {
    Status.entered: "已录入一遍，待第二遍",
    Status.mismatch: "两遍不一致，待核对",
    Status.accepted: "两遍一致，已计入",
    Status.resolved: "已核对，已计入",
}


def _items(questionnaire: Questionnaire) -> list[dict]:
    """The questionnaire's items as the paper form and the entry page show them: number, text, and each
    option with the key printed beside its box."""
    return [
        {
            "number": number,
            "id": item.id,
            "text": item.text,
            "kind": item.kind.value,
            "scale": item.kind is ItemKind.scale,
            "text_item": item.kind is ItemKind.text,
            "max_length": item.max_length,
            "options": [{"key": key, "label": label} for key, _, label in option_keys(questionnaire, item)],
        }
        for number, item in enumerate(questionnaire.items, start=1)
    ]


def _qr(text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(qr_svg(text)).decode()


def _time(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")


def _comparison(link: LinkContext, questionnaire: Questionnaire, state: FormState, zone: ZoneInfo) -> dict:
    """A form's two entries side by side, item by item, the differing ones marked."""
    first, second = state.entries[0], state.entries[1]
    differ = set(differing(questionnaire, first.answers, second.answers))
    items = {item["id"]: item for item in _items(questionnaire)}
    rows = []
    for item in questionnaire.items:
        rows.append(
            items[item.id]
            | {
                "first": shown(questionnaire, item, first.answers.get(item.id, "")),
                "second": shown(questionnaire, item, second.answers.get(item.id, "")),
                "differs": item.id in differ,
            }
        )
    return {
        "serial": state.serial,
        "number": number_of(link, state.serial),
        "entries": [
            {"label": PASS_LABELS[entry.pass_number], "actor": entry.actor, "at": _time(entry.entered_at, zone)}
            for entry in (first, second)
        ],
        "rows": rows,
        "differing": len(differ),
    }


class PaperController(Controller):
    path = "/rounds/{survey_id:int}/schools/{school_code:str}/paper"
    guards = [requires_school_access]

    @get("/")
    async def index(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        view, school = (
            await get_round(survey_id, ZoneInfo(settings.timezone)),
            await school_in_round(survey_id, school_code),
        )
        groups = []
        for link in await paper_groups(survey_id, school_code, bureau=user.is_bureau):
            groups.append({"group": link.group.value, "label": link.group_label, "counts": await paper_counts(link)})
        return Template(
            "console/paper_index.html",
            context={"user": user, "round": view, "school": school, "groups": groups, "max_per_batch": MAX_PER_BATCH},
        )

    async def _link(self, survey_id: int, school_code: str, group: str, user: CurrentUser) -> LinkContext:
        await school_in_round(survey_id, school_code)
        return await paper_link(survey_id, school_code, group, bureau=user.is_bureau)

    @post("/{group:str}/print")
    async def issue(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        user: NamedDependency[CurrentUser],
    ) -> Response:
        """Issue the next form numbers and show them to print."""
        link = await self._link(survey_id, school_code, group, user)
        fields, _ = await read_console_form(request)
        text = fields.get("count", "").strip()
        if not text.isdigit() or not 1 <= int(text) <= MAX_PER_BATCH:
            raise InvalidForm(f"请填写要打印的份数（1 至 {MAX_PER_BATCH}）。")
        batch, _, _ = await issue_forms(link, int(text), user.username)
        return see_other(f"/console/rounds/{survey_id}/schools/{school_code}/paper/{group}/print?batch={batch}")

    @get("/{group:str}/print")
    async def print_forms(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        batch: FromQuery[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        """A batch's forms, one per two A4 pages at most, each with its number printed and as a QR code
        (a barcode scanner types it into the entry page's number field)."""
        link = await self._link(survey_id, school_code, group, user)
        questionnaire = questionnaires[link.questionnaire_id]
        serials = await batch_serials(link, batch)
        return Template(
            "console/paper_print.html",
            context={
                "user": user,
                "round": await get_round(survey_id, ZoneInfo(settings.timezone)),
                "link": link,
                "questionnaire": questionnaire,
                "scale": [option.label for option in questionnaire.scale],
                "items": _items(questionnaire),
                "forms": [
                    {"number": number_of(link, s), "qr": _qr(scan_code(link.school_code or "", link.group, s))}
                    for s in serials
                ],
                "first": number_of(link, serials[0]),
                "last": number_of(link, serials[-1]),
            },
        )

    async def _entry_page(
        self,
        link: LinkContext,
        questionnaire: Questionnaire,
        user: CurrentUser,
        settings: Settings,
        *,
        number: str = "",
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        message: str | None = None,
        saved: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        recent = [
            {
                "number": number_of(link, entry.serial),
                "pass": PASS_LABELS[entry.pass_number],
                "actor": entry.actor,
                "at": _time(entry.entered_at, zone),
            }
            for entry in await recent_entries(link)
        ]
        return Template(
            "console/paper_entry.html",
            status_code=status_code,
            context={
                "user": user,
                "round": await get_round(link.survey_id, zone),
                "link": link,
                "items": _items(questionnaire),
                "counts": await paper_counts(link),
                "recent": recent,
                "number": number,
                "values": values or {},
                "errors": errors or {},
                "message": message,
                "saved": saved,
                "blank": BLANK,
                # A new one-time key for each page shown: a save sent twice stores one entry.
                "entry_key": secrets.token_hex(16),
            },
        )

    @get("/{group:str}")
    async def entry_page(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        link = await self._link(survey_id, school_code, group, user)
        saved = None
        # ?saved=7 after an entry: what became of that form, read from the database (never from the address).
        serial_text = request.query_params.get("saved", "")
        if serial_text.isdigit() and len(serial_text) <= 6:
            state = await form_state(link, int(serial_text))
            if state is not None:
                saved = {
                    "number": number_of(link, state.serial),
                    "status": state.status.value,
                    "label": STATUS_LABELS[state.status],
                    "passes": len(state.entries),
                }
        return await self._entry_page(link, questionnaires[link.questionnaire_id], user, settings, saved=saved)

    @post("/{group:str}")
    async def enter_form(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
        respond: NamedDependency[RespondService],
    ) -> Response | Template:
        link = await self._link(survey_id, school_code, group, user)
        questionnaire = questionnaires[link.questionnaire_id]
        fields, _ = await read_console_form(request)
        entry_key = fields.get("entry_key", "")
        if ENTRY_KEY.fullmatch(entry_key) is None:
            raise InvalidForm("录入页面已过期或不完整，本份没有保存。请刷新页面后重新录入。")
        number = fields.get("number", "")
        errors: dict[str, str] = {}
        try:
            parse_serial(number, link.school_code or "", link.group)
        except FormNumberInvalid as exc:
            errors["number"] = exc.message
        try:
            read_entry(questionnaire, fields)
        except EntryInvalid as exc:
            errors |= exc.errors
        try:
            if errors:
                raise EntryInvalid(errors=errors)
            outcome = await enter(respond, link, questionnaire, number, fields, user.username, entry_key)
        except (EntryInvalid, Conflict) as exc:
            values = {key: fields.get(key, "") for key in (item.id for item in questionnaire.items)}
            return await self._entry_page(
                link,
                questionnaire,
                user,
                settings,
                number=number[:40],
                values=values,
                errors=exc.errors,
                message=EntryInvalid.message if exc.errors else exc.message,
                status_code=exc.status_code,
            )
        base = f"/console/rounds/{survey_id}/schools/{school_code}/paper/{group}"
        return see_other(f"{base}?saved={outcome.serial}")

    @get("/{group:str}/check")
    async def check_page(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        link = await self._link(survey_id, school_code, group, user)
        message = None
        settled = request.query_params.get("settled", "")
        if settled.isdigit() and len(settled) <= 6:
            state = await form_state(link, int(settled))
            if state is not None and state.status is Status.resolved:
                message = f"编号 {number_of(link, state.serial)} 已核对，计入结果。"
        return await self._check_page(link, questionnaires[link.questionnaire_id], user, settings, notice=message)

    async def _check_page(
        self,
        link: LinkContext,
        questionnaire: Questionnaire,
        user: CurrentUser,
        settings: Settings,
        *,
        errors: dict[str, str] | None = None,
        failed: int | None = None,
        message: str | None = None,
        notice: str | None = None,
        status_code: int = 200,
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        forms = [_comparison(link, questionnaire, state, zone) for state in await mismatched_forms(link)]
        return Template(
            "console/paper_check.html",
            status_code=status_code,
            context={
                "user": user,
                "round": await get_round(link.survey_id, zone),
                "link": link,
                "forms": forms,
                "errors": errors or {},
                "failed": failed,
                "message": message,
                "notice": notice,
                "blank": BLANK,
            },
        )

    @post("/{group:str}/check/{serial:int}")
    async def settle(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        serial: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
        respond: NamedDependency[RespondService],
    ) -> Response | Template:
        link = await self._link(survey_id, school_code, group, user)
        questionnaire = questionnaires[link.questionnaire_id]
        fields, _ = await read_console_form(request)
        try:
            await resolve(respond, link, questionnaire, serial, fields, user.username)
        except (EntryInvalid, Conflict) as exc:
            return await self._check_page(
                link,
                questionnaire,
                user,
                settings,
                errors=exc.errors,
                failed=serial,
                message=exc.message,
                status_code=exc.status_code,
            )
        base = f"/console/rounds/{survey_id}/schools/{school_code}/paper/{group}"
        return see_other(f"{base}/check?settled={serial}")
