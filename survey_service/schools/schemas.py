from __future__ import annotations

from typing import Annotated

import msgspec

from survey_service.core.groups import Group
from survey_service.schools.tables import Location, Stage

Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]

# The roster's count of each school-level group: the populations N_h of the school's strata.
POPULATION_FIELDS: dict[Group, str] = {
    Group.student: "students",
    Group.parent: "parents",  # households
    Group.teacher: "teachers",
    Group.principal: "principals",
}


class RosterSchool(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One roster row: a school and the populations of its strata. Stage and location may be missing
    only where a roster may leave them out (`survey-service analyze`); a round's schools have both."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    stage: Stage | None = None
    location: Location | None = None
    students: Count
    parents: Count
    teachers: Count
    principals: Count

    def population(self, group: Group) -> int:
        return getattr(self, POPULATION_FIELDS[group])


class SchoolSpec(RosterSchool, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """A school of a round's roster, as the console imports it."""

    stage: Stage
    location: Location


class SchoolRecord(SchoolSpec, kw_only=True, frozen=True):
    """A school as stored in a round's roster."""

    id: int
