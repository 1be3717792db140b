"""The demo county's previous year's round (上一年度, closed), with its own simulated answers, named as
the open demo round's 对比轮次: the demo's results page then shows 与上一轮对比 and the trend.

Created after the open round (which keeps its id and stays the newest round: the newest is the one
that opened last), once; a rerun reuses it and its answers. Last year's county was a little less
content overall; 作业负担 and 办学条件 were much worse before the county's measures, 就近入学 a
little better; one village school did better then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from survey_service.core.groups import Group
from survey_service.core.settings import Settings
from survey_service.demo.county import DEPUTIES, REGION, RESIDENT_POPULATION, demo_schools
from survey_service.demo.simulate import SEED, Climate, FillSummary, fill_demo_round
from survey_service.distribution.service import create_links
from survey_service.questionnaire import Questionnaire
from survey_service.schools.service import add_schools
from survey_service.surveys.previous_round import set_previous_round
from survey_service.surveys.schemas import RoundSpec
from survey_service.surveys.service import create_round, round_record
from survey_service.surveys.tables import Survey

PREVIOUS_TITLE = "乌恰县义务教育优质均衡发展社会认可度调查（演示·上一年度）"
LAST_YEAR = Climate(
    overall=0.03,
    items={"homework_burden": 0.12, "school_conditions": 0.08, "teacher_pay": 0.05, "nearby_enrolment": -0.05},
    schools={"WQ16": -0.10},
)
ACTOR = "演示数据"


async def ensure_previous_demo_round(
    settings: Settings, open_round: int, questionnaires: dict[str, Questionnaire]
) -> tuple[int, FillSummary]:
    """Last year's round (created, filled and named as `open_round`'s 对比轮次 on first use)."""
    existing = await Survey.select(Survey.id).where(Survey.title == PREVIOUS_TITLE).first()
    if existing:
        survey_id = existing["id"]
    else:
        async with Survey._meta.db.transaction():
            survey_id = await _create(open_round, questionnaires)
    filled = await fill_demo_round(settings, survey_id, questionnaires, seed=SEED + 365, climate=LAST_YEAR)
    if (await round_record(open_round)).previous_round is None:
        await set_previous_round(open_round, survey_id, actor=ACTOR)
    return survey_id, filled


async def _create(open_round: int, questionnaires: dict[str, Questionnaire]) -> int:
    # A week in the same season a year before the open round opened.
    opens_at = (await round_record(open_round)).opens_at - timedelta(days=365)
    now = datetime.now(UTC)
    survey_id = await create_round(
        RoundSpec(
            title=PREVIOUS_TITLE,
            region=REGION,
            resident_population=RESIDENT_POPULATION,
            opens_at=opens_at,
            closes_at=min(opens_at + timedelta(days=6), now - timedelta(days=1)),
            county_populations={Group.deputy: DEPUTIES},
        ),
        questionnaires,
    )
    # Simulated, and from before one-time access codes were issued.
    await Survey.update({Survey.demo: True, Survey.access_code_groups: []}).where(Survey.id == survey_id)
    await add_schools(survey_id, demo_schools())
    await create_links(survey_id)
    return survey_id
