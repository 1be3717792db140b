"""GET /api/v1/surveys/{id}/results: the round's SurveyResult as JSON. Thin: parse, call, return."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from analysis import IntervalMethod, SurveyResult
from survey_service.results.comparison import with_comparison
from survey_service.results.service import round_result_by_questionnaire
from survey_service.web.errors import error_responses


class ResultsApiController(Controller):
    path = "/api/v1/surveys"

    # 401/403: the console restricts results to signed-in bureau accounts.
    @get("/{survey_id:int}/results", responses=error_responses(400, 401, 403, 404, 422))
    async def results(
        self,
        survey_id: FromPath[int],
        method: FromQuery[IntervalMethod | None] = None,
        compare: FromQuery[int | None] = None,
    ) -> SurveyResult:
        """社会认可度 with its confidence interval and verdict against the target, and breakdowns; with
        `comparison` against `compare` (a round id), else against the round's 对比轮次 when it has one."""
        result, parts = await round_result_by_questionnaire(survey_id, method)
        return await with_comparison(survey_id, result, parts, compare, method)
