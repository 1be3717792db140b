"""The round's results for the bureau (page, printable report for the inspection file, workbook) and a
school's own results for its operator. Thin: call the services, render."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.comparison_view import comparison_view
from survey_service.console.guards import requires_bureau, requires_school_access
from survey_service.console.results_view import results_page, school_results_page
from survey_service.console.round_view import get_round
from survey_service.console.schools import XLSX, download
from survey_service.core.settings import Settings
from survey_service.ledger.checkpoints import issue as issue_checkpoint
from survey_service.questionnaire import Questionnaire
from survey_service.respond.quality import FLAG_LABELS, FLAG_RULES
from survey_service.results.workbook_process import build_in_own_process
from survey_service.schools.service import school_in_round
from survey_service.surveys.service import record_export


class ResultsController(Controller):
    path = "/rounds/{survey_id:int}"
    guards = [requires_bureau]

    async def _context(
        self, survey_id: int, user: CurrentUser, settings: Settings, questionnaires: dict[str, Questionnaire]
    ) -> dict:
        zone = ZoneInfo(settings.timezone)
        view = await get_round(survey_id, zone)
        read_at = datetime.now(zone)  # the answers counted are those stored when the result was read
        result, page = await results_page(survey_id, questionnaires)
        return {
            "user": user,
            "round": view,
            "page": page,
            "design": result.design,
            "comparison": comparison_view(result, questionnaires),  # 与上一轮对比 (_comparison.html)
            "report_date": f"{read_at.year}年{read_at.month}月{read_at.day}日",
            "data_as_of": read_at.strftime("%Y-%m-%d %H:%M"),
            "flag_rules": [(FLAG_LABELS[flag], rule) for flag, rule in FLAG_RULES.items()],
        }

    @get("/results")
    async def results(
        self,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        return Template("console/results.html", context=await self._context(survey_id, user, settings, questionnaires))

    @get("/report")
    async def report(
        self,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        context = await self._context(survey_id, user, settings, questionnaires)
        await record_export(survey_id, "打印报告（迎检材料）", actor=user.username)
        # Signed after the export is noted, so that it covers the change log entry too.
        context["checkpoint"] = await issue_checkpoint(survey_id, "打印报告（迎检材料）")
        return Template("console/report.html", context=context)

    @get("/results.xlsx")
    async def workbook(
        self,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Response:
        # A round that does not exist: round_result's NotFound, raised in the workbook process (404).
        content = await build_in_own_process(settings, survey_id, questionnaires)
        await record_export(survey_id, "结果（Excel）", actor=user.username)
        return download(content, f"round-{survey_id}-results.xlsx", XLSX)


class SchoolResultsController(Controller):
    """A school's own results: the bureau, or that school's operator; anyone else gets 403."""

    path = "/rounds/{survey_id:int}/schools/{school_code:str}/results"
    guards = [requires_school_access]

    @get("/")
    async def school_results(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Template:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        school = await school_in_round(survey_id, school_code)
        page = await school_results_page(survey_id, school_code, questionnaires, bureau=user.is_bureau)
        return Template(
            "console/school_results.html", context={"user": user, "round": view, "school": school, "page": page}
        )
