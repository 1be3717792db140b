"""The survey design as the bureau declares it: schools, strata with populations, settings.

Inside each respondent group every school is a stratum (school x group); county-level
groups (人大代表/政协委员 = ``deputy``, 其他群众 = ``public``) form one stratum each.
A stratum's population N_h comes from the roster; ``None`` means unknown (``public``):
such a stratum gets no finite population correction and equal weights.
"""

from __future__ import annotations

import enum
from typing import Literal, get_args

import msgspec


class Group(enum.StrEnum):
    """The respondent groups (调查对象), declared here once; the service adds their Chinese names."""

    student = "student"
    parent = "parent"
    teacher = "teacher"
    principal = "principal"
    deputy = "deputy"  # 人大代表 and 政协委员
    public = "public"  # 其他群众


GROUPS: tuple[Group, ...] = tuple(Group)
# Groups sampled inside each school (a school is a stratum); the others are county-level.
SCHOOL_GROUPS: tuple[Group, ...] = (Group.student, Group.parent, Group.teacher, Group.principal)
COUNTY_GROUPS: tuple[Group, ...] = (Group.deputy, Group.public)

# The interval methods of analysis.intervals, declared here once (see intervals.py for each).
IntervalMethod = Literal["logit", "beta", "wilson", "wald", "asin"]
INTERVAL_METHODS: tuple[IntervalMethod, ...] = get_args(IntervalMethod)
DesignType = Literal["strata", "clusters"]
WeightPreset = Literal["default", "population", "equal"]
# How the national team weighs its groups (analysis/national_check.py): by respondents, or as this round does.
NationalWeighting = Literal["respondents", "round"]


class School(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    code: str
    name: str = ""
    location: str | None = None  # 城区 / 镇区 / 乡村
    stage: str | None = None  # 小学 / 初中 / 九年一贯制 / 完全中学


class Stratum(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    group: Group
    school: str | None = None  # None: a county-level stratum
    population: int | None = None  # N_h; None: unknown, no finite population correction


# The national rule: 社会认可度 at 85% or above (below it the county fails); intervals at 95%.
DEFAULT_TARGET = 0.85
DEFAULT_CONFIDENCE_LEVEL = 0.95


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    target: float = DEFAULT_TARGET  # the share to reach, a fraction
    confidence_level: float = DEFAULT_CONFIDENCE_LEVEL  # a fraction
    method: IntervalMethod = "logit"
    design: DesignType = "strata"
    group_weights: WeightPreset | dict[Group, float] = "default"
    # Clusters design: number of schools in the county the participating ones were
    # drawn from (first-stage finite population correction); None: with replacement.
    schools_in_county: int | None = None
    min_cell_size: int = 5  # school cells below this are suppressed for display
    validity_threshold: float = 0.70  # 有效问卷率 below this raises a warning
    # 迎检预判 (analysis/national_check.py): 常住人口 sizes the national sample (0: unknown, the national
    # minimum); its figure weighs groups by respondents or by this round's group weights; the national
    # sample's design effect (None: each group's deff in this round, at least 1).
    resident_population: int = 0
    national_weighting: NationalWeighting = "respondents"
    national_design_effect: float | None = 1.0


class Design(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    schools: list[School]
    strata: list[Stratum]
    settings: Settings = msgspec.field(default_factory=Settings)


class CellTotals(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One stratum's answers, as the service aggregates them in SQL.

    n counts respondents with a recognition value y; sum_y = Σy, sum_y2 = Σy².
    Scores (0 to 100 per respondent) are optional.
    """

    group: Group
    school: str | None = None
    n: int
    sum_y: float
    sum_y2: float
    sum_score: float | None = None
    sum_score2: float | None = None


class ItemTotals(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """One item's answers in one stratum: rated (not excluded) and recognised counts."""

    item: str
    group: Group
    school: str | None = None
    n_rated: int
    n_recognised: int
    sum_score: float | None = None
    sum_score2: float | None = None


class ValidityCounts(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    """Returned questionnaires, valid ones, excluded ones by reason, and flagged ones by flag."""

    returned: int
    valid: int
    excluded: dict[str, int] = msgspec.field(default_factory=dict)
    # Answers carrying any quality flag (kept and counted unless excluded), and the count per flag.
    flagged: int = 0
    flags: dict[str, int] = msgspec.field(default_factory=dict)
    # Flagged answers not yet decided in review (待审核: counted meanwhile), and flagged answers
    # kept after review, by reason. Flagged answers excluded after review are in `excluded`.
    pending: int = 0
    kept: dict[str, int] = msgspec.field(default_factory=dict)
    # Returned answers by where they came from ("online", "wjx" 问卷星导入, "paper" 纸质问卷), only
    # when some did not come in online; empty otherwise.
    sources: dict[str, int] = msgspec.field(default_factory=dict)


def group_populations(design: Design) -> dict[Group, int]:
    """Each group's known population (Σ N_h over strata with a population)."""
    totals: dict[Group, int] = {}
    for stratum in design.strata:
        if stratum.population is not None:
            totals[stratum.group] = totals.get(stratum.group, 0) + stratum.population
    return totals
