"""Create (or reuse) the demo round: the county, its roster, an open window, and every link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from survey_service.core.groups import Group
from survey_service.demo.county import DEPUTIES, REGION, RESIDENT_POPULATION, demo_schools
from survey_service.distribution.service import create_links
from survey_service.questionnaire import Questionnaire
from survey_service.schools.service import add_schools
from survey_service.surveys.schemas import RoundSpec
from survey_service.surveys.service import create_round
from survey_service.surveys.tables import Survey

DEMO_TITLE = "乌恰县义务教育优质均衡发展社会认可度调查（演示）"


async def ensure_demo_round(questionnaires: dict[str, Questionnaire]) -> int:
    """The demo round's id; created with an open 6-day window on first use."""
    existing = await Survey.select(Survey.id).where(Survey.title == DEMO_TITLE).first()
    if existing:
        survey_id = existing["id"]
    else:
        async with Survey._meta.db.transaction():
            survey_id = await _create_demo_round(questionnaires)
    # Its answers are simulated: every console page and the report say so (also for a demo round
    # created before the mark existed).
    await Survey.update({Survey.demo: True}).where((Survey.id == survey_id) & (Survey.demo == False))  # noqa: E712
    return survey_id


async def _create_demo_round(questionnaires: dict[str, Questionnaire]) -> int:
    now = datetime.now(UTC).replace(microsecond=0)
    survey_id = await create_round(
        RoundSpec(
            title=DEMO_TITLE,
            region=REGION,
            resident_population=RESIDENT_POPULATION,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=5),
            county_populations={Group.deputy: DEPUTIES},
        ),
        questionnaires,
    )
    await add_schools(survey_id, demo_schools())
    await create_links(survey_id)
    return survey_id
