"""导入问卷星数据: the bureau uploads a 问卷星 export (and, if needed, its mapping file), sees what was
mapped, and confirms; the answers then become the round's (results/wjx_import.py). Thin: parse, call
the service, render."""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.forms import read_console_form
from survey_service.console.guards import requires_bureau
from survey_service.console.round_view import get_round
from survey_service.core.errors import InvalidForm, RoundSealed
from survey_service.core.groups import GROUP_LABELS, Group
from survey_service.core.settings import Settings
from survey_service.respond.service import RespondService
from survey_service.results.wjx_import import ImportPlan, plan_import, run_import
from survey_service.results.wjx_input import WjxError
from survey_service.results.wjx_map import Unmatched

# A county's export of a few thousand 答卷 is well under 1 MB; 8 MB leaves room for tens of thousands.
WJX_UPLOAD_BYTES = 8 * 1024 * 1024
MAP_UPLOAD_BYTES = 64 * 1024
# The confirmation carries the checked file back (base64: a third larger).
CONFIRM_BYTES = (WJX_UPLOAD_BYTES + MAP_UPLOAD_BYTES) * 4 // 3 + 64 * 1024
PAGE = "console/wjx_import.html"


class WjxImportController(Controller):
    path = "/rounds/{survey_id:int}/wjx"
    guards = [requires_bureau]

    @get("/")
    async def upload_page(
        self, survey_id: FromPath[int], user: NamedDependency[CurrentUser], settings: NamedDependency[Settings]
    ) -> Template:
        return Template(PAGE, context=await _context(survey_id, user, settings))

    @post("/preview", request_max_body_size=WJX_UPLOAD_BYTES + MAP_UPLOAD_BYTES + 64 * 1024)
    async def preview(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        respond: NamedDependency[RespondService],
    ) -> Template:
        fields, files = await read_console_form(request)
        export, mapping = files.get("export"), files.get("map")
        context = await _context(survey_id, user, settings)
        if export is None or not export.content:
            return Template(
                PAGE, context=context | {"problem": "请选择问卷星导出的答卷文件（.xlsx 或 .csv）。"}, status_code=422
            )
        if len(export.content) > WJX_UPLOAD_BYTES or (mapping is not None and len(mapping.content) > MAP_UPLOAD_BYTES):
            return Template(PAGE, context=context | {"problem": "文件过大（答卷文件最大 8 MB）。"}, status_code=422)
        name = (export.filename or "问卷星导出")[:100]
        map_content = mapping.content if mapping is not None and mapping.content else None
        unmatched: Unmatched = "skip" if fields.get("unmatched") == "skip" else "error"
        try:
            plan = await plan_import(respond, survey_id, name, export.content, map_content, unmatched)
        except (WjxError, RoundSealed) as exc:
            return Template(PAGE, context=context | {"problem": exc.message}, status_code=422)
        return Template(
            PAGE,
            context=context
            | _plan_view(plan)
            | {
                "filename": name,
                "payload": base64.b64encode(export.content).decode(),
                "map_payload": base64.b64encode(map_content).decode() if map_content else "",
                "unmatched": unmatched,
            },
        )

    @post("/import", request_max_body_size=CONFIRM_BYTES)
    async def confirm(
        self,
        request: Request,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        respond: NamedDependency[RespondService],
    ) -> Template:
        fields, _ = await read_console_form(request)
        try:
            content = base64.b64decode(fields.get("payload", ""), validate=True)
            map_content = base64.b64decode(fields.get("map_payload", ""), validate=True) or None
        except (binascii.Error, ValueError) as exc:
            raise InvalidForm("导入内容无效，请重新上传问卷星文件。") from exc
        if not content:
            raise InvalidForm("导入内容为空，请重新上传问卷星文件。")
        unmatched: Unmatched = "skip" if fields.get("unmatched") == "skip" else "error"
        name = fields.get("filename", "")[:100] or "问卷星导出"
        context = await _context(survey_id, user, settings)
        try:
            plan = await plan_import(respond, survey_id, name, content, map_content, unmatched)
            outcome = await run_import(respond, plan, actor=user.username)
        except (WjxError, RoundSealed) as exc:
            return Template(PAGE, context=context | {"problem": exc.message}, status_code=422)
        return Template(PAGE, context=context | {"done": outcome, "filename": name})


async def _context(survey_id: int, user: CurrentUser, settings: Settings) -> dict:
    view = await get_round(survey_id, ZoneInfo(settings.timezone))
    return {"user": user, "round": view, "problem": None, "plan": None, "done": None}


def _plan_view(plan: ImportPlan) -> dict:
    counts = Counter(row.respondent_group for row in plan.rows)
    return {
        "plan": plan.summary(),
        "answers": len(plan.rows),
        "by_group": [(GROUP_LABELS[g], counts[g.value]) for g in Group if counts[g.value]],
        "left_out": len(plan.mapping.left_out),
    }
