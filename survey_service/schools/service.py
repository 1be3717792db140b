"""The school roster of a round."""

from __future__ import annotations

from survey_service.core.errors import Conflict
from survey_service.schools.schemas import SchoolSpec
from survey_service.schools.tables import School


async def add_schools(survey_id: int, schools: list[SchoolSpec]) -> None:
    """Add a roster in one statement: all rows or none."""
    if not schools:
        return
    codes = [school.code for school in schools]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    taken = await School.select(School.code).where(School.survey == survey_id, School.code.is_in(codes))
    if duplicates or taken:
        clash = duplicates or sorted(row["code"] for row in taken)
        raise Conflict(f"学校代码重复：{'、'.join(clash)}。")
    await School.insert(
        *(
            School(
                survey=survey_id,
                code=s.code,
                name=s.name,
                stage=s.stage.value,
                location=s.location.value,
                students=s.students,
                parents=s.parents,
                teachers=s.teachers,
                principals=s.principals,
            )
            for s in schools
        )
    )
