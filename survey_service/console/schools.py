"""Roster import and correction, the distribution kit, downloads and progress: for the bureau (every
school) and for a school's operator (its own school, under /schools/{school_code}). Thin: parse, call a
service, render."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_bureau, requires_school_access
from survey_service.console.round_view import get_round
from survey_service.core.errors import InvalidForm, NotFound
from survey_service.core.groups import Group
from survey_service.core.manifest import repr_digest
from survey_service.core.settings import Settings
from survey_service.distribution.export import links_csv, links_xlsx
from survey_service.distribution.kit import (
    AUDIENCES,
    captioned_files,
    qr_zip,
    school_kits,
    school_links,
    share_links,
)
from survey_service.distribution.qr import CAPTIONED_TYPES
from survey_service.distribution.roster_import import check_against_round, correct_school, import_roster
from survey_service.results.progress import round_progress
from survey_service.schools.roster import (
    COLUMNS,
    RosterError,
    parse_roster,
    parse_school,
    template_csv,
    template_xlsx,
)
from survey_service.schools.schemas import SchoolSpec
from survey_service.schools.service import round_schools, school_in_round
from survey_service.schools.tables import Location, Stage
from survey_service.surveys.service import InvalidChange
from survey_service.web.responses import content_disposition, see_other

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROSTER_UPLOAD_BYTES = 2 * 1024 * 1024


def download(content: bytes, filename: str, media_type: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={
            "content-disposition": content_disposition(filename),
            "cache-control": "no-store",
            "repr-digest": repr_digest(content),
        },
    )


def _audience(request: Request) -> str | None:
    """The kit's ?audience= (家长, 学生, 教职工 or 全县 sheets only), or None for every sheet."""
    audience = request.query_params.get("audience")
    return audience if audience in AUDIENCES else None


def _ascii_stem(school_code: str) -> str:
    # A school code comes from an uploaded roster: only its plain characters go into a header.
    return re.sub(r"[^A-Za-z0-9_-]", "", school_code)[:32] or "school"


async def _portal_links(survey_id: int, public_url: str, school_code: str, user: CurrentUser):
    """A school's links; for its operator without the principals' (they answer by a code the bureau issues)."""
    rows = await school_links(survey_id, public_url, school_code)
    return rows if user.is_bureau else [row for row in rows if row.group is not Group.principal]


def _links_file(rows, fmt: str, stem: str) -> Response:
    if fmt == "xlsx":
        return download(links_xlsx(rows), f"{stem}.xlsx", XLSX)
    return download(links_csv(rows).encode("utf-8-sig"), f"{stem}.csv", "text/csv; charset=utf-8")


class RosterController(Controller):
    path = "/"
    guards = [requires_bureau]

    @get(["/roster-template.csv", "/roster-template.xlsx"])
    async def template(self, request: Request) -> Response:
        if request.url.path.endswith(".xlsx"):
            return download(template_xlsx(), "roster-template.xlsx", XLSX)
        return download(template_csv(), "roster-template.csv", "text/csv; charset=utf-8")

    @get("/rounds/{survey_id:int}/roster")
    async def upload_page(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        return Template(
            "console/roster.html",
            context={"user": user, "round": view, "problems": [], "schools": None, "columns": COLUMNS},
        )

    @post("/rounds/{survey_id:int}/roster/preview", request_max_body_size=ROSTER_UPLOAD_BYTES)
    async def preview(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        _, files = await read_console_form(request)
        upload = files.get("roster")
        context = {"user": user, "round": view, "problems": [], "schools": None, "columns": COLUMNS}
        try:
            if upload is None or not upload.content:
                raise RosterError(["请选择要导入的学校名单文件（CSV 或 XLSX）。"])
            schools = parse_roster(upload.filename, upload.content, SchoolSpec)
            await check_against_round(survey_id, schools)
        except RosterError as exc:
            return Template("console/roster.html", context=context | {"problems": exc.problems}, status_code=422)
        payload = msgspec.json.encode(schools).decode()
        return Template("console/roster.html", context=context | {"schools": schools, "payload": payload})

    @post("/rounds/{survey_id:int}/roster/import", request_max_body_size=ROSTER_UPLOAD_BYTES)
    async def confirm(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        fields, _ = await read_console_form(request)
        try:
            schools = msgspec.json.decode(fields.get("payload", ""), type=list[SchoolSpec])
        except msgspec.DecodeError as exc:
            raise InvalidForm("导入内容无效，请重新上传名单文件。") from exc
        if not schools:
            raise InvalidForm("导入内容为空，请重新上传名单文件。")
        try:
            made = await import_roster(survey_id, schools, actor=user.username, reason=fields.get("reason", ""))
        except RosterError as exc:
            raise InvalidForm("；".join(exc.problems)) from exc
        except InvalidChange as exc:
            view = await get_round(survey_id, ZoneInfo(settings.timezone))
            context = {
                "user": user,
                "round": view,
                "problems": [],
                "reason_error": exc.errors.get("reason") or exc.message,
                "schools": schools,
                "payload": fields.get("payload", ""),
                "columns": COLUMNS,
            }
            return Template("console/roster.html", context=context, status_code=422)
        return see_other(f"/console/rounds/{survey_id}?imported={len(schools)}&links={made}")

    @get("/rounds/{survey_id:int}/roster/edit")
    async def roster_page(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        """The round's roster, each school with its correction form's link, and a form to add one school."""
        return await _roster_edit_page(survey_id, user, settings, {}, {}, [])

    @post("/rounds/{survey_id:int}/roster/add")
    async def add_school(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        fields, _ = await read_console_form(request)
        try:
            school = parse_school(fields, SchoolSpec)
            await check_against_round(survey_id, [school])
            made = await import_roster(survey_id, [school], actor=user.username, reason=fields.get("reason", ""))
        except RosterError as exc:
            problems = [p.removeprefix("第 2 行：") for p in exc.problems]
            return await _roster_edit_page(survey_id, user, settings, fields, {}, problems, status_code=422)
        except InvalidChange as exc:
            return await _roster_edit_page(survey_id, user, settings, fields, exc.errors, [], status_code=422)
        return see_other(f"/console/rounds/{survey_id}/roster/edit?added={school.code}&links={made}")

    @get("/rounds/{survey_id:int}/roster/edit/{school_code:str}")
    async def school_page(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        school = await school_in_round(survey_id, school_code)
        values = {field: str(getattr(school, field)) for field, _ in COLUMNS}
        values |= {"stage": school.stage.value, "location": school.location.value}
        return await _school_page(survey_id, school_code, user, settings, values, {}, [])

    @post("/rounds/{survey_id:int}/roster/edit/{school_code:str}")
    async def correct(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response | Template:
        fields, _ = await read_console_form(request)
        fields["code"] = school_code
        zone = ZoneInfo(settings.timezone)
        try:
            await school_in_round(survey_id, school_code)
            school = parse_school(fields, SchoolSpec)
            [row] = (await round_progress(survey_id, zone, school_code)).rows
            answered = {Group(cell.group): cell.valid for cell in row.cells}
            await correct_school(
                survey_id, school, actor=user.username, reason=fields.get("reason", ""), answered=answered
            )
        except RosterError as exc:
            return await _school_page(survey_id, school_code, user, settings, fields, {}, exc.problems, 422)
        except InvalidChange as exc:
            return await _school_page(survey_id, school_code, user, settings, fields, exc.errors, [], 422)
        return see_other(f"/console/rounds/{survey_id}/roster/edit?corrected={school_code}")

    @get("/rounds/{survey_id:int}/kit")
    async def kit(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        audience = _audience(request)
        kits = await school_kits(survey_id, settings.public_url, audience=audience)
        return Template(
            "console/kit.html",
            context=_kit_context(user, view, kits, None, audience),
        )

    @get("/rounds/{survey_id:int}/qr.zip")
    async def all_codes(self, survey_id: FromPath[int], settings: NamedDependency[Settings]) -> Response:
        await get_round(survey_id, ZoneInfo(settings.timezone))
        rows = await school_links(survey_id, settings.public_url)
        return download(await asyncio.to_thread(qr_zip, rows), f"round-{survey_id}-qr.zip", "application/zip")

    @get(["/rounds/{survey_id:int}/links.csv", "/rounds/{survey_id:int}/links.xlsx"])
    async def all_links(
        self, request: Request, survey_id: FromPath[int], settings: NamedDependency[Settings]
    ) -> Response:
        await get_round(survey_id, ZoneInfo(settings.timezone))
        rows = await school_links(survey_id, settings.public_url)
        return _links_file(rows, request.url.path.rpartition(".")[2], f"round-{survey_id}-links")

    @get("/rounds/{survey_id:int}/progress")
    async def progress(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        return Template(
            "console/progress.html",
            context={
                "user": user,
                "round": await get_round(survey_id, zone),
                "school": None,
                "progress": await round_progress(survey_id, zone),
                "as_of": datetime.now(zone),
            },
        )


def _kit_context(user, view, kits, school, audience) -> dict:
    return {"user": user, "round": view, "kits": kits, "school": school, "audience": audience, "audiences": AUDIENCES}


async def _roster_edit_page(
    survey_id: int,
    user: CurrentUser,
    settings: Settings,
    values: dict[str, str],
    errors: dict[str, str],
    problems: list[str],
    status_code: int = 200,
) -> Template:
    view = await get_round(survey_id, ZoneInfo(settings.timezone))
    return Template(
        "console/roster_edit.html",
        status_code=status_code,
        context={
            "user": user,
            "round": view,
            "schools": await round_schools(survey_id),
            "columns": COLUMNS,
            "stages": [s.value for s in Stage],
            "locations": [loc.value for loc in Location],
            "values": values,
            "errors": errors,
            "problems": problems,
        },
    )


async def _school_page(
    survey_id: int,
    school_code: str,
    user: CurrentUser,
    settings: Settings,
    values: dict[str, str],
    errors: dict[str, str],
    problems: list[str],
    status_code: int = 200,
) -> Template:
    zone = ZoneInfo(settings.timezone)
    view, school = await get_round(survey_id, zone), await school_in_round(survey_id, school_code)
    [row] = (await round_progress(survey_id, zone, school_code)).rows
    return Template(
        "console/school_edit.html",
        status_code=status_code,
        context={
            "user": user,
            "round": view,
            "school": school,
            "progress_row": row,
            "columns": COLUMNS,
            "stages": [s.value for s in Stage],
            "locations": [loc.value for loc in Location],
            "values": values,
            "errors": errors,
            "problems": problems,
        },
    )


class SchoolPortalController(Controller):
    """One school's part of a round: the bureau, or that school's operator; anyone else gets 403."""

    path = "/rounds/{survey_id:int}/schools/{school_code:str}"
    guards = [requires_school_access]

    @get("/")
    async def school(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        zone = ZoneInfo(settings.timezone)
        view, school = await get_round(survey_id, zone), await school_in_round(survey_id, school_code)
        rows = await school_links(survey_id, settings.public_url, school_code)
        return Template(
            "console/school.html",
            context={
                "user": user,
                "round": view,
                "school": school,
                "shared": share_links(rows, view.closes_at),
                "progress": await round_progress(survey_id, zone, school_code),
                "as_of": datetime.now(zone),
            },
        )

    @get("/kit")
    async def kit(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Template:
        view, school = (
            await get_round(survey_id, ZoneInfo(settings.timezone)),
            await school_in_round(survey_id, school_code),
        )
        audience = _audience(request)
        kits = await school_kits(survey_id, settings.public_url, school_code, audience)
        return Template("console/kit.html", context=_kit_context(user, view, kits, school, audience))

    @get("/qr.zip")
    async def codes(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response:
        await school_in_round(survey_id, school_code)
        rows = await _portal_links(survey_id, settings.public_url, school_code, user)
        zipped = await asyncio.to_thread(qr_zip, rows)
        return download(zipped, f"{_ascii_stem(school_code)}-qr.zip", "application/zip")

    @get("/qr/{group:str}")
    async def code(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        group: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response:
        """One of the school's codes captioned with its name and group: an image to long-press and save."""
        await school_in_round(survey_id, school_code)
        rows = await _portal_links(survey_id, settings.public_url, school_code, user)
        row = next((row for row in rows if row.group.value == group), None)
        if row is None:
            raise NotFound()
        [(name, data)] = (await asyncio.to_thread(captioned_files, [row])).items()
        fmt = name.rpartition(".")[2]
        return Response(
            data,
            media_type=CAPTIONED_TYPES[fmt],
            headers={
                "content-disposition": content_disposition(name, "inline"),
                "cache-control": "private, max-age=3600",
            },
        )

    @get(["/links.csv", "/links.xlsx"])
    async def links(
        self,
        request: Request,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
    ) -> Response:
        await school_in_round(survey_id, school_code)
        rows = await _portal_links(survey_id, settings.public_url, school_code, user)
        return _links_file(rows, request.url.path.rpartition(".")[2], f"{_ascii_stem(school_code)}-links")
