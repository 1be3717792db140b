"""The result structs (JSON through msgspec): estimates, breakdown rows, validity, report."""

from __future__ import annotations

from typing import Literal

import msgspec

from analysis.design import IntervalMethod

IntervalRule = Literal["design", "nchs", "census", "zero_variance"]
Verdict = Literal["met", "not_met", "inconclusive"]  # 达标 / 未达标 / 待定


class Estimate(msgspec.Struct, kw_only=True):
    """A weighted 认可 share with its design-based uncertainty.

    n_eff = p(1 − p)/Var (svyciprop's effective n; n under the NCHS rule; None for a
    census); deff = Var / Var_SRS as R's svymean(deff = TRUE) for a group (with-replacement
    SRS where weights sum to n or less; None where every answer is equal), and
    Var / Σ a_g² Var_SRS(p_g) for a combination of groups; n_kish = (Σw)²/Σw².
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    n_eff: float | None
    deff: float | None
    df: int
    n_kish: float | None = None
    score: float | None = None  # 0-100 mean score beside the 认可 share
    interval_rule: IntervalRule = "design"
    suppressed: bool = False  # too few respondents to show (still counted in totals)


class OverallEstimate(Estimate, kw_only=True):
    verdict: Verdict
    p_value: float  # one-sided, H1: P > target, from t = (P − target)/SE on df
    group_weights: dict[str, float]


class DomainRow(msgspec.Struct, kw_only=True):
    """A breakdown row: its combined estimate and each group's."""

    key: str
    overall: Estimate
    groups: dict[str, Estimate]


class SchoolRow(DomainRow, kw_only=True):
    name: str = ""
    location: str | None = None
    stage: str | None = None


class MissingStratum(msgspec.Struct, kw_only=True):
    group: str
    school: str | None
    population: int | None
    population_share: float | None  # of the group's known population


class Validity(msgspec.Struct, kw_only=True):
    returned: int
    valid: int
    rate: float | None  # 有效问卷率 = valid / returned
    excluded: dict[str, int]
    threshold: float
    below_threshold: bool
    flagged: int = 0
    flags: dict[str, int] = {}
    pending: int = 0  # flagged answers awaiting review (counted meanwhile)
    kept: dict[str, int] = {}  # flagged answers kept after review, by reason


class Coverage(msgspec.Struct, kw_only=True):
    strata: int
    strata_answered: int
    missing: list[MissingStratum]
    population_share_covered: float | None  # of strata with known population


class DesignSummary(msgspec.Struct, kw_only=True):
    type: str
    schools: int
    schools_answered: int
    schools_in_county: int | None
    min_cell_size: int


class Note(msgspec.Struct, kw_only=True):
    """A remark on the result: `code` says which (readers translate by it), `message` in English for
    logs and the API; `subject` names what it is about (a group, "overall") and `count` how many."""

    code: str
    message: str
    subject: str | None = None
    count: int | None = None


class SurveyResult(msgspec.Struct, kw_only=True):
    target: float
    # JSON keeps the name `level` that API readers and exported reports already use.
    confidence_level: float = msgspec.field(name="level")
    method: IntervalMethod
    design: DesignSummary
    overall: OverallEstimate | None
    groups: dict[str, Estimate]
    schools: list[SchoolRow]
    items: list[DomainRow]
    locations: list[DomainRow]
    stages: list[DomainRow]
    validity: Validity | None
    coverage: Coverage
    notes: list[Note]
