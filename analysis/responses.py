"""Per-respondent data reduced to per-stratum totals (what the SQL aggregation returns).

Weights are constant inside a stratum, so both designs need only each stratum's
n, Σy, Σy² (and per item: rated and recognised counts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from analysis.design import CellTotals, ItemTotals


def _strata(schools: Sequence[str | None], groups: Sequence[str]):
    """Stratum index per respondent and the (school, group) of each stratum."""
    school = np.asarray(schools, dtype=object)
    school = np.where(school == None, "", school).astype(str)  # noqa: E711 (elementwise)
    school_codes, school_index = np.unique(school, return_inverse=True)
    group_codes, group_index = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    key = school_index * len(group_codes) + group_index
    present = np.bincount(key, minlength=len(school_codes) * len(group_codes)) > 0
    keys = np.flatnonzero(present)  # an O(n) unique for small integer keys
    index = (np.cumsum(present) - 1)[key]
    strata = [(str(school_codes[k // len(group_codes)]) or None, str(group_codes[k % len(group_codes)])) for k in keys]
    return strata, index


def _sums(index: np.ndarray, values: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    return (np.bincount(index, weights=values, minlength=size), np.bincount(index, weights=values**2, minlength=size))


def totals_from_responses(
    schools: Sequence[str | None],
    groups: Sequence[str],
    y: np.ndarray,
    score: np.ndarray | None = None,
    item_names: Sequence[str] = (),
    item_recognised: np.ndarray | None = None,
    item_excluded: np.ndarray | None = None,
    item_scores: np.ndarray | None = None,
) -> tuple[list[CellTotals], list[ItemTotals]]:
    """Stratum totals of y (nan: not valid, left out) and of each item's answers.

    item_* arrays have one row per respondent and one column per item name; an item
    not shown or answered 不了解 is marked excluded.
    """
    y = np.asarray(y, dtype=float)
    valid = ~np.isnan(y)
    strata, index = _strata(np.asarray(schools, dtype=object)[valid], np.asarray(groups, dtype=object)[valid])
    size = len(strata)
    n = np.bincount(index, minlength=size)
    s1, s2 = _sums(index, y[valid], size)
    sc1 = sc2 = None
    if score is not None:
        sc1, sc2 = _sums(index, np.nan_to_num(np.asarray(score, dtype=float)[valid]), size)
    cells = [
        CellTotals(
            school=school,
            group=group,
            n=int(n[k]),
            sum_y=float(s1[k]),
            sum_y2=float(s2[k]),
            sum_score=None if sc1 is None else float(sc1[k]),
            sum_score2=None if sc2 is None else float(sc2[k]),
        )
        for k, (school, group) in enumerate(strata)
    ]
    items = []
    if item_recognised is not None and item_excluded is not None:
        items = _item_totals(
            strata,
            index,
            item_names,
            np.asarray(item_recognised)[valid],
            np.asarray(item_excluded)[valid],
            None if item_scores is None else np.asarray(item_scores)[valid],
        )
    return cells, items


def _item_totals(strata, index, names, recognised, excluded, scores) -> list[ItemTotals]:
    size, n_items = len(strata), len(names)
    slot = (index[:, None] * n_items + np.arange(n_items)).ravel()  # stratum x item

    def per_stratum_item(values: np.ndarray) -> np.ndarray:
        return np.bincount(slot, weights=values.ravel(), minlength=size * n_items).reshape(size, n_items)

    rated = ~np.asarray(excluded, dtype=bool)
    counts = per_stratum_item(rated.astype(float))
    hits = per_stratum_item((rated & np.asarray(recognised, dtype=bool)).astype(float))
    sc1 = sc2 = None
    if scores is not None:
        rated_scores = np.where(rated, np.nan_to_num(np.asarray(scores, dtype=float)), 0.0)
        sc1, sc2 = per_stratum_item(rated_scores), per_stratum_item(rated_scores**2)
    return [
        ItemTotals(
            item=name,
            school=school,
            group=group,
            n_rated=int(counts[k, j]),
            n_recognised=int(hits[k, j]),
            sum_score=None if sc1 is None else float(sc1[k, j]),
            sum_score2=None if sc2 is None else float(sc2[k, j]),
        )
        for j, name in enumerate(names)
        for k, (school, group) in enumerate(strata)
        if counts[k, j] > 0
    ]
