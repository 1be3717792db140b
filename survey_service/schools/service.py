"""The school roster of a round."""

from __future__ import annotations

import msgspec
from piccolo.query.functions.aggregate import Count

from survey_service.core.errors import Conflict, NotFound
from survey_service.schools.schemas import SchoolRecord, SchoolSpec
from survey_service.schools.tables import School
from survey_service.seals import service as seals


async def round_schools(survey_id: int) -> list[SchoolRecord]:
    """The round's roster, by school code."""
    rows = await School.select().where(School.survey == survey_id).order_by(School.code)
    return [_record(row) for row in rows]


async def school_in_round(survey_id: int, school_code: str) -> SchoolRecord:
    """One school of the round's roster; NotFound when the round has no school with that code."""
    row = await School.select().where((School.survey == survey_id) & (School.code == school_code)).first()
    if row is None:
        raise NotFound(f"该轮次中没有代码为 {school_code} 的学校。")
    return _record(row)


def _record(row: dict) -> SchoolRecord:
    return msgspec.convert({k: v for k, v in row.items() if k != "survey"}, SchoolRecord)


async def school_counts(survey_ids: list[int]) -> dict[int, int]:
    """Schools in each round's roster (rounds without any left out)."""
    if not survey_ids:
        return {}
    rows = await School.select(School.survey, Count()).where(School.survey.is_in(survey_ids)).group_by(School.survey)
    return {row["survey"]: row["count"] for row in rows}


async def rounds_with_school(school_code: str) -> list[int]:
    """The rounds whose roster has a school with this code (what a school's operator may see)."""
    rows = await School.select(School.survey).where(School.code == school_code)
    return sorted({row["survey"] for row in rows})


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
    await seals.seal(survey_id, schools={s.code: populations(s) for s in schools})


def populations(school: SchoolSpec) -> list[int]:
    """What the round's sealed record keeps of a school: its stratum populations."""
    return [school.students, school.parents, school.teachers, school.principals]


async def update_school(survey_id: int, school: SchoolSpec) -> None:
    """Write a school's name, stage, location and counts (its code names it; the caller checked it exists)."""
    await School.update(
        {
            School.name: school.name,
            School.stage: school.stage.value,
            School.location: school.location.value,
            School.students: school.students,
            School.parents: school.parents,
            School.teachers: school.teachers,
            School.principals: school.principals,
        }
    ).where((School.survey == survey_id) & (School.code == school.code))
    await seals.seal(survey_id, schools={school.code: populations(school)})
