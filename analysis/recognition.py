"""A respondent's recognition y (认可度) and 0-100 score from its item answers.

y is the weighted share of the rated items answered with a 认可 option (满意 / 比较满意 /
基本满意, or 认可 / 基本认可). Items answered with an excluded option (不了解) are left
out of the denominator. When the questionnaire declares an overall item (总体评价), y is
1 or 0 from that item alone. No counting item: None (the questionnaire is not valid).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np


class ItemAnswer(msgspec.Struct, kw_only=True, frozen=True):
    recognised: bool  # the chosen option counts as 认可
    excluded: bool = False  # the chosen option is left out (不了解)
    weight: float = 1.0  # the item's weight in y
    score: float | None = None  # the chosen option's 0-100 score


def recognition_and_score(
    answers: Sequence[ItemAnswer], overall: ItemAnswer | None = None
) -> tuple[float | None, float | None]:
    """(recognition(), score()) in one pass over the items: what every stored answer needs."""
    total = agreed = scored = points = 0.0
    for answer in [overall] if overall is not None else answers:
        weight = answer.weight
        if answer.excluded or weight <= 0:
            continue
        total += weight
        if answer.recognised:
            agreed += weight
        if answer.score is not None:
            scored += weight
            points += weight * answer.score
    return (agreed / total if total > 0 else None), (points / scored if scored > 0 else None)


def recognition(answers: Sequence[ItemAnswer], overall: ItemAnswer | None = None) -> float | None:
    """y in [0, 1]: the weighted 认可 share of the counted items; None when none counts."""
    return recognition_and_score(answers, overall)[0]


def score(answers: Sequence[ItemAnswer], overall: ItemAnswer | None = None) -> float | None:
    """The weighted mean 0-100 score of the counted items that carry a score."""
    return recognition_and_score(answers, overall)[1]


def recognition_matrix(recognised: np.ndarray, excluded: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """recognition() for many respondents: rows are respondents, columns items; nan: None."""
    counted = ~np.asarray(excluded, dtype=bool)
    return _share(np.where(counted, np.asarray(recognised, dtype=bool), False), counted, weights)


def score_matrix(values: np.ndarray, excluded: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """score() for many respondents: Σ w·score / Σ w over items not excluded (nan: None)."""
    values = np.asarray(values, dtype=float)
    counted = ~np.asarray(excluded, dtype=bool) & ~np.isnan(values)
    return _share(np.where(counted, values, 0.0), counted, weights)


def _share(values: np.ndarray, counted: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    w = np.ones(values.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    total = counted.astype(float) @ w  # float matmul: a bool matrix takes a slow path
    share = values.astype(float) @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, share / np.where(total > 0, total, 1), np.nan)
