"""The result structs (JSON through msgspec): estimates, breakdown rows, validity, report."""

from __future__ import annotations

from typing import Literal

import msgspec

from analysis.comparison_results import Comparison
from analysis.design import IntervalMethod, NationalWeighting

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


class ShrunkEstimate(msgspec.Struct, kw_only=True):
    """A school's Fay–Herriot estimate (analysis.small_area): its direct figure pulled toward the county
    mean of schools by `1 − weight`, the more the fewer its answers; MSE by Prasad–Rao (REML), the
    interval estimate ± z·√MSE. `sampling_variance` is the ψ the model used for the school, by
    `variance_rule`: "design" (its design variance), "pooled" (zero design variance: the pooled variance
    per respondent over its n), "census" (no sampling error: kept as it is)."""

    estimate: float
    mse: float
    ci_low: float
    ci_high: float
    weight: float  # γ: the direct estimate's share in the estimate
    synthetic: float  # the county mean of schools the estimate is pulled toward
    sampling_variance: float
    variance_rule: Literal["design", "pooled", "census"]
    model_variance: float  # between-school variance σ²_v (REML)


class SchoolRow(DomainRow, kw_only=True):
    name: str = ""
    location: str | None = None
    stage: str | None = None
    shrunk: ShrunkEstimate | None = None  # for ranking; None: too few schools, or not shown


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
    # Returned answers by source ("online", "wjx" 问卷星导入, "paper" 纸质问卷) when any is not online.
    sources: dict[str, int] = {}


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


NationalVerdict = Literal["likely_pass", "at_risk", "likely_fail"]  # 很可能通过 / 存在风险 / 很可能不通过


class NationalGroup(msgspec.Struct, kw_only=True):
    group: str
    sample: int  # respondents the national team is assumed to ask
    weight: float  # a_g in the national figure
    estimate: float  # this round's p̂_g
    se: float  # its standard error as used (the zero-variance fallback included)
    element_sd: float  # per-respondent standard deviation of y used for the national sample
    population: int | None  # N_g (None: unknown, no finite population correction)


class NationalCheck(msgspec.Struct, kw_only=True):
    """迎检预判 (analysis/national_check.py): the chance that the national team's own sample finds the county at
    or above the target, the national sample assumed and the 90%-safe rate."""

    probability: float  # P(national figure ≥ target)
    verdict: NationalVerdict
    target: float
    expected: float  # Σ a_g p̂_g: the national figure this round expects
    se_round: float  # uncertainty about the true rates (this round's sampling error)
    se_national: float  # the national sample's own sampling error
    se: float  # √(se_round² + se_national²)
    sample_size: int  # the national sample
    resident_population: int  # 常住人口 as given (0: unknown)
    minimum_assumed: bool  # 常住人口 unknown: the national minimum of 600 assumed
    weighting: NationalWeighting
    design_effect: float | None  # the national sample's deff (None: each group's from the round)
    safe_level: float
    safe_rate: float  # the smallest true county-wide rate passing with safe_level chance
    safe_estimate: float  # the smallest estimate of a round this precise giving that chance
    groups: list[NationalGroup]
    absent_groups: list[str]  # groups the national team asks that this round has no answers from


CellKind = Literal["school", "group"]  # a school × item cell, or a respondent group × item cell


class ImprovementCell(msgspec.Struct, kw_only=True):
    """A cell of the 整改清单 found significantly below the county figure of its item (analysis.improvement).

    The cell (a school's, or a group's, 认可 share of an item) is tested against the rest of the county
    (the same item without the cell); `gap` is its distance to the county figure itself."""

    kind: CellKind
    key: str  # school code or group
    name: str  # the school's name ("" for a group)
    questionnaire: str | None  # the questionnaire id the item belongs to (None: items merged by id)
    item: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int  # rated answers (不了解 left out)
    county: float  # the county figure of the item
    gap: float  # estimate − county
    rest: float  # the rest of the county the cell is tested against
    se_difference: float  # SE of estimate − rest
    df: float  # Welch–Satterthwaite degrees of freedom of the test
    p_value: float  # one-sided, H1: the cell is below the rest of the county
    p_adjusted: float  # Benjamini–Hochberg over every cell tested


class UntestedCell(msgspec.Struct, kw_only=True):
    """A cell with too few rated answers to test (样本过少，未检验): never counted as a problem."""

    kind: CellKind
    key: str
    name: str
    questionnaire: str | None
    item: str
    n: int


class ItemShortfall(msgspec.Struct, kw_only=True):
    """An item's share in the county shortfall: Σ_g a_g · max(0, target − p_g,item) over the groups that
    rated it (a_g the county's group weights), in points of 认可度; `share` of the sum over items."""

    questionnaire: str | None
    item: str
    county: float  # the county figure of the item
    contribution: float
    share: float | None  # None when no item falls short
    groups: dict[str, float]  # each group's a_g · max(0, target − p_g,item)
    flagged: int  # cells of this item in the 整改清单


class Improvement(msgspec.Struct, kw_only=True):
    """整改清单: cells below the county figure with the false discovery rate held at `fdr`."""

    fdr: float
    min_rated: int  # cells with fewer rated answers are not tested
    tested: int
    flagged: list[ImprovementCell]  # by adjusted p, then gap
    untested: list[UntestedCell]
    items: list[ItemShortfall]  # by contribution, largest first


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
    national_check: NationalCheck | None = None  # 迎检预判 (analysis/national_check.py)
    comparison: Comparison | None = None  # 与上一轮对比, when a previous round is named (analysis/comparison.py)
    improvement: Improvement | None = None  # 整改清单 (analysis/improvement.py); None without item answers
