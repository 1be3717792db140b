"""The structs of 与上一轮对比 (JSON through msgspec): each line's difference and test, the trend of the
county's rounds. Computed by analysis/comparison.py; carried in SurveyResult.comparison."""

from __future__ import annotations

from typing import Literal

import msgspec

ChangeVerdict = Literal["rise", "no_change", "fall", "not_comparable"]
# changed: the item's wording or answer options differ; missing: a round has no answers to it (or
# the school, group); too_few: fewer answers than a cell may be shown with, in either round.
NotComparableReason = Literal["changed", "missing", "too_few"]


class Change(msgspec.Struct, kw_only=True):
    """One line of the comparison: both rounds' estimates, their difference and its test."""

    key: str  # "overall", a group, an item id, a school code
    name: str = ""  # a school's name
    questionnaire: str | None = None  # an item's questionnaire id
    current: float | None
    previous: float | None
    difference: float | None = None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    df: int | None = None
    p_value: float | None = None  # two-sided
    verdict: ChangeVerdict
    reason: NotComparableReason | None = None
    n_current: int = 0
    n_previous: int = 0


class TrendPoint(msgspec.Struct, kw_only=True):
    """One round of the county in the trend: its overall estimate and interval."""

    round: int | None
    title: str
    date: str | None  # when it opened, YYYY-MM-DD
    estimate: float
    ci_low: float
    ci_high: float
    n: int
    current: bool = False


class Comparison(msgspec.Struct, kw_only=True):
    previous_round: int | None  # None: a previous round from a file (`analyze --previous`)
    previous_title: str
    confidence_level: float = msgspec.field(name="level")
    overall: Change | None
    groups: list[Change]
    items: list[Change]
    schools: list[Change]
    trend: list[TrendPoint] = []
