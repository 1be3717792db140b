"""The console's one-time access codes (访问码), for the bureau: which groups of a round need them;
per school and county group, how many were issued and used; generate a batch (shown once, as a
printable cut-out sheet or a CSV file: the codes are stored only as keyed hashes); void a lost
sheet's unused codes. Every change is in the round's change log. Thin: parse, call, render."""

from __future__ import annotations

import csv
import io
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form, read_console_lists
from survey_service.console.guards import requires_bureau
from survey_service.console.round_view import get_round
from survey_service.core.errors import Conflict, InvalidForm
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.core.settings import Settings
from survey_service.core.spreadsheet import csv_row
from survey_service.distribution.access_codes import MAX_PER_BATCH, issue_codes
from survey_service.distribution.service import link_url
from survey_service.respond.access import LinkCodes, code_overview, void_unused_codes
from survey_service.surveys.schemas import ChangeAction
from survey_service.surveys.service import record_change, round_record, set_access_code_groups
from survey_service.web.responses import content_disposition, see_other

NO_STORE = {"cache-control": "no-store"}


class SheetSection(msgspec.Struct, kw_only=True, frozen=True):
    """One link's new codes on the printable sheet."""

    school_name: str
    group_label: str
    token: str
    url: str
    batch: int
    codes: list[str]


async def round_codes(survey_id: int) -> list[LinkCodes]:
    """The links the round asks codes of (or that have codes), with their counts: what the round page
    and the access-code page list."""
    record = await round_record(survey_id)
    populations = {g.value: n for g, n in record.county_populations.items()}
    return await code_overview(survey_id, record.access_code_groups, populations)


def _place(link: LinkCodes) -> str:
    return f"{link.school_name or '全县'} {link.group_label}"


def _count(text: str, default: int) -> int:
    try:
        count = int(text.strip()) if text.strip() else default
    except ValueError:
        raise InvalidForm(f"请填写要生成的访问码个数（1 至 {MAX_PER_BATCH}）。") from None
    if not 1 <= count <= MAX_PER_BATCH:
        raise InvalidForm(f"每次可生成 1 至 {MAX_PER_BATCH} 个访问码。")
    return count


def _csv(sections: list[SheetSection]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["学校", "调查对象", "访问码", "问卷链接", "批次"])
    for section in sections:
        for code in section.codes:
            writer.writerow(csv_row([section.school_name, section.group_label, code, section.url, section.batch]))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # with a BOM: Excel opens it as UTF-8


class AccessCodesController(Controller):
    path = "/rounds/{survey_id:int}/codes"
    guards = [requires_bureau]

    @get("/")
    async def page(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        return await self._page(survey_id, user, settings)

    async def _page(
        self, survey_id: int, user: CurrentUser, settings: Settings, error: str | None = None, status_code: int = 200
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        record = await round_record(survey_id)
        return Template(
            "console/access_codes.html",
            status_code=status_code,
            context={
                "user": user,
                "round": view,
                "codes": await round_codes(survey_id),
                "groups": [(g.value, GROUP_LABELS[g]) for g in Group],
                "chosen": {g.value for g in record.access_code_groups},
                "max_per_batch": MAX_PER_BATCH,
                "error": error,
            },
        )

    @post("/", status_code=200)
    async def generate(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        """Generate codes for one link (`link`, `count`), or for every listed link (`link` = all: each
        as many as its roster counts); the sheet (or CSV) shows them, once."""
        fields, _ = await read_console_form(request)
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        if view.status == "closed":
            raise Conflict("该轮次已结束，不能再生成访问码。")
        links = await round_codes(survey_id)
        wanted = fields.get("link", "")
        try:
            if wanted == "all":
                coded = set((await round_record(survey_id)).access_code_groups)
                chosen = [
                    (link, max(link.people, 1)) for link in links if link.group in coded and not link.counts.issued
                ]
                if not chosen:
                    raise InvalidForm("需要访问码的问卷链接都已生成过访问码；如需更多，请在各行单独生成。")
            else:
                link = next((link for link in links if str(link.link_id) == wanted), None)
                if link is None:
                    raise InvalidForm("请选择要生成访问码的问卷链接。")
                chosen = [(link, _count(fields.get("count", ""), max(link.people, 1)))]
        except InvalidForm as exc:
            return await self._page(survey_id, user, settings, error=exc.message, status_code=422)
        sections = []
        for link, count in chosen:
            batch, codes = await issue_codes(survey_id, link.link_id, count, settings.secret)
            sections.append(
                SheetSection(
                    school_name=link.school_name or "全县",
                    group_label=link.group_label,
                    token=link.token,
                    url=link_url(settings.public_url, link.token),
                    batch=batch,
                    codes=[code.code for code in codes],
                )
            )
        total = sum(len(section.codes) for section in sections)
        if len(sections) == 1:
            details = f"为{_place(chosen[0][0])}生成访问码 {total} 个（第 {sections[0].batch} 批）。"
        else:
            details = f"为 {len(sections)} 个问卷链接按名单人数生成访问码共 {total} 个。"
        await record_change(survey_id, ChangeAction.access_codes, details, actor=user.username)
        if fields.get("format") == "csv":
            return Response(
                _csv(sections),
                status_code=200,
                media_type="text/csv; charset=utf-8",
                headers=NO_STORE | {"content-disposition": content_disposition(f"round-{survey_id}-codes.csv")},
            )
        return Template(
            "console/access_code_sheet.html",
            context={"user": user, "round": view, "sections": sections},
            headers=NO_STORE,
        )

    @post("/void")
    async def void(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
    ) -> Response:
        fields, _ = await read_console_form(request)
        link = next((link for link in await round_codes(survey_id) if str(link.link_id) == fields.get("link")), None)
        if link is None:
            raise InvalidForm("请选择要作废访问码的问卷链接。")
        voided = await void_unused_codes(survey_id, link.link_id)
        if voided:
            details = f"作废{_place(link)}尚未使用的访问码 {voided} 个。"
            await record_change(survey_id, ChangeAction.access_codes, details, actor=user.username)
        return see_other(f"/console/rounds/{survey_id}/codes")

    @post("/groups")
    async def groups(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
    ) -> Response:
        fields = await read_console_lists(request)
        chosen = [Group(value) for value in fields.get("group", []) if value in {g.value for g in Group}]
        await set_access_code_groups(survey_id, chosen, actor=user.username)
        return see_other(f"/console/rounds/{survey_id}/codes")
