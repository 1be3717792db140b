from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

from survey_service.core.groups import Group

# How the variance is computed (analysis.Settings.design), as the console names it.
DESIGN_LABELS = {"strata": "全部学校参加（学校作为分层）", "clusters": "抽样部分学校（学校作为整群）"}


class RoundSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the bureau sets when it creates a round."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    region: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    resident_population: Annotated[int, msgspec.Meta(ge=0)] = 0
    opens_at: datetime
    closes_at: datetime
    target: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.85
    confidence_level: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.95
    # strata: every school takes part; clusters: only a sample of the county's schools does.
    design: Literal["strata", "clusters"] = "strata"
    group_weights: dict[Group, Annotated[float, msgspec.Meta(ge=0)]] = {}
    questionnaires: dict[Group, str] = {}
    county_populations: dict[Group, Annotated[int, msgspec.Meta(ge=0)]] = {}


class RoundSummary(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    title: str
    region: str
    opens_at: datetime
    closes_at: datetime
