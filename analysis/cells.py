"""The design resolved into arrays: one row per stratum (school x group, or county group).

Weights are constant inside a stratum (w = N_h / n_h), so a stratum's n, Σy and Σy²
are all the stratified estimators need; everything downstream works on these rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from analysis.design import GROUPS, CellTotals, Design, ItemTotals


@dataclass(frozen=True)
class CellTable:
    """Strata with answers, as parallel arrays (one entry per stratum)."""

    group: np.ndarray  # index into GROUPS
    school: np.ndarray  # index into design.schools; -1 for a county-level stratum
    n: np.ndarray  # respondents with a recognition value (n_h)
    population: np.ndarray  # N_h; nan when unknown
    weight: np.ndarray  # w_h = N_h / n_h (x M / m for schools in the clusters design)
    element_fpc: np.ndarray  # 1 - n_h / N_h, floored at 0 (census); 1 when N_h unknown
    n_schools: int  # schools in the design
    clustered: bool  # schools are PSUs (design "clusters")
    psu_count: int  # participating schools (PSUs of the clusters design)
    school_fpc: float  # 1 - m / M for the clusters design's first stage

    @property
    def size(self) -> int:
        return len(self.n)


@dataclass(frozen=True)
class Totals:
    """A measured variable per stratum: domain count m, Σx and Σx² over the domain."""

    m: np.ndarray
    s1: np.ndarray
    s2: np.ndarray


def stratum_keys(design: Design) -> dict[tuple[str | None, str], int | None]:
    """(school code, group) -> population, checking that schools are declared."""
    codes = {s.code for s in design.schools}
    keys: dict[tuple[str | None, str], int | None] = {}
    for stratum in design.strata:
        if stratum.school is not None and stratum.school not in codes:
            raise ValueError(f"stratum {stratum.group}@{stratum.school}: unknown school")
        keys[(stratum.school, stratum.group)] = stratum.population
    return keys


def build_cells(design: Design, totals: Sequence[CellTotals]) -> CellTable:
    """Resolve the strata that have answers into a CellTable."""
    populations = stratum_keys(design)
    school_index = {s.code: i for i, s in enumerate(design.schools)}
    answered = [t for t in totals if t.n > 0]
    for t in answered:
        if (t.school, t.group) not in populations:
            raise ValueError(f"answers for {t.group}@{t.school}: stratum not in the design")
    group = np.array([GROUPS.index(t.group) for t in answered], dtype=np.int64)
    school = np.array([-1 if t.school is None else school_index[t.school] for t in answered], dtype=np.int64)
    n = np.array([t.n for t in answered], dtype=float)
    population = np.array(
        [np.nan if (p := populations[(t.school, t.group)]) is None else p for t in answered], dtype=float
    )
    _check_known_populations(group, population)
    known = ~np.isnan(population)
    base_weight = np.where(known, population / np.maximum(n, 1), 1.0)
    # More respondents than population (two parents of one household, a stale roster):
    # the stratum is treated as a census, still representing its N_h.
    element_fpc = np.where(known, np.clip(1 - n / np.where(known, population, 1), 0, 1), 1.0)
    settings = design.settings
    clustered = settings.design == "clusters"
    m_schools = len(np.unique(school[school >= 0]))
    school_factor, school_fpc = 1.0, 1.0
    if clustered and settings.schools_in_county:
        school_factor = settings.schools_in_county / max(m_schools, 1)
        school_fpc = max(0.0, 1 - m_schools / settings.schools_in_county)
    weight = np.where(clustered & (school >= 0), school_factor * base_weight, base_weight)
    return CellTable(
        group=group,
        school=school,
        n=n,
        population=population,
        weight=weight,
        element_fpc=element_fpc,
        n_schools=len(design.schools),
        clustered=clustered,
        psu_count=m_schools,
        school_fpc=school_fpc,
    )


def _check_known_populations(group: np.ndarray, population: np.ndarray) -> None:
    """Within a group, populations are either all known or all unknown (weights need N_h)."""
    known = ~np.isnan(population)
    for g in np.unique(group):
        in_group = known[group == g]
        if in_group.any() and not in_group.all():
            raise ValueError(f"group {GROUPS[g]}: some strata lack a population")


def recognition_totals(totals: Sequence[CellTotals]) -> Totals:
    """Σy and Σy² of the strata with answers, aligned with build_cells."""
    answered = [t for t in totals if t.n > 0]
    return Totals(
        m=np.array([t.n for t in answered], dtype=float),
        s1=np.array([t.sum_y for t in answered], dtype=float),
        s2=np.array([t.sum_y2 for t in answered], dtype=float),
    )


def score_totals(totals: Sequence[CellTotals]) -> Totals | None:
    """0-100 score sums, when every stratum carries them."""
    answered = [t for t in totals if t.n > 0]
    if not answered or any(t.sum_score is None for t in answered):
        return None
    return Totals(
        m=np.array([t.n for t in answered], dtype=float),
        s1=np.array([t.sum_score for t in answered], dtype=float),
        s2=np.array([t.sum_score2 or 0.0 for t in answered], dtype=float),
    )


def item_totals(items: Sequence[ItemTotals]) -> tuple[list[str], np.ndarray, Totals, Totals | None]:
    """Item rows as (item names, item index per row, recognition totals, score totals).

    Each row belongs to a stratum (see ``cell_of``): item domains share the strata's
    n_h, weights and fpc. Recognition is 0/1 per answer, so Σx² = Σx.
    """
    names = list(dict.fromkeys(i.item for i in items))
    rated = np.array([i.n_rated for i in items], dtype=float)
    recognised = np.array([i.n_recognised for i in items], dtype=float)
    scores = None
    if items and all(i.sum_score is not None for i in items):
        scores = Totals(
            m=rated,
            s1=np.array([i.sum_score for i in items], dtype=float),
            s2=np.array([i.sum_score2 or 0.0 for i in items], dtype=float),
        )
    return (
        names,
        np.array([names.index(i.item) for i in items], dtype=np.int64),
        Totals(m=rated, s1=recognised, s2=recognised),
        scores,
    )


def cell_of(totals: Sequence[CellTotals], items: Sequence[ItemTotals]) -> np.ndarray:
    """Index of each item row's stratum among the answered CellTotals."""
    answered = [(t.school, t.group) for t in totals if t.n > 0]
    index = {key: i for i, key in enumerate(answered)}
    try:
        return np.array([index[(i.school, i.group)] for i in items], dtype=np.int64)
    except KeyError as missing:
        raise ValueError(f"item answers for a stratum without respondents: {missing}") from None


def take(cells: CellTable, rows: np.ndarray) -> CellTable:
    """The CellTable repeated along ``rows`` (item rows share their stratum's design)."""
    return CellTable(
        group=cells.group[rows],
        school=cells.school[rows],
        n=cells.n[rows],
        population=cells.population[rows],
        weight=cells.weight[rows],
        element_fpc=cells.element_fpc[rows],
        n_schools=cells.n_schools,
        clustered=cells.clustered,
        psu_count=cells.psu_count,
        school_fpc=cells.school_fpc,
    )
