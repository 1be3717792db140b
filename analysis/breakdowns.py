"""Breakdowns: by group, school, item, location (城区/镇区/乡村) and stage (小学/初中/...).

Every breakdown is the same computation on a different domain key: each group's
weighted share in the domain and their weighted combination (see estimators.summarise).
School cells use the within-school (stratified) variance in both designs: a single
school has no between-school variance of its own.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import cast

import numpy as np

from analysis.cells import CellTable, Totals, take
from analysis.design import GROUPS, Design, Settings
from analysis.estimators import DomainEstimates, Summary, summarise
from analysis.group_weights import normalise
from analysis.intervals import proportion_intervals
from analysis.results import DomainRow, Estimate, IntervalRule, SchoolRow


@dataclasses.dataclass(frozen=True)
class Measures:
    """The recognition totals and (optionally) the 0-100 score totals of the same rows."""

    cells: CellTable
    recognition: Totals
    score: Totals | None


@dataclasses.dataclass(frozen=True)
class Breakdown:
    recognition: Summary
    score: Summary | None


def breakdown(
    measures: Measures, domain: np.ndarray, size: int, settings: Settings, base_weights: np.ndarray
) -> Breakdown:
    weigh = functools.partial(normalise, settings)
    run = functools.partial(
        summarise, measures.cells, domain=domain, size=size, base_weights=base_weights, normalise=weigh
    )
    return Breakdown(
        recognition=run(measures.recognition), score=None if measures.score is None else run(measures.score)
    )


def _none(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def estimates(
    found: DomainEstimates, scores: DomainEstimates | None, settings: Settings, min_cell: int = 0
) -> list[Estimate | None]:
    """Estimate structs for each domain (None where the domain has no respondents)."""
    ci = proportion_intervals(
        found.estimate, found.var, found.df, found.n, found.census, settings.confidence_level, settings.method
    )
    out: list[Estimate | None] = []
    for k in range(len(found.estimate)):
        if found.n[k] <= 0:
            out.append(None)
            continue
        out.append(
            Estimate(
                estimate=float(found.estimate[k]),
                se=float(np.sqrt(found.var[k])),
                ci_low=float(ci.low[k]),
                ci_high=float(ci.high[k]),
                n=int(found.n[k]),
                n_eff=_none(ci.n_eff[k]),
                deff=_none(found.deff[k]),
                df=int(found.df[k]),
                n_kish=_none(found.n_kish[k]),
                score=None if scores is None else _none(scores.estimate[k]),
                interval_rule=cast(IntervalRule, str(ci.rule[k])),
                suppressed=bool(found.n[k] < min_cell),
            )
        )
    return out


def domain_rows(
    result: Breakdown, keys: list[str], settings: Settings, min_cell: int = 0
) -> list[tuple[int, DomainRow]]:
    """(domain index, row) for each domain with respondents."""
    score = result.score
    combined = estimates(result.recognition.combined, None if score is None else score.combined, settings, min_cell)
    parts = estimates(result.recognition.groups, None if score is None else score.groups, settings, min_cell)
    rows = []
    for d, key in enumerate(keys):
        overall = combined[d]
        if overall is None:
            continue
        in_domain = parts[d * len(GROUPS) : (d + 1) * len(GROUPS)]
        groups: dict[str, Estimate] = {g: e for g, e in zip(GROUPS, in_domain, strict=True) if e is not None}
        rows.append((d, DomainRow(key=key, overall=overall, groups=groups)))
    return rows


def school_rows(design: Design, measures: Measures, base_weights: np.ndarray) -> list[SchoolRow]:
    cells = dataclasses.replace(measures.cells, clustered=False)  # within-school variance
    within = dataclasses.replace(measures, cells=cells)
    keys = [s.code for s in design.schools]
    result = breakdown(within, measures.cells.school, len(keys), design.settings, base_weights)
    rows = domain_rows(result, keys, design.settings, design.settings.min_cell_size)
    return [
        SchoolRow(
            key=row.key,
            overall=row.overall,
            groups=row.groups,
            name=design.schools[d].name,
            location=design.schools[d].location,
            stage=design.schools[d].stage,
        )
        for d, row in rows
    ]


def attribute_rows(design: Design, measures: Measures, base_weights: np.ndarray, attribute: str) -> list[DomainRow]:
    """Rows by a school attribute (location or stage); county-level strata are left out."""
    values = [getattr(s, attribute) for s in design.schools]
    keys = sorted({v for v in values if v is not None})
    if not keys:
        return []
    of_school = np.array([keys.index(v) if v is not None else -1 for v in values] + [-1])
    domain = of_school[measures.cells.school]  # school -1 (county) picks the trailing -1
    result = breakdown(measures, domain, len(keys), design.settings, base_weights)
    return [row for _, row in domain_rows(result, keys, design.settings)]


def item_rows(
    design: Design,
    cells: CellTable,
    rows_cell: np.ndarray,
    names: list[str],
    item_index: np.ndarray,
    recognition: Totals,
    score: Totals | None,
    base_weights: np.ndarray,
) -> list[DomainRow]:
    """Each item's 认可 share (overall and per group), lowest first."""
    measures = Measures(cells=take(cells, rows_cell), recognition=recognition, score=score)
    result = breakdown(measures, item_index, len(names), design.settings, base_weights)
    rows = [row for _, row in domain_rows(result, names, design.settings)]
    return sorted(rows, key=lambda row: row.overall.estimate)
