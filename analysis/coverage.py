"""有效问卷率 and coverage: which strata answered and how much population they hold."""

from __future__ import annotations

from collections.abc import Sequence

from analysis.design import CellTotals, Design, ValidityCounts, group_populations
from analysis.results import Coverage, MissingStratum, Validity


def validity(counts: ValidityCounts, threshold: float) -> Validity:
    """有效问卷率 = valid / returned, flagged below the threshold (national rule: 70%)."""
    rate = counts.valid / counts.returned if counts.returned > 0 else None
    return Validity(
        returned=counts.returned,
        valid=counts.valid,
        rate=rate,
        excluded=dict(counts.excluded),
        threshold=threshold,
        below_threshold=rate is not None and rate < threshold,
        flagged=counts.flagged,
        flags=dict(counts.flags),
        pending=counts.pending,
        kept=dict(counts.kept),
        sources=dict(counts.sources),
    )


def coverage(design: Design, totals: Sequence[CellTotals]) -> Coverage:
    """Strata without answers, each with its share of its group's known population."""
    answered = {(t.school, t.group) for t in totals if t.n > 0}
    group_population = group_populations(design)
    missing = [
        MissingStratum(
            group=s.group,
            school=s.school,
            population=s.population,
            population_share=(
                s.population / group_population[s.group]
                if s.population is not None and group_population[s.group]
                else None
            ),
        )
        for s in design.strata
        if (s.school, s.group) not in answered
    ]
    known_total = sum(group_population.values())
    known_missing = sum(m.population or 0 for m in missing)
    return Coverage(
        strata=len(design.strata),
        strata_answered=len(design.strata) - len(missing),
        missing=missing,
        population_share_covered=(1 - known_missing / known_total if known_total else None),
    )
