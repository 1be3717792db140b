"""认可 share per school × item, which the round's SurveyResult does not break down.

Inside a school × group stratum every respondent has the same weight N_h/n_h, so the weighted 认可
share of an item there is the plain share of its rated answers; the school's share combines its
groups with the round's group weights renormalised over the groups that rated the item, as the
analysis library does for every domain (analysis.group_weights). Point estimates only: the heatmap
shows where to look, the tables beside it give the intervals of schools and of items.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analysis import GROUPS, Settings
from analysis.group_weights import base_weights, normalise
from survey_service.console.answer_sheet import ItemCounts
from survey_service.groups import SCHOOL_GROUPS
from survey_service.schools.tables import School
from survey_service.surveys.tables import Survey

Shares = dict[str, dict[str, tuple[float, int]]]  # school code -> item id -> (share, rated answers)


async def round_weights(survey_id: int) -> tuple[Settings, np.ndarray]:
    """The round's group-weight setting and the base weights it gives (before renormalising)."""
    survey = await (Survey.select(Survey.group_weights).where(Survey.id == survey_id).first()
                    .output(load_json=True))
    settings = Settings(group_weights=(survey or {}).get("group_weights") or "default")
    schools = await School.select().where(School.survey == survey_id)
    populations = {g.value: sum(s[f"{g.value}s"] for s in schools) for g in SCHOOL_GROUPS}
    return settings, base_weights(settings, populations)


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


def visible_share(shares: Shares, school: str, item: str, min_cell: int,
                  school_shown: bool) -> float | None:
    """The share to show, or None: the school is suppressed or the item has too few answers there."""
    share, rated = shares.get(school, {}).get(item, (None, 0))
    return share if school_shown and rated >= min_cell else None


def ordered_items(result_items: list[str], labels: Mapping[str, str]) -> list[str]:
    """Items in questionnaire order (the order of `labels`), those with answers only."""
    answered = set(result_items)
    return [item for item in labels if item in answered]
