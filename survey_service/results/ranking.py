"""Schools ranked by 认可度, honestly: a school with five answers, all 认可 (100%, interval 47.8%–100%), is
not put at the top of a ranking. Where the result has each shown school's Fay–Herriot estimate
(`SchoolRow.shrunk`, analysis.small_area) schools are ranked by it: a school with few answers is pulled
toward the county mean of schools, a large one keeps about its own figure, and the direct estimate with
its interval stands beside it. With too few schools for the model, schools whose interval is wide are
listed apart as 样本不足 instead. Schools with too few answers to show at all come last, by name only."""

from __future__ import annotations

import dataclasses

from analysis import Estimate, SurveyResult
from analysis.results import SchoolRow
from survey_service.results.small_area_texts import DIRECT_LABEL, shrunk_cells, shrunk_columns
from survey_service.results.tables import COUNTY_GROUP_NAMES, Column, Table, group_label

# A school is ranked when the half-width of its interval is at most this (15 percentage points).
WIDE_HALF_WIDTH = 0.15
RANKED, IMPRECISE, SUPPRESSED_TEXT = "参与排名", "样本不足", "应答过少，不单独显示"
IMPRECISE_RULE = (
    f"置信区间半宽超过 {WIDE_HALF_WIDTH * 100:.0f} 个百分点的学校，估计不够精确，记为“样本不足”，不参与排名"
)
TIE = 1e-9  # adjusted figures closer than this are equal (rounding in the fit)
IMPRECISE_NOTE = f"按认可度从高到低排名；“精度”为置信区间的半宽（±百分点），越小越精确。{IMPRECISE_RULE}。"


def half_width(e: Estimate) -> float:
    return (e.ci_high - e.ci_low) / 2


@dataclasses.dataclass(frozen=True)
class RankedSchools:
    ranked: list[SchoolRow]  # highest 认可度 first (by the shrunk estimate where `shrunk`)
    imprecise: list[SchoolRow]  # 样本不足: highest first too, but not ranked (none where `shrunk`)
    suppressed: list[SchoolRow]  # too few answers to show
    shrunk: bool = False  # ranked by the Fay–Herriot estimate


def rank_schools(result: SurveyResult) -> RankedSchools:
    shown = [s for s in result.schools if not s.overall.suppressed]
    suppressed = [s for s in result.schools if s.overall.suppressed]
    if shown and all(s.shrunk is not None for s in shown):
        return RankedSchools(
            ranked=sorted(shown, key=shrunk_estimate, reverse=True), imprecise=[], suppressed=suppressed, shrunk=True
        )
    by_estimate = sorted(shown, key=lambda s: -s.overall.estimate)
    return RankedSchools(
        ranked=[s for s in by_estimate if half_width(s.overall) <= WIDE_HALF_WIDTH],
        imprecise=[s for s in by_estimate if half_width(s.overall) > WIDE_HALF_WIDTH],
        suppressed=suppressed,
    )


def shrunk_estimate(school: SchoolRow) -> float:
    return school.shrunk.estimate if school.shrunk is not None else school.overall.estimate


def ranks(schools: RankedSchools) -> list[int]:
    """名次 of the ranked schools: equal adjusted figures share a rank (where the schools differ by no more
    than sampling error, the model gives every school the county mean: all rank 1, in roster order)."""
    if not schools.shrunk:
        return list(range(1, len(schools.ranked) + 1))
    values = [shrunk_estimate(s) for s in schools.ranked]
    return [1 + sum(other > value + TIE for other in values) for value in values]


def school_groups(result: SurveyResult) -> list[str]:
    return [g for g in result.groups if g not in COUNTY_GROUP_NAMES]


def _group_share(e: Estimate | None) -> float | str | None:
    if e is None:
        return ""
    return None if e.suppressed else e.estimate


def ranked_schools_table(result: SurveyResult) -> Table:
    """分学校 for the workbook: ranked schools, then 样本不足, then the suppressed, with the half-width
    beside each estimate and the rank (or why there is none)."""
    level = f"{result.confidence_level:.0%}"
    groups = school_groups(result)
    schools = rank_schools(result)
    columns = [
        Column("名次", "integer"),
        Column("学校代码"),
        Column("学校"),
        Column("学段"),
        Column("位置"),
        *(shrunk_columns(level) if schools.shrunk else []),
        Column(DIRECT_LABEL if schools.shrunk else "认可度", "percent"),
        Column(f"{level}置信区间下限", "percent"),
        Column(f"{level}置信区间上限", "percent"),
        Column("区间半宽", "percent"),
        Column("答卷人数", "integer"),
        Column("排名说明"),
        *[Column(group_label(g), "percent") for g in groups],
    ]
    rows: list[list[object]] = []
    for rank, kind, row in [
        *[(rank, RANKED, s) for rank, s in zip(ranks(schools), schools.ranked)],
        *[("", IMPRECISE, s) for s in schools.imprecise],
        *[("", SUPPRESSED_TEXT, s) for s in schools.suppressed],
    ]:
        e = row.overall
        numbers: list[object] = [None] * 4 if e.suppressed else [e.estimate, e.ci_low, e.ci_high, half_width(e)]
        rows.append(
            [
                rank,
                row.key,
                row.name,
                row.stage or "",
                row.location or "",
                *(shrunk_cells(row) if schools.shrunk else []),
                *numbers,
                e.n,
                kind,
                *[_group_share(row.groups.get(g)) for g in groups],
            ]
        )
    return Table("分学校", columns, rows)
