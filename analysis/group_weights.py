"""Group weights a_g of the overall 社会认可度 P = Σ a_g p_g.

Presets: ``default`` mirrors the sampling rule (家长 0.5, the other groups with answers
share 0.5 equally); ``population`` weighs groups by their known population (groups
without a known population, such as 其他群众, are left out and a note says so);
``equal`` gives every group with answers the same weight. A dict gives explicit weights.
Weights are renormalised over the groups present in the domain being summarised.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from analysis.design import GROUPS, Group, Settings

PARENT_SHARE = 0.5


def base_weights(settings: Settings, group_population: Mapping[Group, float]) -> np.ndarray:
    """Unnormalised weight per group (in GROUPS order) before looking at answers."""
    preset = settings.group_weights
    if isinstance(preset, dict):
        return np.array([float(preset.get(g, 0.0)) for g in GROUPS])
    if preset == "population":
        return np.array([float(group_population.get(g) or 0.0) for g in GROUPS])
    return np.ones(len(GROUPS))


def normalise(settings: Settings, base: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Weights over present groups (rows: domains, columns: GROUPS) summing to 1 per row."""
    present = np.atleast_2d(present).astype(bool)
    a = np.where(present, base, 0.0)
    if settings.group_weights == "default":
        parent = GROUPS.index("parent")
        others = a.sum(axis=1) - a[:, parent]
        has_parent = present[:, parent]
        # 家长 take PARENT_SHARE when present and other groups answered too.
        scale_others = np.where(has_parent & (others > 0), (1 - PARENT_SHARE), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(others[:, None] > 0, a * scale_others[:, None] / others[:, None], a)
        a[:, parent] = np.where(has_parent, np.where(others > 0, PARENT_SHARE, 1.0), 0.0)
    total = a.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, a / np.where(total > 0, total, 1), 0.0)
