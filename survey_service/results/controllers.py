"""GET /api/v1/surveys/{id}/results: the round's SurveyResult as JSON. Thin: parse, call, return.

Open for now; the console issue restricts it to bureau users.
"""

from __future__ import annotations

from typing import Literal

from analysis import SurveyResult
from litestar import Controller, get
from litestar.params import FromPath, FromQuery

from survey_service.results.service import round_result

IntervalMethod = Literal["logit", "beta", "wilson", "wald"]


class ResultsApiController(Controller):
    path = "/api/v1/surveys"
    tags = ["results"]

    @get("/{survey_id:int}/results")
    async def results(self, survey_id: FromPath[int],
                      method: FromQuery[IntervalMethod | None] = None) -> SurveyResult:
        """社会认可度 with its confidence interval and verdict against the target, and breakdowns."""
        return await round_result(survey_id, method)
