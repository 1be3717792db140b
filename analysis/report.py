"""The full result: overall 社会认可度 against the target, groups, breakdowns, validity.

Entry points: ``analyse`` takes per-stratum totals (what the service aggregates in SQL);
``analyse_responses`` takes per-respondent arrays and reduces them to the same totals.
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np

from analysis import breakdowns, national_check
from analysis import cells as cell_table
from analysis import coverage as coverage_mod
from analysis.design import GROUPS, CellTotals, Design, ItemTotals, ValidityCounts, group_populations
from analysis.group_weights import base_weights
from analysis.improvement import ItemSet
from analysis.improvement import improvement as improvement_list
from analysis.intervals import one_sided_p_value
from analysis.responses import totals_from_responses
from analysis.results import (
    Coverage,
    DesignSummary,
    DomainRow,
    Estimate,
    Note,
    OverallEstimate,
    SurveyResult,
    Validity,
    Verdict,
)
from analysis.small_area import shrink_schools

RULE_NOTES = {
    "nchs": "every answer equal (p = 0 or 1): interval by the NCHS rule on n respondents",
    "census": "every stratum fully observed: no sampling error",
    "zero_variance": "variance estimate 0: interval on n respondents as if simple random",
}


def verdict(low: float, high: float, target: float) -> Verdict:
    """达标 when the lower bound reaches the target, 未达标 when the upper bound is below it."""
    if low >= target:
        return "met"
    if high < target:
        return "not_met"
    return "inconclusive"


def _overall(estimate: Estimate, weights: np.ndarray, present: set[str], design: Design) -> OverallEstimate:
    settings = design.settings
    return OverallEstimate(
        **msgspec.structs.asdict(estimate),
        verdict=verdict(estimate.ci_low, estimate.ci_high, settings.target),
        p_value=one_sided_p_value(
            estimate.estimate, estimate.se, estimate.df, settings.target, estimate.interval_rule, estimate.n
        ),
        group_weights={g: float(weights[k]) for k, g in enumerate(GROUPS) if g in present},
    )


def _notes(
    groups: dict[str, Estimate],
    overall: Estimate | None,
    coverage: Coverage,
    validity: Validity | None,
    base: np.ndarray,
) -> list[Note]:
    shown = {**groups, **({"overall": overall} if overall else {})}
    notes = [
        Note(code=e.interval_rule, message=f"{g}: {RULE_NOTES[e.interval_rule]}", subject=g)
        for g, e in shown.items()
        if e.interval_rule in RULE_NOTES
    ]
    notes += [
        Note(code="df_floor", message=f"{g}: design df {e.df} raised to 1 for intervals", subject=g)
        for g, e in shown.items()
        if e.df < 1
    ]
    unweighted = [g for g in groups if base[GROUPS.index(g)] == 0]
    if unweighted:
        notes.append(
            Note(
                code="group_weight_zero",
                message=f"groups with answers but no weight: {', '.join(unweighted)}",
                subject=",".join(unweighted),
            )
        )
    if coverage.missing:
        notes.append(
            Note(
                code="coverage",
                count=len(coverage.missing),
                message=(
                    f"{len(coverage.missing)} strata have no answers: the estimate covers only the strata that answered"
                ),
            )
        )
    if validity is not None and validity.below_threshold:
        notes.append(
            Note(code="validity", message=(f"有效问卷率 {validity.rate:.1%} is below {validity.threshold:.0%}"))
        )
    if overall is None:
        notes.append(Note(code="no_answers", message="no valid answers yet"))
    return notes


def analyse(
    design: Design,
    totals: Sequence[CellTotals],
    items: Sequence[ItemTotals] = (),
    validity_counts: ValidityCounts | None = None,
    item_sets: Sequence[ItemSet] | None = None,
) -> SurveyResult:
    """The full result from per-stratum totals (n, Σy, Σy², per item rated/recognised). The 整改清单 tests
    the items of `item_sets` (one set per questionnaire); by default `items` as one set, merged by id."""
    settings = design.settings
    cells = cell_table.build_cells(design, totals)
    measures = breakdowns.Measures(
        cells=cells, recognition=cell_table.recognition_totals(totals), score=cell_table.score_totals(totals)
    )
    base = base_weights(settings, group_populations(design))
    whole = breakdowns.breakdown(measures, np.zeros(cells.size, dtype=np.int64), 1, settings, base)
    top = breakdowns.domain_rows(whole, ["overall"], settings)
    row = top[0][1] if top else None
    groups = row.groups if row else {}
    item_list = _item_rows(design, cells, totals, items, base)
    weights = whole.recognition.coefficient
    overall = None if row is None else _overall(row.overall, weights, set(groups), design)
    cover = coverage_mod.coverage(design, totals)
    national = national_check.of_round(design, cells, measures.recognition, whole.recognition.groups, weights)
    valid = None if validity_counts is None else coverage_mod.validity(validity_counts, settings.validity_threshold)
    return SurveyResult(
        target=settings.target,
        confidence_level=settings.confidence_level,
        method=settings.method,
        design=DesignSummary(
            type=settings.design,
            schools=len(design.schools),
            schools_answered=cells.psu_count,
            schools_in_county=settings.schools_in_county,
            min_cell_size=settings.min_cell_size,
        ),
        overall=overall,
        groups=groups,
        schools=shrink_schools(breakdowns.school_rows(design, measures, base), settings.confidence_level),
        items=item_list,
        locations=breakdowns.attribute_rows(design, measures, base, "location"),
        stages=breakdowns.attribute_rows(design, measures, base, "stage"),
        validity=valid,
        coverage=cover,
        notes=_notes(groups, overall, cover, valid, base),
        national_check=national,
        improvement=improvement_list(design, totals, [(None, items)] if item_sets is None else item_sets),
    )


def analyse_items(design: Design, totals: Sequence[CellTotals], items: Sequence[ItemTotals]) -> list[DomainRow]:
    """The per-item rows `analyse` gives for `items` (one questionnaire's, say), without the rest of the
    result (national check, school model, 整改清单) that the round's own analysis computes once."""
    cells = cell_table.build_cells(design, totals)
    return _item_rows(design, cells, totals, items, base_weights(design.settings, group_populations(design)))


def _item_rows(
    design: Design,
    cells: cell_table.CellTable,
    totals: Sequence[CellTotals],
    items: Sequence[ItemTotals],
    base: np.ndarray,
) -> list[DomainRow]:
    if not items:
        return []
    names, item_index, item_rec, item_score = cell_table.item_totals(items)
    return breakdowns.item_rows(
        design, cells, cell_table.cell_of(totals, items), names, item_index, item_rec, item_score, base
    )


def analyse_responses(
    design: Design,
    schools: Sequence[str | None],
    groups: Sequence[str],
    y: np.ndarray,
    score: np.ndarray | None = None,
    item_names: Sequence[str] = (),
    item_recognised: np.ndarray | None = None,
    item_excluded: np.ndarray | None = None,
    item_scores: np.ndarray | None = None,
    validity_counts: ValidityCounts | None = None,
) -> SurveyResult:
    """The full result from per-respondent arrays (y nan: not valid, left out)."""
    totals, items = totals_from_responses(
        schools, groups, y, score, item_names, item_recognised, item_excluded, item_scores
    )
    return analyse(design, totals, items, validity_counts)
