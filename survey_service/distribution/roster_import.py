"""Importing a roster into a round: check it against the round, then schools and links in one go."""

from __future__ import annotations

from survey_service.core.errors import Conflict
from survey_service.distribution.service import create_links
from survey_service.schools.roster import RosterError
from survey_service.schools.schemas import SchoolSpec
from survey_service.schools.service import add_schools
from survey_service.schools.tables import School
from survey_service.surveys.service import round_status
from survey_service.surveys.tables import Survey


async def check_against_round(survey_id: int, schools: list[SchoolSpec]) -> None:
    """RosterError naming the rows whose code the round already has; Conflict once the round closed."""
    row = await Survey.select(Survey.opens_at, Survey.closes_at).where(Survey.id == survey_id).first()
    if row and round_status(row["opens_at"], row["closes_at"]) == "closed":
        raise Conflict("该轮次已结束，不能再导入学校。")
    codes = [s.code for s in schools]
    taken = (
        {
            r["code"]
            for r in await School.select(School.code).where((School.survey == survey_id) & School.code.is_in(codes))
        }
        if codes
        else set()
    )
    if taken:
        raise RosterError(
            [
                f"第 {number} 行：学校代码 {s.code} 已在本轮次的名单中。"
                for number, s in enumerate(schools, start=2)
                if s.code in taken
            ]
        )


async def import_roster(survey_id: int, schools: list[SchoolSpec]) -> int:
    """Add the schools and their links in one transaction: all of them or none. Returns the links made."""
    await check_against_round(survey_id, schools)
    async with Survey._meta.db.transaction():
        await add_schools(survey_id, schools)
        return await create_links(survey_id)
