from __future__ import annotations

from datetime import datetime

import msgspec

from analysis.design import DEFAULT_CONFIDENCE_LEVEL, DEFAULT_TARGET
from survey_service.core.groups import Group

# How the variance is computed (analysis.Settings.design), as the console names it.
DESIGN_LABELS = {"strata": "全部学校参加（学校作为分层）", "clusters": "抽样部分学校（学校作为整群）"}


class RoundSpec(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What the bureau sets when it creates or edits a round. Its values are checked in one place,
    surveys/validation.py (the service runs it on every create and update), not here."""

    title: str
    region: str
    resident_population: int = 0  # 常住人口
    opens_at: datetime
    closes_at: datetime
    target: float = DEFAULT_TARGET  # the 社会认可度 to reach, a fraction
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL  # a fraction
    # strata: every school takes part; clusters: only a sample of the county's schools does (DESIGN_LABELS).
    design: str = "strata"
    group_weights: dict[Group, float] = {}  # empty: the default rule
    questionnaires: dict[Group, str] = {}  # a group not named answers its default questionnaire
    county_populations: dict[Group, int] = {}


class RoundRecord(RoundSpec, kw_only=True):
    """A stored round: its settings as saved (every group's questionnaire named)."""

    id: int
    created_at: datetime | None = None


class RoundSummary(msgspec.Struct, kw_only=True, frozen=True):
    id: int
    title: str
    region: str
    opens_at: datetime
    closes_at: datetime
