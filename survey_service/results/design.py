"""A round's survey design for the analysis library, built in one place: the strata from the roster
(schools × school-level groups, then the county-level groups) and the settings from the round. The
result, the quota plan, the school × item heatmap and `survey-service analyze` all build it here.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import cast

from analysis import COUNTY_GROUPS, SCHOOL_GROUPS, Design, Group, IntervalMethod, School, Settings, Stratum
from analysis.design import DesignType, NationalWeighting
from survey_service.schools.schemas import RosterSchool, SchoolRecord
from survey_service.schools.service import round_schools
from survey_service.surveys.schemas import RoundRecord
from survey_service.surveys.service import round_record

# (group, school code or None for a county-level group) of strata that have answers.
Answered = Collection[tuple[str, str | None]]


def strata(
    schools: Sequence[RosterSchool], county_populations: Mapping[Group, int | None], answered: Answered = ()
) -> list[Stratum]:
    """Every school × school-level group with a population (or answers), then every county-level group
    that `county_populations` names (its population None when unknown) or that has answers."""
    answered = set(answered)
    found = [
        Stratum(group=g, school=s.code, population=s.population(g))
        for s in schools
        for g in SCHOOL_GROUPS
        if s.population(g) > 0 or (g, s.code) in answered
    ]
    found += [
        Stratum(group=g, population=county_populations.get(g))
        for g in COUNTY_GROUPS
        if g in county_populations or (g, None) in answered
    ]
    return found


def design(
    schools: Sequence[RosterSchool],
    county_populations: Mapping[Group, int | None],
    settings: Settings | None = None,
    answered: Answered = (),
) -> Design:
    return Design(
        schools=[School(code=s.code, name=s.name, stage=s.stage, location=s.location) for s in schools],
        strata=strata(schools, county_populations, answered),
        settings=settings or Settings(),
    )


def round_settings(record: RoundRecord, method: IntervalMethod | None = None) -> Settings:
    """The analysis settings a round was set up with; `method` overrides its interval method (logit)."""
    return Settings(
        target=record.target,
        confidence_level=record.confidence_level,
        method=method or "logit",
        design=cast(DesignType, record.design),  # checked when the round was saved (surveys/validation.py)
        group_weights=dict(record.group_weights) or "default",
        resident_population=record.resident_population,  # sizes 迎检预判's national sample
        # 迎检预判's group weighting and design effect (checked when the round was saved)
        national_weighting=cast(NationalWeighting, record.national_weighting),
        national_design_effect=record.national_design_effect,
    )


def round_design(
    record: RoundRecord, schools: Sequence[SchoolRecord], method: IntervalMethod | None = None, answered: Answered = ()
) -> Design:
    """The round's design: every county-level group belongs to a round (it has its links), its
    population known or not."""
    county = {g: record.county_populations.get(g) for g in COUNTY_GROUPS}
    return design(schools, county, round_settings(record, method), answered)


async def round_roster(survey_id: int) -> tuple[RoundRecord, list[SchoolRecord]]:
    """The round and its schools (by code); NotFound for an unknown round."""
    return await round_record(survey_id), await round_schools(survey_id)
