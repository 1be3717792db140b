"""认可 share per school × item, which the round's SurveyResult does not break down.

Inside a school × group stratum every respondent has the same weight N_h/n_h, so the weighted 认可
share of an item there is the plain share of its rated answers; the school's share combines its
groups with the round's group weights renormalised over the groups that rated the item, as the
analysis library does for every domain (analysis.group_weights). Point estimates only: the heatmap
shows where to look, the tables beside it give the intervals of schools and of items.

The counts are the round result's own per-stratum item totals (results.service.stratum_item_totals),
from the tallies, which hold how often each option of each item was chosen among the counted answers
(valid, with a y): about one row per school × group, however many answers the round holds (reading
every answer took 4.9 s at 300,000 answers, on every page view).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np

from analysis import GROUPS, Settings
from analysis.design import group_populations
from analysis.group_weights import base_weights, normalise
from survey_service.questionnaire import Questionnaire
from survey_service.results.design import round_design, round_roster
from survey_service.results.service import stratum_item_totals

Shares = dict[str, dict[str, tuple[float, int]]]  # school code -> item id -> (share, rated answers)


@dataclasses.dataclass(frozen=True)
class ItemCount:
    rated: int = 0  # answers counted (not 不了解)
    recognised: int = 0


# (school code, group, item id) -> counts, over valid answers with a recognition value.
ItemCounts = dict[tuple[str, str, str], ItemCount]


async def school_item_counts(survey_id: int, questionnaires: Mapping[str, Questionnaire]) -> ItemCounts:
    """Rated and 认可 answers per school × group × rated item, as the round's result counts its items."""
    return {
        (item.school, item.group, item.item): ItemCount(rated=item.n_rated, recognised=item.n_recognised)
        for item in await stratum_item_totals(survey_id, questionnaires)
        if item.school is not None
    }


async def round_weights(survey_id: int) -> tuple[Settings, np.ndarray]:
    """The round's settings and the base group weights they give (before renormalising), as the round's
    result weighs its groups."""
    design = round_design(*await round_roster(survey_id))
    return design.settings, base_weights(design.settings, group_populations(design))


def school_item_shares(counts: ItemCounts, settings: Settings, base: np.ndarray) -> Shares:
    """Each school's combined 认可 share of each item it has rated answers for."""
    by_cell: dict[tuple[str, str], np.ndarray] = {}  # (school, item) -> [rated, recognised] per group
    for (school, group, item), count in counts.items():
        cell = by_cell.setdefault((school, item), np.zeros((2, len(GROUPS))))
        cell[:, GROUPS.index(group)] += (count.rated, count.recognised)
    shares: Shares = {}
    for (school, item), (rated, recognised) in by_cell.items():
        present = rated > 0
        weights = normalise(settings, base, present)[0]
        if weights.sum() <= 0:
            continue
        share = float(np.sum(weights[present] * recognised[present] / rated[present]))
        shares.setdefault(school, {})[item] = (share, int(rated.sum()))
    return shares


def visible_share(shares: Shares, school: str, item: str, min_cell: int, school_shown: bool) -> float | None:
    """The share to show, or None: the school is suppressed or the item has too few answers there."""
    share, rated = shares.get(school, {}).get(item, (None, 0))
    return share if school_shown and rated >= min_cell else None


def ordered_items(result_items: list[str], labels: Mapping[str, str]) -> list[str]:
    """Items in questionnaire order (the order of `labels`), those with answers only."""
    answered = set(result_items)
    return [item for item in labels if item in answered]
