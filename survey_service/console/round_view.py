"""Rounds as the console shows them: listed and read, with their status and counts (creating,
editing, opening and closing are surveys/service.py's)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import msgspec
from piccolo.query.functions.aggregate import Count

from survey_service.accounts.schemas import CurrentUser
from survey_service.core.errors import NotFound
from survey_service.distribution.tables import Link
from survey_service.schools.tables import School
from survey_service.surveys.schemas import DESIGN_LABELS
from survey_service.surveys.service import round_status
from survey_service.surveys.tables import Survey

STATUS_LABELS = {"pending": "未开始", "open": "进行中", "closed": "已结束"}


class RoundView(msgspec.Struct, kw_only=True, frozen=True):
    """A round as console pages show it: plain values, times in the county's zone."""

    id: int
    title: str
    region: str
    resident_population: int
    opens_at: str
    closes_at: str
    opens_at_input: str  # for <input type=datetime-local>
    closes_at_input: str
    target_percent: float
    confidence_percent: float
    design: str
    design_label: str
    group_weights: dict[str, float]
    questionnaires: dict[str, str]
    county_populations: dict[str, int]
    status: str
    status_label: str
    editable: bool
    school_count: int
    link_count: int


def _view(row: dict, zone: ZoneInfo, schools: int, links: int) -> RoundView:
    status = round_status(row["opens_at"], row["closes_at"])
    local = {k: row[k].astimezone(zone) for k in ("opens_at", "closes_at")}
    return RoundView(
        id=row["id"],
        title=row["title"],
        region=row["region"],
        resident_population=row["resident_population"],
        opens_at=local["opens_at"].strftime("%Y-%m-%d %H:%M"),
        closes_at=local["closes_at"].strftime("%Y-%m-%d %H:%M"),
        opens_at_input=local["opens_at"].strftime("%Y-%m-%dT%H:%M"),
        closes_at_input=local["closes_at"].strftime("%Y-%m-%dT%H:%M"),
        target_percent=round(row["target"] * 100, 2),
        confidence_percent=round(row["confidence_level"] * 100, 2),
        design=row["design"],
        design_label=DESIGN_LABELS.get(row["design"], row["design"]),
        group_weights=row["group_weights"] or {},
        questionnaires=row["questionnaires"] or {},
        county_populations=row["county_populations"] or {},
        status=status,
        status_label=STATUS_LABELS[status],
        editable=status == "pending",
        school_count=schools,
        link_count=links,
    )


async def _counts(table, survey_ids: list[int]) -> dict[int, int]:
    if not survey_ids:
        return {}
    rows = await table.select(table.survey, Count()).where(table.survey.is_in(survey_ids)).group_by(table.survey)
    return {row["survey"]: row["count"] for row in rows}


async def visible_rounds(user: CurrentUser, zone: ZoneInfo) -> list[RoundView]:
    """Every round for the bureau; for an operator, the rounds whose roster has its school."""
    query = Survey.select().order_by(Survey.id, ascending=False).output(load_json=True)
    if not user.is_bureau:
        query = query.where(Survey.id.is_in(School.select(School.survey).where(School.code == user.school_code)))
    rows = await query
    ids = [row["id"] for row in rows]
    schools, links = await _counts(School, ids), await _counts(Link, ids)
    return [_view(row, zone, schools.get(row["id"], 0), links.get(row["id"], 0)) for row in rows]


async def get_round(survey_id: int, zone: ZoneInfo) -> RoundView:
    row = await Survey.select().where(Survey.id == survey_id).first().output(load_json=True)
    if row is None:
        raise NotFound(f"找不到编号为 {survey_id} 的调查轮次。")
    schools, links = await _counts(School, [survey_id]), await _counts(Link, [survey_id])
    return _view(row, zone, schools.get(survey_id, 0), links.get(survey_id, 0))


async def school_in_round(survey_id: int, school_code: str) -> dict:
    row = await School.select().where((School.survey == survey_id) & (School.code == school_code)).first()
    if row is None:
        raise NotFound(f"该轮次中没有代码为 {school_code} 的学校。")
    return row
