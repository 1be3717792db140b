"""The round's results for the bureau (page, printable report for the inspection file, workbook) and a
school's own results for its operator. Thin: call the services, render."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Response, Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.guards import requires_bureau, requires_school_access
from survey_service.console.results_view import results_page, school_results_page
from survey_service.console.round_view import get_round
from survey_service.console.schools import XLSX, download
from survey_service.core.settings import Settings
from survey_service.questionnaire import Questionnaire
from survey_service.results.workbook_process import build_in_own_process
from survey_service.schools.service import school_in_round


class ResultsController(Controller):
    path = "/rounds/{survey_id:int}"
    guards = [requires_bureau]

    async def _context(
        self, survey_id: int, user: CurrentUser, settings: Settings, questionnaires: dict[str, Questionnaire]
    ) -> dict:
        view = await get_round(survey_id, ZoneInfo(settings.timezone))
        result, page = await results_page(survey_id, questionnaires)
        return {"user": user, "round": view, "page": page, "design": result.design}

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
        return Template("console/report.html", context=await self._context(survey_id, user, settings, questionnaires))

    @get("/results.xlsx")
    async def workbook(
        self,
        survey_id: FromPath[int],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
    ) -> Response:
        # A round that does not exist: round_result's NotFound, raised in the workbook process (404).
        content = await build_in_own_process(settings, survey_id, questionnaires)
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
        page = await school_results_page(survey_id, school_code, questionnaires)
        return Template(
            "console/school_results.html", context={"user": user, "round": view, "school": school, "page": page}
        )
