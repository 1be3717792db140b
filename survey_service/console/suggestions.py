"""意见建议 pages: the bureau reads the round's suggestions of every school and group; a school's
operator reads its own school's parents' and students' (see results/suggestions.py). Thin: read the
filters, call the reader, render."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from survey_service.accounts.schemas import CurrentUser
from survey_service.console.guards import requires_bureau, requires_school_access
from survey_service.console.round_view import get_round
from survey_service.core.errors import InvalidForm
from survey_service.core.groups import GROUP_LABELS, GROUPS, OPERATOR_GROUPS, SCHOOL_GROUPS, Group
from survey_service.core.settings import Settings
from survey_service.questionnaire import Questionnaire
from survey_service.results.suggestions import round_suggestions
from survey_service.schools.service import round_schools, school_in_round

UNKNOWN_SCHOOL = "该轮次中没有这所学校，请重新选择。"
UNKNOWN_GROUP = "没有这个调查对象，请重新选择。"


@dataclasses.dataclass(frozen=True)
class Filters:
    """The filters as asked (query string), to refill the form and build the page links."""

    school: str = ""
    group: str = ""
    q: str = ""

    def query(self, page: int) -> str:
        values = {"school": self.school, "group": self.group, "q": self.q}
        return urlencode({k: v for k, v in values.items() if v} | ({"page": page} if page > 1 else {}))


def _group(value: str) -> Group | None:
    """The group asked for (one the page may not show: round_suggestions says so, a 400)."""
    if not value:
        return None
    if value not in Group.__members__:
        raise InvalidForm(UNKNOWN_GROUP)
    return Group(value)


def _page_number(value: str | None) -> int:
    """The page asked for; anything that is not a small positive number is the first page."""
    text = (value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else 1


class SuggestionsController(Controller):
    path = "/rounds/{survey_id:int}"

    @get("/suggestions", guards=[requires_bureau])
    async def county(
        self,
        survey_id: FromPath[int],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
        school: FromQuery[str | None] = None,
        group: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Template:
        """The bureau's page: every school and group, filtered by school, group and a search string."""
        zone = ZoneInfo(settings.timezone)
        view = await get_round(survey_id, zone)
        schools = await round_schools(survey_id)
        filters = Filters(school=(school or "").strip(), group=(group or "").strip(), q=q or "")
        if filters.school and filters.school not in {s.code for s in schools}:
            raise InvalidForm(UNKNOWN_SCHOOL)
        found = await round_suggestions(
            survey_id,
            questionnaires,
            zone,
            groups=GROUPS,
            school_code=filters.school or None,
            group=_group(filters.group),
            search=filters.q,
            page=_page_number(page),
        )
        return Template(
            "console/suggestions.html",
            context={
                "user": user,
                "round": view,
                "school": None,
                "schools": schools,
                "found": found,
                "filters": filters,
                "group_labels": {g.value: GROUP_LABELS[g] for g in GROUPS},
            },
        )

    @get("/schools/{school_code:str}/suggestions", guards=[requires_school_access])
    async def school(
        self,
        survey_id: FromPath[int],
        school_code: FromPath[str],
        user: NamedDependency[CurrentUser],
        settings: NamedDependency[Settings],
        questionnaires: NamedDependency[dict[str, Questionnaire]],
        group: FromQuery[str | None] = None,
        q: FromQuery[str | None] = None,
        page: FromQuery[str | None] = None,
    ) -> Template:
        """One school's page: its operator sees its parents' and students' suggestions only; the
        bureau, coming from the school's page, sees every group of the school."""
        zone = ZoneInfo(settings.timezone)
        view, record = await get_round(survey_id, zone), await school_in_round(survey_id, school_code)
        groups = SCHOOL_GROUPS if user.is_bureau else OPERATOR_GROUPS
        filters = Filters(group=(group or "").strip(), q=q or "")
        found = await round_suggestions(
            survey_id,
            questionnaires,
            zone,
            groups=groups,
            school_code=school_code,
            group=_group(filters.group),
            search=filters.q,
            page=_page_number(page),
        )
        return Template(
            "console/suggestions.html",
            context={
                "user": user,
                "round": view,
                "school": record,
                "schools": [],
                "found": found,
                "filters": filters,
                "group_labels": {g.value: GROUP_LABELS[g] for g in groups},
            },
        )
