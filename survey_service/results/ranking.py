"""Schools ranked by 认可度, honestly: a school whose interval is wide (five answers, all 认可, give
47.8%–100%) is not put at the top of a ranking. Such schools are listed apart as 样本不足, with their
estimate and interval; schools with too few answers to show at all come last, by name only."""

from __future__ import annotations

import dataclasses

from analysis import Estimate, SurveyResult
from analysis.results import SchoolRow
from survey_service.results.tables import COUNTY_GROUP_NAMES, Column, Table, group_label

# A school is ranked when the half-width of its interval is at most this (15 percentage points).
WIDE_HALF_WIDTH = 0.15
RANKED, IMPRECISE, SUPPRESSED_TEXT = "参与排名", "样本不足", "应答过少，不单独显示"
IMPRECISE_RULE = (
    f"置信区间半宽超过 {WIDE_HALF_WIDTH * 100:.0f} 个百分点的学校，估计不够精确，记为“样本不足”，不参与排名"
)


def half_width(e: Estimate) -> float:
    return (e.ci_high - e.ci_low) / 2


@dataclasses.dataclass(frozen=True)
class RankedSchools:
    ranked: list[SchoolRow]  # highest 认可度 first
    imprecise: list[SchoolRow]  # 样本不足: highest first too, but not ranked
    suppressed: list[SchoolRow]  # too few answers to show


def rank_schools(result: SurveyResult) -> RankedSchools:
    shown = [s for s in result.schools if not s.overall.suppressed]
    by_estimate = sorted(shown, key=lambda s: -s.overall.estimate)
    return RankedSchools(
        ranked=[s for s in by_estimate if half_width(s.overall) <= WIDE_HALF_WIDTH],
        imprecise=[s for s in by_estimate if half_width(s.overall) > WIDE_HALF_WIDTH],
        suppressed=[s for s in result.schools if s.overall.suppressed],
    )


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
    columns = [
        Column("名次", "integer"),
        Column("学校代码"),
        Column("学校"),
        Column("学段"),
        Column("位置"),
        Column("认可度", "percent"),
        Column(f"{level}置信区间下限", "percent"),
        Column(f"{level}置信区间上限", "percent"),
        Column("区间半宽", "percent"),
        Column("答卷人数", "integer"),
        Column("排名说明"),
        *[Column(group_label(g), "percent") for g in groups],
    ]
    schools = rank_schools(result)
    rows: list[list[object]] = []
    for rank, kind, row in [
        *[(k + 1, RANKED, s) for k, s in enumerate(schools.ranked)],
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
                *numbers,
                e.n,
                kind,
                *[_group_share(row.groups.get(g)) for g in groups],
            ]
        )
    return Table("分学校", columns, rows)
