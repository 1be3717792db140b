from __future__ import annotations

from typing import Annotated

import msgspec

from survey_service.schools.tables import Location, Stage

Count = Annotated[int, msgspec.Meta(ge=0, le=10_000_000)]


class SchoolSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One roster row: a school and the populations of its strata."""

    code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    stage: Stage
    location: Location
    students: Count
    parents: Count
    teachers: Count
    principals: Count
